"""Merge on hand-made segment results: stitching across boundaries, noise filtering, summary numbers."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.engine.face_signals import FaceSignals
from chalicelib.engine.labels import LABELS
from chalicelib.engine.merge import merge, summarize
from chalicelib.engine.segment import SegmentResult
from chalicelib.engine.video import VideoInfo

INFO = VideoInfo(duration=4.0, fps=25.0, frame_count=100, width=640, height=360, rotation=0, codec="h264")
HAPPY = [0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0]
SAD = [0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0]
NEUTRAL = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0]


def _segment(
    start: float, end: float, tracks: list[tuple[list[int], list[float], list[float]]]
) -> SegmentResult:
    """tracks: (box, probabilities, times) per face."""
    times = [round(k / 5, 4) for k in range(int(start * 5), int(end * 5))]
    fragments: list[dict[str, Any]] = []
    for i, (box, probs, track_times) in enumerate(tracks):
        fragments.append({"id": i, "points": [{"t": t, "box": box, "p": probs} for t in track_times]})
    samples = [(t, sum(1 for _, _, tt in tracks if t in tt)) for t in times]
    return SegmentResult(start, end, 5.0, samples, fragments, {"backend": "onnx", "version": "test"})


def _times(start: float, end: float) -> list[float]:
    return [round(k / 5, 4) for k in range(int(start * 5), int(end * 5))]


def test_tracks_are_stitched_across_segment_boundaries() -> None:
    left = _segment(
        0, 2, [([100, 100, 80, 80], HAPPY, _times(0, 2)), ([400, 100, 80, 80], SAD, _times(0, 2))]
    )
    right = _segment(
        2, 4, [([404, 102, 80, 80], SAD, _times(2, 4)), ([102, 98, 80, 80], HAPPY, _times(2, 4))]
    )
    analysis = merge(INFO, [right, left])  # order of arrival must not matter
    assert len(analysis["faces"]) == 2
    happy_face = next(f for f in analysis["faces"] if f["timeline"][0]["box"][0] < 200)
    assert (happy_face["first_t"], happy_face["last_t"]) == (0.0, 3.8)
    assert all(p["emotions"]["happy"] == 1.0 for p in happy_face["timeline"])
    assert [s["faces"] for s in analysis["timeline"]] == [2] * 20


def test_a_face_that_moves_away_is_not_stitched() -> None:
    left = _segment(0, 2, [([100, 100, 80, 80], HAPPY, _times(0, 2))])
    right = _segment(2, 4, [([500, 200, 80, 80], HAPPY, _times(2, 4))])
    assert len(merge(INFO, [left, right])["faces"]) == 2


def test_short_tracks_are_dropped_as_detector_noise() -> None:
    seg = _segment(
        0, 4, [([100, 100, 80, 80], NEUTRAL, _times(0, 4)), ([300, 50, 30, 30], HAPPY, [1.0, 1.2])]
    )
    analysis = merge(INFO, [seg])
    assert len(analysis["faces"]) == 1
    assert analysis["summary"]["dominant"] == "neutral"
    assert {s["faces"] for s in analysis["timeline"]} == {1}


def test_a_short_track_the_face_mesh_saw_throughout_is_kept() -> None:
    """Two samples of a face in a new place (a camera swing): kept when the face mesh was sure of a face in
    every sample (its flag "m" >= 0.9); a two-sample track with a doubtful sample is noise as before."""
    signals = FaceSignals(5.0, 0.0, 0.0, (0.8, 0.8), 0.1, 0.0, 0.6).to_dict()
    seg = _segment(
        0,
        4,
        [
            ([100, 100, 80, 80], NEUTRAL, _times(0, 4)),
            ([300, 50, 60, 60], HAPPY, [1.0, 1.2]),
            ([500, 50, 60, 60], SAD, [2.0, 2.2]),
        ],
    )
    seen, half_seen = seg.tracks[1]["points"], seg.tracks[2]["points"]
    for point in seen:
        point["s"], point["m"] = signals, 0.97
    half_seen[0]["s"], half_seen[0]["m"] = signals, 0.98
    half_seen[1]["s"], half_seen[1]["m"] = signals, 0.6
    analysis = merge(INFO, [seg])
    assert len(analysis["faces"]) == 2
    short = next(f for f in analysis["faces"] if len(f["timeline"]) == 2)
    assert (short["first_t"], short["last_t"]) == (1.0, 1.2)
    assert [s["faces"] for s in analysis["timeline"] if s["t"] in (1.0, 1.2, 2.0, 2.2)] == [2, 2, 1, 1]


def test_timeline_is_the_mean_over_present_faces_and_empty_without_faces() -> None:
    seg = _segment(0, 4, [([100, 100, 80, 80], HAPPY, _times(0, 2)), ([400, 100, 80, 80], SAD, _times(0, 2))])
    analysis = merge(INFO, [seg])
    first, late = analysis["timeline"][0], analysis["timeline"][15]
    assert first["faces"] == 2
    assert first["emotions"]["happy"] == pytest.approx(0.5)
    assert first["emotions"]["sad"] == pytest.approx(0.5)
    assert late["faces"] == 0 and "emotions" not in late
    assert analysis["summary"]["face_presence"] == pytest.approx(0.5)


def test_summary_numbers() -> None:
    timeline: list[dict[str, Any]] = [
        {"t": 0.0, "faces": 1, "emotions": dict(zip(LABELS, HAPPY, strict=True))},
        {"t": 3.0, "faces": 1, "emotions": dict(zip(LABELS, HAPPY, strict=True))},
        {"t": 6.0, "faces": 1, "emotions": dict(zip(LABELS, SAD, strict=True))},
        {"t": 9.0, "faces": 1, "emotions": dict(zip(LABELS, NEUTRAL, strict=True))},
        {"t": 12.0, "faces": 0},
    ]
    summary = summarize(timeline, 5.0)
    assert summary["dominant"] == "happy"
    assert summary["distribution"]["happy"] == pytest.approx(0.5)
    assert summary["valence"] == pytest.approx(0.5 - 0.25)
    assert summary["expressiveness"] == pytest.approx(0.75)
    assert summary["face_presence"] == pytest.approx(0.8)
    # Without landmark signals (format 1, or the mesh off) there is nothing to say about gaze and blinks.
    assert not {"attention", "looking_away", "blinks_per_minute"} & set(summary)
    assert [(m["t"], m["label"]) for m in summary["key_moments"]] == [
        (0.0, "happy"),
        (3.0, "happy"),
        (6.0, "sad"),
    ]


def test_segment_results_survive_json_round_trip() -> None:
    seg = _segment(0, 2, [([1, 2, 3, 4], HAPPY, _times(0, 2))])
    assert SegmentResult.from_dict(seg.to_dict()) == seg
    with pytest.raises(ValueError, match="format"):
        SegmentResult.from_dict({**seg.to_dict(), "format": 99})
