"""Write an Analysis as CSV (one row per sample) or as a self-contained HTML report.

The HTML report has no external references (no CDN, no fonts): the data is embedded as JSON and a small
script draws the emotion-over-time chart as SVG, with a hover readout of every value at that moment. Its
colours are the web app's, from the one palette file both read (`palette.json` beside this module), and
its times follow the web app's rule (cut, never rounded up: "0:33" for 33.6 s; ticks on round steps).
"""

from __future__ import annotations

import csv
import html
import io
import json
import math
from functools import cache
from pathlib import Path
from typing import Any

from chalicelib.engine.labels import LABELS, REACTIONS

#: The one palette: frontend/src/lib/emotions.ts imports the same file (package data, so it ships with
#: chalicelib wherever it is installed).
PALETTE_PATH = Path(__file__).with_name("palette.json")


@cache
def palette() -> dict[str, Any]:
    """`emotions` and `reactions` (name -> CSS colour) and `none` (no face), as the web app draws them."""
    loaded: dict[str, Any] = json.loads(PALETTE_PATH.read_text(encoding="utf-8"))
    return loaded


def to_csv(analysis: dict[str, Any]) -> str:
    """Per-sample rows: time, face count, the mean probability of each expression, the dominant one."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["t", "faces", *LABELS, "dominant"])
    for sample in analysis["timeline"]:
        emotions = sample.get("emotions") or {}
        values = [emotions.get(label, "") for label in LABELS]
        dominant = max(emotions, key=emotions.__getitem__) if emotions else ""
        writer.writerow([sample["t"], sample["faces"], *values, dominant])
    return out.getvalue()


def to_html(analysis: dict[str, Any], title: str) -> str:
    """A single HTML file with the summary cards and the interactive emotion-over-time chart."""
    summary = analysis["summary"]
    colors, reaction_colors = palette()["emotions"], palette()["reactions"]
    duration = analysis["video"]["duration"]
    has_reactions = any("reactions" in s for s in analysis["timeline"])
    series = [*REACTIONS, "attention"] if has_reactions else []
    data = json.dumps(
        {
            "labels": analysis["labels"],
            "timeline": analysis["timeline"],
            "colors": {**colors, **reaction_colors},
            "none": palette()["none"],
            "duration": duration,
            "ticks": [[t, tick_label(t)] for t in time_ticks(duration)],
            "reactions": series,
        },
        separators=(",", ":"),
    ).replace("</", "<\\/")
    cards = "".join(
        f'<div class="card"><div class="k">{html.escape(k)}</div><div class="v">{html.escape(v)}</div>'
        + (f'<div class="h">{html.escape(hint)}</div>' if hint else "")
        + "</div>"
        for k, v, hint in _cards(analysis)
    )
    moments = (
        "".join(
            f"<li>{format_time(m['t'])} &mdash; {html.escape(m['label'])} ({m['score']:.2f})</li>"
            for m in summary["key_moments"]
        )
        or "<li>none</li>"
    )
    distribution = "".join(
        f'<div class="bar"><span>{label}</span><i style="width:{100 * share:.1f}%;'
        f'background:{colors.get(label, palette()["none"])}"></i><b>{100 * share:.1f}%</b></div>'
        for label, share in summary["distribution"].items()
    )
    reactions_figure = (
        '<figure aria-label="Reactions timeline"><figcaption>Reactions and attention over time (mean over '
        "faces; heuristics read from the face, see docs/analysis.md). "
        + "".join(f'<span style="color:{reaction_colors[n]}">&#9632; {n}</span> ' for n in series)
        + '</figcaption><svg id="reactions" viewBox="0 0 1000 320" role="img" aria-label="reactions chart">'
        '</svg><div id="rtip" class="tip" role="status"></div></figure>'
        if series
        else ""
    )
    template = (Path(__file__).parent / "templates" / "report.html").read_text(encoding="utf-8")
    return template.format(
        title=html.escape(title),
        reactions_figure=reactions_figure,
        cards=cards,
        moments=moments,
        distribution=distribution,
        data=data,
        legend="".join(f'<span style="color:{colors[label]}">&#9632; {label}</span> ' for label in LABELS),
    )


#: Tick steps in seconds: round to a person reading a clock (never 3.4 s or 6.7 s).
TICK_STEPS = (0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)


def time_ticks(duration: float, most: int = 10) -> list[float]:
    """Round tick times (0, 5, 10 s ... or 0, 1, 2 min ...): at most `most` steps, ending at or before the
    end (the chart anchors a label at its right edge by its end, so the last one is never cut off)."""
    for step in TICK_STEPS:
        if duration / step <= most:
            break
    return [round(i * step, 1) for i in range(int(duration // step + 1e-9) + 1)]


def tick_label(seconds: float) -> str:
    """The web app's axis labels (format.ts `formatTick`): "0:05" on whole seconds, "0:02.5" between."""
    return format_duration(seconds) if float(seconds).is_integer() else format_time(seconds)


def format_time(seconds: float) -> str:
    """A moment with tenths, "0:02.8" (or "1:02:05.2"), cut to tenths (format.ts `formatTime`): 59.96 s is
    "0:59.9", inside a "0:59" video."""
    tenths = max(0, math.floor(seconds * 10 + 1e-6)) if math.isfinite(seconds) else 0
    whole, tenth = divmod(tenths, 10)
    return f"{format_duration(whole)}.{tenth}"


def format_duration(seconds: float) -> str:
    """A duration as "m:ss" (or "h:mm:ss"), cut to whole seconds, never rounded up.

    The web app's rule too (frontend/src/lib/format.ts `formatDuration`): video players show their clock
    that way, so a 33.6 s video reads 0:33 in the CLI, the app and the player alike.
    """
    total = max(0, math.floor(seconds + 1e-6)) if math.isfinite(seconds) else 0
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _cards(analysis: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(name, value, hint) of each summary card; attention, looking away and blinks only with signals."""
    s, v = analysis["summary"], analysis["video"]
    extra = []
    if "attention" in s:
        extra.append(("Attention", f"{100 * s['attention']:.0f}%", "turned toward the camera"))
    if "looking_away" in s:
        extra.append(("Looking away", f"{100 * s['looking_away']:.0f}%", "turned away from the camera"))
    if "blinks_per_minute" in s:
        fps = analysis["model"].get("sample_fps")
        bound = f"a lower bound at {fps:g} samples/s" if fps else "a lower bound"
        extra.append(("Blinks per minute", f"{s['blinks_per_minute']:.1f}", bound))
    extra += [
        (name.capitalize(), f"{100 * r['mean']:.0f}%", "") for name, r in s.get("reactions", {}).items()
    ]
    return [
        ("Dominant emotion", s["dominant"] or "no face", ""),
        ("Valence", f"{s['valence']:+.2f}", ""),
        ("Expressiveness", f"{s['expressiveness']:.2f}", ""),
        ("Face presence", f"{100 * s['face_presence']:.0f}%", ""),
        ("Faces tracked", str(len(analysis["faces"])), ""),
        ("Duration", format_duration(v["duration"]), ""),
        *extra,
    ]
