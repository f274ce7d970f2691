"""Merge segment results into the Analysis document: one timeline, stitched face tracks, a summary.

Stitching: a track that ends at the last samples of one segment and a track that starts at the first
samples of the next are the same face when their boxes overlap (or their centres are close). Smoothing: each
whole track's probabilities go through a two-sided exponential filter with a time constant in seconds
(engine/smoothing.py), after stitching, so segment boundaries do not show.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from chalicelib.engine.blinks import blinks_per_minute, track_blinks
from chalicelib.engine.eyelids import relative_openness
from chalicelib.engine.face_signals import attends
from chalicelib.engine.faces import Box
from chalicelib.engine.labels import LABELS, NEGATIVE, POSITIVE, REACTIONS
from chalicelib.engine.reactions import face_reactions
from chalicelib.engine.segment import CONFIRMED, SegmentResult
from chalicelib.engine.smoothing import SMOOTHING_POOLING, SMOOTHING_SECONDS, smooth_track
from chalicelib.engine.tracking import match_score
from chalicelib.engine.video import VideoInfo

#: 2: landmark signals and attention per face sample, attention per timeline sample, attention, looking
#: away and blink rates in the summary (new fields only: a format-1 reader reads a format-2 document).
#: 3: `signals.lids` (the iris model's lid gaps), and `signals.eyes` read from them where present, against
#: the face's usual lids (the same 0..1 scale; a format-2 reader reads a format-3 document).
ANALYSIS_FORMAT = 3
#: Tracks seen in fewer samples than this are taken for detector noise and dropped, unless the face mesh was
#: sure of a face in every one of their samples (`_kept`).
MIN_TRACK_SAMPLES = 3
KEY_MOMENTS = 5
#: A key moment is an expression held by the audience with at least this mean probability.
KEY_MOMENT_MIN_SCORE = 0.4
_ROUND = 4


def merge(
    video: VideoInfo, segments: list[SegmentResult], smoothing_seconds: float = SMOOTHING_SECONDS
) -> dict[str, Any]:
    """Build the Analysis document (see docs/analysis.md) from the results of all segments;
    `smoothing_seconds=0` keeps each sample's own reading."""
    if not segments:
        raise ValueError("merge needs at least one segment result")
    ordered = sorted(segments, key=lambda s: s.start)
    sample_fps = ordered[0].sample_fps
    times = sorted({t for seg in ordered for t, _ in seg.samples})
    tracks = [t for t in _stitch(ordered, sample_fps) if _kept(t)]
    faces = [_face_entry(i, points, smoothing_seconds, sample_fps) for i, points in enumerate(tracks)]

    by_time: dict[float, list[np.ndarray]] = defaultdict(list)
    extras_by_time: dict[float, list[dict[str, float]]] = defaultdict(list)
    attention_by_time: dict[float, list[bool]] = defaultdict(list)
    reactions_by_time: dict[float, list[dict[str, float]]] = defaultdict(list)
    for face in faces:
        for point in face["timeline"]:
            by_time[point["t"]].append(np.array([point["emotions"][label] for label in LABELS]))
            if "extra" in point:
                extras_by_time[point["t"]].append(point["extra"])
            if "attention" in point:
                attention_by_time[point["t"]].append(point["attention"])
            if "reactions" in point:
                reactions_by_time[point["t"]].append(point["reactions"])
    timeline = []
    for t in times:
        present = by_time.get(t, [])
        entry: dict[str, Any] = {"t": t, "faces": len(present)}
        if present:
            entry["emotions"] = _labelled(np.mean(present, axis=0))
        if extras_by_time.get(t):
            entry["extra"] = _mean_extras(extras_by_time[t])
        if attention_by_time.get(t):
            entry["attention"] = round(float(np.mean(attention_by_time[t])), _ROUND)
        if reactions_by_time.get(t):
            entry["reactions"] = {
                name: round(float(np.mean([r[name] for r in reactions_by_time[t]])), _ROUND)
                for name in REACTIONS
            }
        timeline.append(entry)

    model = dict(ordered[0].model)
    return {
        "format": ANALYSIS_FORMAT,
        "video": {
            "duration": video.duration,
            "fps": video.fps,
            "width": video.width,
            "height": video.height,
            "rotation": video.rotation,
            "codec": video.codec,
        },
        "labels": list(LABELS),
        "timeline": timeline,
        "faces": faces,
        "summary": summarize(timeline, sample_fps, faces),
        "model": {
            **model,
            "sample_fps": sample_fps,
            "smoothing": {
                "filter": "two-sided exponential",
                "pooling": SMOOTHING_POOLING,
                "tau": smoothing_seconds,
            },
        },
        "segments": len(ordered),
    }


Point = dict[str, Any]


def _kept(track: list[Point]) -> bool:
    """A track long enough, or a short one that two models agree is a face: the detector found it and the
    face mesh's face flag was at least `CONFIRMED` in every sample. Where a handheld camera swings, a face
    seen for one or two samples in a new place is a track of its own; the detector's mistakes on the
    fixture videos and on textures scored 0.1 at most with the mesh."""
    return len(track) >= MIN_TRACK_SAMPLES or all(p.get("m", 0.0) >= CONFIRMED for p in track)


def _stitch(segments: list[SegmentResult], sample_fps: float) -> list[list[Point]]:
    """Join track fragments across segment boundaries; returns the points of each whole track."""
    reach = max(1.0, 2.0 / sample_fps) + 1e-6
    whole: list[list[Point]] = []
    open_tracks: list[list[Point]] = []  # whole tracks that reach the end of the previous segment
    for seg in segments:
        fragments = [sorted(f["points"], key=lambda p: p["t"]) for f in seg.tracks if f["points"]]
        candidates = [
            (score, oi, fi)
            for oi, track in enumerate(open_tracks)
            for fi, frag in enumerate(fragments)
            if frag[0]["t"] - track[-1]["t"] <= reach
            and (score := match_score(_box(track[-1]["box"]), _box(frag[0]["box"]))) > 0
        ]
        joined: dict[int, int] = {}
        used: set[int] = set()
        for _, oi, fi in sorted(candidates, reverse=True):
            if oi not in used and fi not in joined:
                used.add(oi)
                joined[fi] = oi
        next_open = []
        for fi, frag in enumerate(fragments):
            if fi in joined:
                open_tracks[joined[fi]].extend(frag)
                track = open_tracks[joined[fi]]
            else:
                track = list(frag)
                whole.append(track)
            if seg.end - track[-1]["t"] <= reach:
                next_open.append(track)
        open_tracks = next_open
    return sorted(whole, key=lambda points: (points[0]["t"], points[0]["box"][0]))


def _box(values: list[int]) -> Box:
    return (values[0], values[1], values[2], values[3])


def _face_entry(
    face_id: int, points: list[Point], smoothing_seconds: float, sample_fps: float
) -> dict[str, Any]:
    probs = np.array([p["p"] for p in points], dtype=np.float64)
    times = np.array([p["t"] for p in points])
    smoothed = smooth_track(probs, times, smoothing_seconds)
    signals = _with_eyelids([p.get("s") for p in points])
    reactions = face_reactions(times.tolist(), smoothed, signals)
    timeline = []
    for p, row, reaction, signal in zip(points, smoothed, reactions, signals, strict=True):
        entry: dict[str, Any] = {"t": p["t"], "emotions": _labelled(row), "box": p["box"]}
        if "x" in p:  # a backend's scores outside the labels (Rekognition's confused): not smoothed
            entry["extra"] = {key: round(float(v), _ROUND) for key, v in p["x"].items()}
        if signal is not None:  # landmark signals, where the face mesh saw the face
            entry["signals"] = signal
            entry["attention"] = attends(signal)
        if reaction is not None:
            entry["reactions"] = reaction
        timeline.append(entry)
    face: dict[str, Any] = {"id": face_id, "first_t": points[0]["t"], "last_t": points[-1]["t"]}
    rate = track_blinks(timeline, sample_fps).per_minute
    if rate is not None:  # only where the face mesh saw the face
        face["blinks_per_minute"] = round(rate, _ROUND)
    return {**face, "timeline": timeline}


def _with_eyelids(signals: list[dict[str, Any] | None]) -> list[dict[str, Any] | None]:
    """Where the iris model read the lids (`lids`), `eyes` becomes each eye's openness against this face's
    usual lids (engine/eyelids.py) instead of the face mesh's reading."""
    opened = relative_openness([s.get("lids") if s is not None else None for s in signals])
    return [
        {**s, "eyes": list(o)} if s is not None and o is not None else s
        for s, o in zip(signals, opened, strict=True)
    ]


def _mean_extras(extras: list[dict[str, float]]) -> dict[str, float]:
    """Per key, the mean over the faces that have it (extras are optional per backend, not per label)."""
    keys = sorted({key for extra in extras for key in extra})
    return {key: round(float(np.mean([e[key] for e in extras if key in e])), _ROUND) for key in keys}


def _labelled(row: np.ndarray) -> dict[str, float]:
    return {label: round(float(v), _ROUND) for label, v in zip(LABELS, row, strict=True)}


def summarize(
    timeline: list[dict[str, Any]], sample_fps: float, faces: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Summary numbers of a timeline: dominant expression, shares, valence, expressiveness, key moments;
    with landmark signals, attention and the share of time looking away, and (from the `faces` tracks)
    blinks per minute of tracked face time."""
    with_faces = [s for s in timeline if s.get("emotions")]
    presence = len(with_faces) / len(timeline) if timeline else 0.0
    if not with_faces:
        return {
            "dominant": None,
            "distribution": {label: 0.0 for label in LABELS},
            "face_presence": round(presence, _ROUND),
            "valence": 0.0,
            "expressiveness": 0.0,
            "key_moments": [],
        }
    attention = [float(s["attention"]) for s in with_faces if "attention" in s]
    matrix = np.array([[s["emotions"][label] for label in LABELS] for s in with_faces])
    distribution = matrix.mean(axis=0)
    distribution = distribution / distribution.sum()
    shares = _labelled(distribution)
    valence = sum(shares[x] for x in POSITIVE) - sum(shares[x] for x in NEGATIVE)
    blink_rate = blinks_per_minute([track_blinks(f["timeline"], sample_fps) for f in faces or []])
    return {
        "dominant": LABELS[int(np.argmax(distribution))],
        "distribution": shares,
        "face_presence": round(presence, _ROUND),
        "valence": round(valence, _ROUND),
        "expressiveness": round(1.0 - shares["neutral"], _ROUND),
        "key_moments": key_moments(with_faces, min_separation=2.0),
        **(_attention_summary(attention) if attention else {}),
        **({"blinks_per_minute": round(blink_rate, _ROUND)} if blink_rate is not None else {}),
        **({"reactions": reaction_summary(with_faces)} if any("reactions" in s for s in with_faces) else {}),
    }


def _attention_summary(attention: list[float]) -> dict[str, float]:
    """The mean attention over the samples with signals, and its complement: the share looking away."""
    return {
        "attention": round(float(np.mean(attention)), _ROUND),
        "looking_away": round(float(np.mean([1.0 - a for a in attention])), _ROUND),
    }


def reaction_summary(samples: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per reaction: its mean over the samples that have reactions, and its strongest moments (up to
    3, at least 2 s apart, scoring at least 0.5), in time order."""
    scored = [s for s in samples if "reactions" in s]
    out: dict[str, dict[str, Any]] = {}
    for name in REACTIONS:
        values = [s["reactions"][name] for s in scored]
        chosen: list[dict[str, Any]] = []
        for s in sorted(scored, key=lambda x: -x["reactions"][name]):
            if len(chosen) == 3 or s["reactions"][name] < 0.5:
                break
            if all(abs(s["t"] - c["t"]) >= 2.0 for c in chosen):
                chosen.append({"t": s["t"], "score": s["reactions"][name]})
        out[name] = {
            "mean": round(float(np.mean(values)), _ROUND),
            "moments": sorted(chosen, key=lambda c: c["t"]),
        }
    return out


def key_moments(samples: list[dict[str, Any]], min_separation: float, count: int = KEY_MOMENTS) -> list[dict]:
    """The strongest non-neutral expressions, at least `min_separation` seconds apart."""
    candidates = sorted(
        ((s["emotions"][label], s["t"], label) for s in samples for label in LABELS if label != "neutral"),
        reverse=True,
    )
    chosen: list[dict[str, Any]] = []
    for score, t, label in candidates:
        if len(chosen) == count or score < KEY_MOMENT_MIN_SCORE:
            break
        if all(abs(t - c["t"]) >= min_separation for c in chosen):
            chosen.append({"t": t, "label": label, "score": round(score, _ROUND)})
    return sorted(chosen, key=lambda c: c["t"])
