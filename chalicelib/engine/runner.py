"""Analyse a whole video on this machine: plan segments, run them in a process pool, merge.

This is the local twin of the cloud pipeline (Probe -> Map(AnalyzeSegment) -> Merge): the same planning,
segment and merge functions, with a process pool standing in for the Map state.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from chalicelib.engine.merge import merge
from chalicelib.engine.planning import plan_segments
from chalicelib.engine.segment import AnalysisOptions, SegmentResult, analyze_segment
from chalicelib.engine.video import probe

Progress = Callable[[int, int], None]


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
