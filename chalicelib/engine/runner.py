"""Analyse a whole video on this machine: plan segments, run them in a process pool, merge.

This is the local twin of the cloud pipeline (Probe -> Map(AnalyzeSegment) -> Merge): the same planning,
segment and merge functions, with a process pool standing in for the Map state.
"""

from __future__ import annotations

import math
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chalicelib.engine.merge import merge
from chalicelib.engine.segment import AnalysisOptions, SegmentResult, analyze_segment
from chalicelib.engine.video import VideoInfo, probe
from chalicelib.settings import engine_settings

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Segment:
    index: int
    start: float
    end: float


def plan_segments(
    info: VideoInfo, segment_seconds: float | None = None, max_segments: int | None = None
) -> list[Segment]:
    """Cut the video into near-equal time ranges of about `segment_seconds` (cut on whole seconds), never
    more than `max_segments`."""
    settings = engine_settings()
    seconds = segment_seconds or settings.segment_seconds
    limit = max_segments or settings.max_segments
    if seconds <= 0:
        raise ValueError("segment length must be positive")
    count = max(1, min(limit, math.ceil(info.duration / seconds - 1e-9)))
    length = info.duration / count
    # Cut on whole seconds: the detector's full passes fall on whole seconds of the sample grid.
    cuts = sorted({round(i * length) for i in range(1, count)} - {0})
    bounds = [0.0, *(float(c) for c in cuts if c < info.duration), info.duration]
    return [Segment(i, bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1)]


def _run_segment(source: str, start: float, end: float, options: dict[str, Any]) -> dict[str, Any]:
    """Worker entry point: plain types in and out so it crosses process boundaries cheaply."""
    return analyze_segment(source, start, end, AnalysisOptions.from_dict(options)).to_dict()


def analyze_video(
    source: str | Path,
    options: AnalysisOptions | None = None,
    *,
    segment_seconds: float | None = None,
    workers: int = 1,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Probe, analyse every segment (in `workers` processes) and merge into the Analysis document."""
    opts = options or AnalysisOptions()
    info = probe(source)
    plan = plan_segments(info, segment_seconds)
    total = len(plan)
    results: list[SegmentResult] = []
    if progress:
        progress(0, total)
    if workers <= 1 or total == 1:
        for seg in plan:
            results.append(analyze_segment(source, seg.start, seg.end, opts))
            if progress:
                progress(len(results), total)
    else:
        context = multiprocessing.get_context("forkserver" if os.name == "posix" else "spawn")
        with ProcessPoolExecutor(max_workers=min(workers, total), mp_context=context) as pool:
            futures = [
                pool.submit(_run_segment, str(source), seg.start, seg.end, opts.to_dict()) for seg in plan
            ]
            for future in as_completed(futures):
                results.append(SegmentResult.from_dict(future.result()))
                if progress:
                    progress(len(results), total)
    return merge(info, results)
