"""Bounds on the work one video may cause (no heavy imports: the API's settings read this too)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Checked before costly decoding: a tiny file can still declare huge frames or hours of black."""

    max_frame_pixels: int = 4096 * 2304
    max_fps: float = 240.0
    max_duration: float = float("inf")
