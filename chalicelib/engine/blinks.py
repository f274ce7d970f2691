"""Blinks counted in one face track's eye openness (the landmark signal `eyes`, 0 closed .. 1 open).

A blink is a short dip of both eyes' mean openness: a run of samples lasting at most `BLINK_MAX_SECONDS`
(1-2 samples at 5 per second) whose eyes are not open (mean openness at most `BLINK_OPEN`), at least one
of them closed (below `BLINK_CLOSED`), with open eyes (above `BLINK_OPEN`) in the samples right before and
right after it, in the same track with no sample missing in between. A longer closure is not a blink
(boredom's "eyes closing" counts it). A rate is blinks per minute of the track's time with signals.

At 5 samples per second most blinks (100-400 ms) fall between two samples, so the count is a lower bound,
comparable only between videos analysed at the same sample rate (docs/analysis.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chalicelib.engine.reactions import EYES_CLOSING

#: Mean openness of both eyes below this: closed (the same bound as boredom's "eyes closing").
BLINK_CLOSED = EYES_CLOSING
#: Mean openness of both eyes above this: open (the level at which interest counts eyes as fully open).
BLINK_OPEN = 0.6
#: A closure lasting longer than this (counted as samples x the sample interval) is not a blink.
BLINK_MAX_SECONDS = 0.5


@dataclass(frozen=True)
class Blinks:
    """The blinks of one track and the time they were looked for in (samples with signals)."""

    count: int
    seconds: float

    @property
    def per_minute(self) -> float | None:
        return 60.0 * self.count / self.seconds if self.seconds > 0 else None


def count_blinks(
    times: Sequence[float], signals: Sequence[Mapping[str, Any] | None], sample_fps: float
) -> Blinks:
    """The blinks in one track's samples (in time order; `None` where the face mesh did not see the face)."""
    step = 1.0 / sample_fps
    count, run, before_open, closed_in_run = 0, 0, False, False
    previous_t: float | None = None
    for t, s in zip(times, signals, strict=True):
        if s is None or (previous_t is not None and t - previous_t > 1.5 * step):
            run, before_open, closed_in_run = 0, False, False  # a hole: no run spans it
        previous_t = t if s is not None else None
        if s is None:
            continue
        eyes = sum(float(v) for v in s["eyes"]) / len(s["eyes"])
        if eyes > BLINK_OPEN:
            if before_open and closed_in_run and run * step <= BLINK_MAX_SECONDS + 1e-9:
                count += 1
            run, before_open, closed_in_run = 0, True, False
        else:
            run += 1
            closed_in_run = closed_in_run or eyes < BLINK_CLOSED
    seconds = step * sum(1 for s in signals if s is not None)
    return Blinks(count, seconds)


def track_blinks(timeline: Sequence[Mapping[str, Any]], sample_fps: float) -> Blinks:
    """The blinks of a face track's timeline (an Analysis `faces[].timeline`)."""
    return count_blinks([p["t"] for p in timeline], [p.get("signals") for p in timeline], sample_fps)


def blinks_per_minute(tracks: Sequence[Blinks]) -> float | None:
    """Blinks per minute of tracked face time over several tracks (None with no time with signals)."""
    return Blinks(sum(b.count for b in tracks), sum(b.seconds for b in tracks)).per_minute
