"""Cut a video into segments: the unit of work of the cloud's Map state and of the local process pool.

Both the Step Functions probe step and the local runner plan with this one function, so a video is cut the
same way wherever it runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from chalicelib.engine.video import VideoInfo
from chalicelib.settings import engine_settings

#: The detector's full passes fall every this many seconds of the video's own time (the segment engine
#: follows faces by their landmarks in between); segments are cut on this grid.
FULL_PASS_SECONDS = 2


@dataclass(frozen=True)
class Segment:
    index: int
    start: float
    end: float


def plan_segments(
    info: VideoInfo, segment_seconds: float | None = None, max_segments: int | None = None
) -> list[Segment]:
    """Cut the video into near-equal time ranges of about `segment_seconds` (cut on the detector's
    full-pass grid), never more than `max_segments`."""
    settings = engine_settings()
    seconds = segment_seconds or settings.segment_seconds
    limit = max_segments or settings.max_segments
    if seconds <= 0:
        raise ValueError("segment length must be positive")
    count = max(1, min(limit, math.ceil(info.duration / seconds - 1e-9)))
    length = info.duration / count
    # Cut on the full-pass grid, so each segment starts where the whole video would get a full pass.
    cuts = sorted({FULL_PASS_SECONDS * round(i * length / FULL_PASS_SECONDS) for i in range(1, count)} - {0})
    bounds = [0.0, *(float(c) for c in cuts if c < info.duration), info.duration]
    return [Segment(i, bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1)]
