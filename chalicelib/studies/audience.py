"""The audience curve: many viewers' Analysis timelines put on one content-time grid, averaged with a
95% band, with the moments where the audience reacted together (definitions in docs/analysis.md,
"Audience curve"). Pure functions, no I/O: the backend reads, caches and serves.

Standard library only: the API function that serves the curves is a zip without numpy (the engine lives in
the pipeline image; tests/test_layer.py imports and runs this module with numpy blocked)."""

from __future__ import annotations

import csv
import io
import math
import statistics
from bisect import bisect_right
from dataclasses import dataclass
from functools import cache
from operator import add, itemgetter
from typing import Any

from chalicelib.engine.labels import LABELS, REACTIONS

SERIES: tuple[str, ...] = (*LABELS, "attention", *REACTIONS)
DEFAULT_STEP = 0.5
MIN_STEP = 0.1
MAX_STEP = 10.0
#: Grid points per curve, and per comparison (two curves and their difference on the longer grid): the
#: largest that keep the JSON response under 5 MB (Lambda answers at most 6 MB) with every number at
#: its longest and 1000 viewers listed; tests/unit/test_audience.py measures it.
MAX_POINTS = 15000
MAX_COMPARE_POINTS = 6000
#: Moments of one series are at least this many seconds apart, and each is the extreme of its series
#: over the points less than this many seconds away.
MOMENT_SEPARATION = 5.0
MAX_MOMENTS = 12
#: A moment stands at least this far (in probability) from its series' median.
MOMENT_MIN_DELTA = 0.1
_ROUND = 4
#: Times are compared at microsecond precision, so a sample written on a bin edge (0.25) falls on the
#: later point however the float sum came out.
_TIME_DECIMALS = 6
#: Content times at least this far out lie on no grid (15000 points of at most 10 s) and would overflow
#: their microsecond rounding: such a sample is skipped like one with no time.
_FAR = 1e12
_COMPARING = " to compare two studies"
_LABEL_VALUES = itemgetter(*LABELS)
_REACTION_VALUES = itemgetter(*REACTIONS)
_Z975 = 1.959963984540054
#: Up to this many degrees of freedom the t quantile is solved from the exact CDF; above, the series
#: expansion (Abramowitz & Stegun 26.7.5) is within 1e-10 of it.
_EXACT_DF = 100


class StepError(ValueError):
    """A grid step the curve cannot be computed on; `code` is the API error code."""

    def __init__(self, message: str, code: str = "invalid_step") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class ViewerInput:
    """One viewer: the Analysis `timeline` of their recording, and where recording time 0 falls on the
    content (content time = recording time + offset)."""

    id: str
    offset: float
    timeline: list[dict[str, Any]]


def _check_step(step: float) -> float:
    if isinstance(step, bool) or not isinstance(step, int | float) or not math.isfinite(step):
        raise StepError("The step must be a number of seconds.")
    if step < MIN_STEP:
        raise StepError(f"The step must be at least {MIN_STEP} s.", "step_too_small")
    if step > MAX_STEP:
        raise StepError(f"The step must be at most {MAX_STEP} s.")
    return float(step)


def _limit_points(points: int, duration: float, step: float, limit: int, purpose: str) -> None:
    """StepError `step_too_small` when a grid has more than `limit` points, naming the smallest step
    (rounded up to 0.01 s) that fits the duration."""
    if points > limit:
        smallest = math.ceil(duration / (limit - 1) * 100) / 100
        raise StepError(
            f"A step of {step:g} s gives {points} points for {duration:g} s of content (at most "
            f"{limit}{purpose}); use a step of at least {smallest:g} s.",
            "step_too_small",
        )


def _grid(duration: float, step: float, limit: int, purpose: str) -> list[float]:
    step = _check_step(step)
    if isinstance(duration, bool) or not math.isfinite(duration) or duration <= 0:
        raise ValueError("The duration must be a positive number of seconds.")
    points = math.floor(duration / step + 1e-9) + 1
    _limit_points(points, duration, step, limit, purpose)
    return [round(k * step, _TIME_DECIMALS) for k in range(points)]


def grid(duration: float, step: float) -> list[float]:
    """Content times t_k = k * step, k = 0..floor(duration / step); StepError when the step is out of
    range or gives more than MAX_POINTS points (the message says the smallest step that fits)."""
    return _grid(duration, step, MAX_POINTS, "")


def compare_grid(duration: float, step: float) -> list[float]:
    """The grid of a comparison, `duration` being the longer content's: as `grid`, with at most
    MAX_COMPARE_POINTS points (checked before either curve is computed)."""
    return _grid(duration, step, MAX_COMPARE_POINTS, _COMPARING)


#: A chart of the web app draws about this many grid points at most (see display_step).
DISPLAY_POINTS = 2000


def display_step(duration: float) -> float:
    """The step a curve is shown on, and so the API's default and the one precomputed when a viewer's
    analysis ends: DEFAULT_STEP, coarser by multiples of it for long content so a chart has at most about
    DISPLAY_POINTS points (1000 s: 0.5; 1001 s: 1.0; 3600 s: 2.0); never above MAX_STEP, so the default is
    always a valid step. One rule, here: the web app omits the step and reads the response's."""
    if isinstance(duration, bool) or not math.isfinite(duration) or duration <= 0:
        return DEFAULT_STEP
    coarser = math.ceil(duration / DISPLAY_POINTS / DEFAULT_STEP) * DEFAULT_STEP
    return float(min(MAX_STEP, max(DEFAULT_STEP, coarser)))


def _microseconds(x: float) -> float:
    """x on the microsecond: x * 1e6 rounded half to even, divided back (numpy's round, which the curve
    has always used for sample times and bin edges)."""
    return round(x * 1_000_000) / 1_000_000


def _edges(t: list[float], step: float) -> tuple[list[float], float]:
    """The grid points' lower bin edges (sorted, for bisect) and the end of the last bin (rounded with
    Python's round, as it always was; the two roundings differ only on an exact half microsecond)."""
    lower = [_microseconds(x - step / 2) for x in t]
    end = round(t[-1] + step / 2, _TIME_DECIMALS) if t else -math.inf
    return lower, end


def _values(sample: dict[str, Any]) -> tuple[tuple[Any, ...], bool]:
    """A sample's values in SERIES order (None where it lacks a field), and whether all of them are
    finite numbers (the usual sample: its row is added at once)."""
    try:
        emotions, reactions = _LABEL_VALUES(sample["emotions"]), _REACTION_VALUES(sample["reactions"])
        values = (*emotions, sample["attention"], *reactions)
    except (KeyError, TypeError):  # a field missing: look each one up
        emotions = sample.get("emotions") or {}
        reactions = sample.get("reactions") or {}
        return (*map(emotions.get, LABELS), sample.get("attention"), *map(reactions.get, REACTIONS)), False
    try:
        return values, math.isfinite(sum(values))  # a NaN (skipped) or an infinity goes one by one
    except TypeError:  # a null field
        return values, False


def _binned(viewer: ViewerInput, lower: list[float], end: float) -> dict[int, list[float | None]]:
    """Per grid point where the viewer shows a face: their mean of each series (SERIES order) over
    their samples with a face in that point's bin, None for a series no such sample carries (a field
    missing, null, NaN or infinite is skipped). One pass over the timeline in its order, each bin found
    by bisect on the sorted lower edges, sums added up sample after sample."""
    sums: dict[int, list[float]] = {}
    counts: dict[int, list[int]] = {}
    complete: dict[int, int] = {}  # samples with every series, not in `counts`
    offset = float(viewer.offset)
    for sample in viewer.timeline:
        if not (sample.get("faces") or 0) > 0 or sample["t"] is None:
            continue
        content = float(sample["t"]) + offset
        if not (math.isfinite(content) and abs(content) < _FAR):
            continue
        content = _microseconds(content)
        k = bisect_right(lower, content) - 1
        if k < 0 or not content < end:
            continue
        if k not in sums:
            sums[k], counts[k], complete[k] = [0.0] * len(SERIES), [0] * len(SERIES), 0
        values, whole = _values(sample)
        if whole:
            sums[k] = list(map(add, sums[k], values))
            complete[k] += 1
            continue
        row, count = sums[k], counts[k]
        for j, value in enumerate(values):
            if value is not None and math.isfinite(value):  # NaN and infinities skipped
                row[j] += value
                count[j] += 1
    means: dict[int, list[float | None]] = {}
    for k, row in sums.items():
        n_complete = complete[k]
        means[k] = [
            total / (n + n_complete) if n + n_complete else None
            for total, n in zip(row, counts[k], strict=True)
        ]
    return means


def _rounded(values: list[float | None]) -> list[float | None]:
    return [None if v is None else round(v, _ROUND) for v in values]


def viewer_curve(viewer: ViewerInput, t: list[float], step: float) -> dict[str, list[float | None]]:
    """One viewer's value per series at each grid time: the mean of their samples with a face in
    [t - step/2, t + step/2) of content time; None where there is none."""
    step = _check_step(step)
    columns: list[list[float | None]] = [[None] * len(t) for _ in SERIES]
    for k, means in _binned(viewer, *_edges(t, step)).items():
        for column, value in zip(columns, means, strict=True):
            column[k] = value
    return {name: _rounded(column) for name, column in zip(SERIES, columns, strict=True)}


def _t_mass(x: float, df: int) -> float:
    """P(|T| < x) for Student's t with integer df (the closed forms in Abramowitz & Stegun 26.7.3)."""
    theta = math.atan(x / math.sqrt(df))
    c2 = math.cos(theta) ** 2
    if df % 2:
        total, term = 0.0, 1.0
        for j in range(1, (df - 1) // 2 + 1):
            total += term
            term *= 2 * j / (2 * j + 1) * c2
        inner = math.sin(theta) * math.cos(theta) * total if df > 1 else 0.0
        return 2 / math.pi * (theta + inner)
    total, term = 0.0, 1.0
    for j in range(1, df // 2 + 1):
        total += term
        term *= (2 * j - 1) / (2 * j) * c2
    return math.sin(theta) * total


@cache
def t_quantile_975(df: int) -> float:
    """The 0.975 quantile of Student's t with df degrees of freedom (the 95% two-sided factor)."""
    if df < 1:
        raise ValueError("df must be at least 1")
    if df > _EXACT_DF:
        z, v = _Z975, float(df)
        g1 = (z**3 + z) / 4
        g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
        g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384
        g4 = (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160
        return z + g1 / v + g2 / v**2 + g3 / v**3 + g4 / v**4
    low, high = 0.0, 64.0
    for _ in range(80):
        mid = (low + high) / 2
        low, high = (mid, high) if _t_mass(mid, df) < 0.95 else (low, mid)
    return (low + high) / 2


def _bands(
    count: list[int], total: list[float], total_sq: list[float]
) -> tuple[list[float | None], list[float | None], list[float | None]]:
    """Per point, from the viewers' count, sum and sum of squares: the mean and its 95% Student-t band
    (clipped to [0, 1]), rounded; no band for one viewer, nothing for none."""
    mean: list[float | None] = []
    low: list[float | None] = []
    high: list[float | None] = []
    for n, s, sq in zip(count, total, total_sq, strict=True):
        m = s / n if n else math.nan
        bounds: tuple[float | None, float | None] = (None, None)
        if n > 1:
            var = max(sq - n * m * m, 0.0) / (n - 1)
            half = t_quantile_975(n - 1) * math.sqrt(var / n)
            bounds = (
                round(min(max(m - half, 0.0), 1.0), _ROUND),
                round(min(max(m + half, 0.0), 1.0), _ROUND),
            )
        mean.append(round(m, _ROUND) if n else None)
        low.append(bounds[0])
        high.append(bounds[1])
    return mean, low, high


def audience_curve(duration: float, step: float, viewers: list[ViewerInput]) -> dict[str, Any]:
    """The audience on the content grid: per point, n (viewers with a face) and per series the mean of
    the viewers' values with its 95% Student-t band, and the audience's moments."""
    t = grid(duration, step)
    lower, end = _edges(t, step)
    # Running sums per series and point, over the viewers that have a value there.
    count = [[0] * len(t) for _ in SERIES]
    total = [[0.0] * len(t) for _ in SERIES]
    total_sq = [[0.0] * len(t) for _ in SERIES]
    n_faces = [0] * len(t)
    for viewer in viewers:
        for k, means in _binned(viewer, lower, end).items():
            n_faces[k] += 1
            for j, value in enumerate(means):
                if value is not None:
                    count[j][k] += 1
                    total[j][k] += value
                    total_sq[j][k] += value * value
    mean: dict[str, list[float | None]] = {}
    low: dict[str, list[float | None]] = {}
    high: dict[str, list[float | None]] = {}
    for j, name in enumerate(SERIES):
        mean[name], low[name], high[name] = _bands(count[j], total[j], total_sq[j])
    curve: dict[str, Any] = {
        "duration": round(float(duration), _ROUND),
        "step": step,
        "t": [round(x, _ROUND) for x in t],
        "n": n_faces,
        "series": list(SERIES),
        "mean": mean,
        "low": low,
        "high": high,
    }
    differs = {name: count[j] for j, name in enumerate(SERIES) if count[j] != n_faces}
    curve["moments"] = _moments(curve, differs)
    if differs:
        curve["n_by_series"] = differs
    return curve


def _moments(curve: dict[str, Any], n_by_series: dict[str, list[int]]) -> list[dict[str, Any]]:
    """Peaks and dips of each series where at least half the best-covered point's viewers have a value:
    the extreme of the points less than MOMENT_SEPARATION away, at least MOMENT_MIN_DELTA from the
    series' median with the band (if any) not reaching it, MOMENT_SEPARATION apart; strongest first,
    MAX_MOMENTS in all."""
    n_faces = curve["n"]
    if not n_faces or max(n_faces) == 0:
        return []
    need = max(1, math.ceil(max(n_faces) / 2))
    window = math.ceil(MOMENT_SEPARATION / curve["step"] - 1e-9) - 1  # points less than 5 s away
    found: list[tuple[float, dict[str, Any]]] = []
    for name in curve["series"]:
        n = n_by_series.get(name, n_faces)
        mean = curve["mean"][name]
        eligible = [i for i, value in enumerate(mean) if value is not None and n[i] >= need]
        if not eligible:
            continue
        median = statistics.median(mean[i] for i in eligible)
        chosen: list[tuple[float, dict[str, Any]]] = []
        for kind, sign in (("peak", 1.0), ("dip", -1.0)):
            signed = [-math.inf] * len(mean)
            for i in eligible:
                signed[i] = sign * mean[i]
            for i in eligible:
                delta = sign * (mean[i] - median)
                if delta < MOMENT_MIN_DELTA:
                    continue
                low, high = curve["low"][name][i], curve["high"][name][i]
                bound = low if kind == "peak" else high
                if bound is not None and sign * (bound - median) <= 0:
                    continue  # the band reaches the baseline
                if signed[i] < max(signed[max(0, i - window) : i + window + 1]):
                    continue  # not the extreme of its neighbourhood
                moment = {
                    "series": name,
                    "kind": kind,
                    "t": curve["t"][i],
                    "value": mean[i],
                    "low": low,
                    "high": high,
                    "n": n[i],
                }
                chosen.append((delta, moment))
        kept: list[tuple[float, dict[str, Any]]] = []
        for delta, moment in sorted(chosen, key=lambda c: (-c[0], c[1]["t"])):
            if len(kept) == MAX_MOMENTS:
                break  # the series' weaker ones cannot make the overall cut
            if all(abs(moment["t"] - other["t"]) >= MOMENT_SEPARATION - 1e-9 for _, other in kept):
                kept.append((delta, moment))
        found.extend(kept)
    order = {name: i for i, name in enumerate(curve["series"])}
    found.sort(key=lambda c: (-c[0], c[1]["t"], order[c[1]["series"]]))
    return [moment for _, moment in found[:MAX_MOMENTS]]


def _padded(curve: dict[str, Any], t: list[float]) -> dict[str, Any]:
    """The curve on a longer grid: n = 0 and null values on the added points."""
    extra = len(t) - len(curve["t"])
    out = dict(curve)
    out["t"] = list(t)
    out["n"] = list(curve["n"]) + [0] * extra
    for key in ("mean", "low", "high"):
        out[key] = {name: list(values) + [None] * extra for name, values in curve[key].items()}
    if "n_by_series" in curve:
        out["n_by_series"] = {name: list(v) + [0] * extra for name, v in curve["n_by_series"].items()}
    return out


def compare(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Two audience curves on one grid (the longer one's; the shorter padded with n = 0 and nulls) and
    per series the difference of the means, a - b, where both have one (null elsewhere). StepError
    when the steps differ or the common grid has more than MAX_COMPARE_POINTS points."""
    if not math.isclose(float(a["step"]), float(b["step"])):
        raise StepError("Both curves must be computed on the same step to be compared.")
    t = a["t"] if len(a["t"]) >= len(b["t"]) else b["t"]
    duration = max(float(a["duration"]), float(b["duration"]))
    _limit_points(len(t), duration, float(a["step"]), MAX_COMPARE_POINTS, _COMPARING)
    a, b = _padded(a, t), _padded(b, t)
    difference: dict[str, list[float | None]] = {}
    for name in a["series"]:
        if name not in b["mean"]:
            continue
        difference[name] = [
            None if x is None or y is None else round(x - y, _ROUND)
            for x, y in zip(a["mean"][name], b["mean"][name], strict=True)
        ]
    return {"t": list(t), "a": a, "b": b, "difference": difference}


def to_csv(curve: dict[str, Any]) -> str:
    """The curve as CSV (RFC 4180, CRLF): t, n, then mean, low and high of each series; empty cells for
    null."""
    out = io.StringIO()
    writer = csv.writer(out)
    series = curve["series"]
    writer.writerow(["t", "n", *(f"{name}_{part}" for name in series for part in ("mean", "low", "high"))])
    for i, t in enumerate(curve["t"]):
        cells: list[Any] = [t, curve["n"][i]]
        for name in series:
            for part in ("mean", "low", "high"):
                value = curve[part][name][i]
                cells.append("" if value is None else value)
        writer.writerow(cells)
    return out.getvalue()
