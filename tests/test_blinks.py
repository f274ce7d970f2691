"""Blinks from a track's eye openness: a short dip between open eyes is one blink; a long closure, a dip at
the edge of a track or across a hole in it is none; rates are per minute of time with signals; and the
Analysis summary carries the blink rate and the share of time looking away only where signals exist."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from chalicelib.engine.blinks import (
    BLINK_CLOSED,
    BLINK_OPEN,
    Blinks,
    blinks_per_minute,
    count_blinks,
    track_blinks,
)
from chalicelib.engine.merge import merge
from chalicelib.engine.segment import SegmentResult
from chalicelib.engine.video import VideoInfo

FPS = 5.0
OPEN: dict[str, Any] = {
    "yaw": 0.0,
    "pitch": 0.0,
    "roll": 0.0,
    "eyes": [0.95, 0.9],
    "mouth": 0.1,
    "brow": 0.1,
    "smile": 0.1,
}
CLOSED = {**OPEN, "eyes": [0.05, 0.1]}
HALF = {**OPEN, "eyes": [0.45, 0.45]}  # neither open nor closed
AWAY = {**OPEN, "yaw": 60.0}


def _times(n: int, start: float = 0.0) -> list[float]:
    return [round(start + k / FPS, 4) for k in range(n)]


def _count(signals: Sequence[Mapping[str, Any] | None], times: list[float] | None = None) -> Blinks:
    return count_blinks(times or _times(len(signals)), signals, FPS)


def test_thresholds_leave_a_band_between_closed_and_open() -> None:
    assert 0 < BLINK_CLOSED < BLINK_OPEN < 1


def test_one_or_two_closed_samples_between_open_eyes_are_a_blink() -> None:
    assert _count([OPEN, OPEN, CLOSED, OPEN, OPEN]).count == 1
    assert _count([OPEN, CLOSED, CLOSED, OPEN]).count == 1
    assert _count([OPEN, HALF, CLOSED, OPEN]).count == 1  # lids on their way down at one sample
    assert _count([OPEN, CLOSED, OPEN, OPEN, CLOSED, OPEN, CLOSED, OPEN]).count == 3
    # Only one eye shut (a wink) leaves the mean above the closed bound; half-shut eyes are no blink.
    assert _count([OPEN, {**OPEN, "eyes": [0.0, 0.95]}, OPEN]).count == 0
    assert _count([OPEN, HALF, OPEN]).count == 0


def test_a_long_closure_is_not_a_blink() -> None:
    assert _count([OPEN, CLOSED, CLOSED, CLOSED, OPEN]).count == 0  # 3 samples: 0.6 s
    assert _count([OPEN] * 5 + [CLOSED] * 10 + [OPEN] * 5).count == 0  # eyes shut for 2 s


def test_a_dip_needs_open_eyes_on_both_sides_in_the_same_stretch_of_track() -> None:
    assert _count([CLOSED, OPEN, OPEN]).count == 0  # the track starts with eyes shut
    assert _count([OPEN, OPEN, CLOSED]).count == 0  # it ends so
    assert _count([OPEN, HALF, CLOSED, HALF, HALF, OPEN]).count == 0  # not open for 0.8 s
    # The mesh lost the face, or the detector missed a sample: the closure may have lasted longer.
    assert _count([OPEN, None, CLOSED, OPEN]).count == 0
    assert _count([OPEN, CLOSED, None, OPEN]).count == 0
    gap = [0.0, 0.2, 0.4, 1.6]  # no samples from 0.6 to 1.4 s
    assert _count([OPEN, OPEN, CLOSED, OPEN], gap).count == 0
    assert _count([OPEN, CLOSED, OPEN, OPEN], gap).count == 1


def test_the_rate_is_per_minute_of_time_with_signals() -> None:
    # 30 s of track with signals (150 samples), 3 blinks; 30 samples without signals do not count as time.
    signals: list[dict[str, Any] | None] = [OPEN] * 150
    for i in (20, 70, 120):
        signals[i] = CLOSED
    signals += [None] * 30
    blinks = _count(signals)
    assert blinks.count == 3
    assert blinks.seconds == pytest.approx(30.0)
    assert blinks.per_minute == pytest.approx(6.0)
    # Two tracks pool their blinks and their time: 3 in 30 s and 0 in 30 s are 3 per minute, not a mean of
    # rates, and a track without signals adds nothing.
    assert blinks_per_minute([blinks, _count([OPEN] * 150), _count([None] * 10)]) == pytest.approx(3.0)
    assert _count([None, None]).per_minute is None
    assert blinks_per_minute([]) is None


def test_a_face_timeline_gives_its_blinks() -> None:
    timeline = [{"t": t, "signals": s} for t, s in zip(_times(4), [OPEN, CLOSED, OPEN, OPEN], strict=True)]
    blinks = track_blinks(timeline, FPS)
    assert (blinks.count, blinks.seconds) == (1, pytest.approx(0.8))
    assert track_blinks([{"t": 0.0}, {"t": 0.2}], FPS).per_minute is None


# --- in the Analysis ------------------------------------------------------------------------------------

INFO = VideoInfo(duration=12.0, fps=25.0, frame_count=300, width=640, height=360, rotation=0, codec="h264")
NEUTRAL = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0]


def _segment(tracks: Sequence[tuple[list[int], Sequence[Mapping[str, Any] | None]]]) -> SegmentResult:
    """One 12 s segment at 5 samples/s; per face its box and the signals of its first samples."""
    times = _times(60)
    fragments = []
    for i, (box, signals) in enumerate(tracks):
        points = []
        for t, s in zip(times, signals, strict=False):
            point: dict[str, Any] = {"t": t, "box": box, "p": NEUTRAL}
            if s is not None:
                point["s"] = s
            points.append(point)
        fragments.append({"id": i, "points": points})
    samples = [(t, sum(1 for _, s in tracks if k < len(s))) for k, t in enumerate(times)]
    return SegmentResult(0.0, 12.0, FPS, samples, fragments, {"backend": "onnx", "version": "test"})


def test_the_summary_and_each_face_carry_blinks_and_looking_away() -> None:
    # Face 0: 12 s with signals, 2 blinks, looking away for the last 3 s. Face 1: 6 s with signals, 2 blinks.
    first = [OPEN] * 45 + [AWAY] * 15
    first[10] = first[30] = CLOSED
    second = [OPEN] * 30
    second[12] = second[20] = CLOSED
    analysis = merge(INFO, [_segment([([100, 100, 80, 80], first), ([400, 100, 80, 80], second)])])
    assert [f["blinks_per_minute"] for f in analysis["faces"]] == pytest.approx([10.0, 20.0])
    summary = analysis["summary"]
    assert summary["blinks_per_minute"] == pytest.approx(4 / 18 * 60, abs=1e-4)  # 4 in 18 s of face time
    # Samples 0-5.8 s: both faces attend; 6-8.8 s: face 0 alone attends; 9-11.8 s: it looks away.
    assert summary["attention"] == pytest.approx(45 / 60)
    assert summary["looking_away"] == pytest.approx(15 / 60)
    assert summary["attention"] + summary["looking_away"] == pytest.approx(1.0)


def test_without_signals_the_fields_are_absent() -> None:
    analysis = merge(INFO, [_segment([([100, 100, 80, 80], [None] * 60)])])
    assert "blinks_per_minute" not in analysis["faces"][0]
    assert not {"blinks_per_minute", "looking_away", "attention"} & set(analysis["summary"])
    # A face whose signals never show a blink has a rate of 0, not no rate.
    analysis = merge(INFO, [_segment([([100, 100, 80, 80], [OPEN] * 60)])])
    assert analysis["faces"][0]["blinks_per_minute"] == 0.0
    assert (analysis["summary"]["blinks_per_minute"], analysis["summary"]["looking_away"]) == (0.0, 0.0)
