"""Segment planning: whole-second cuts that cover the video exactly once, with a bounded count."""

from __future__ import annotations

from itertools import pairwise

import pytest

from chalicelib.engine.planning import plan_segments
from chalicelib.engine.video import VideoInfo


def _info(duration: float) -> VideoInfo:
    return VideoInfo(duration, 30.0, int(duration * 30), 640, 480, 0, "h264")


@pytest.mark.parametrize(("duration", "seconds", "count"), [(3.0, 30, 1), (33.6, 10, 4), (61.0, 30, 3)])
def test_segments_tile_the_video_on_whole_seconds(duration: float, seconds: float, count: int) -> None:
    plan = plan_segments(_info(duration), seconds)
    assert len(plan) == count
    assert plan[0].start == 0.0 and plan[-1].end == duration
    assert all(a.end == b.start for a, b in pairwise(plan))
    assert all(s.start == int(s.start) for s in plan)


def test_segment_count_is_bounded() -> None:
    plan = plan_segments(_info(3600.0), 1.0, max_segments=50)
    assert len(plan) == 50
    assert plan[-1].end == 3600.0


def test_non_positive_segment_length_is_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        plan_segments(_info(10.0), -1.0)
