"""A simulated cloud timeline (`make bench`): upload-to-results time of a 10-minute 720p video on AWS, from
figures measured here: the analysis CPU per video-second (the real 720p clip, one worker, default path),
the cold start of a pipeline function, and the state machine's shape.

The model, stated so it can be checked against a real deployment:
- a Lambda function with M MB of memory gets M / 1769 vCPU (AWS's documented proportion); one segment
  runs on one thread, so it gets min(1, M / 1769) of a core's speed, measured here;
- the Map runs `EMOTIONFY_MAP_MAX_CONCURRENCY` segments at once, in waves; the first wave pays a cold start;
- reading the upload by 1 MB ranges from S3 costs about 30 ms per request at ~1 MB per 2 s of 720p video;
- S3 event to execution start 1.0 s, each Step Functions state transition 0.1 s (both typical, not measured
  here: there is no AWS account on this machine), probe 1.0 s, merge 0.5 s.
"""

from __future__ import annotations

import argparse
import math
import os

from bench.engine import real_720p, single_worker
from bench.report import markers, write_section
from chalicelib.engine.segment import AnalysisOptions

VIDEO_SECONDS = 600.0
SEGMENT_SECONDS = 30.0
MEMORY_MB = 2048
CONCURRENCY = 8
EVENT_TO_START, TRANSITION, PROBE, MERGE = 1.0, 0.1, 1.0, 0.5
S3_REQUEST, VIDEO_SECONDS_PER_MB = 0.030, 2.0


def simulate(cpu_per_video_second: float, cold_start: float) -> dict[str, float]:
    share = min(1.0, MEMORY_MB / 1769)
    segments = math.ceil(VIDEO_SECONDS / SEGMENT_SECONDS)
    waves = math.ceil(segments / CONCURRENCY)
    reads = (SEGMENT_SECONDS / VIDEO_SECONDS_PER_MB) * S3_REQUEST
    segment = SEGMENT_SECONDS * cpu_per_video_second / share + reads
    total = EVENT_TO_START + PROBE + cold_start + waves * (segment + TRANSITION) + MERGE + 4 * TRANSITION
    return {"segments": segments, "waves": waves, "segment": segment, "total": total}


def render(cpu_per_video_second: float, cold_start: float, result: dict[str, float]) -> str:
    begin, end = markers("cloud-timeline")
    return "\n".join(
        [
            begin,
            f"A 10-minute 720p video, {SEGMENT_SECONDS:.0f} s segments, Lambda {MEMORY_MB} MB "
            f"({min(1.0, MEMORY_MB / 1769):.2f} of a vCPU per thread), Map concurrency {CONCURRENCY}; "
            f"measured here: {1000 * cpu_per_video_second:.0f} CPU-ms per video-second (the real 720p clip, "
            f"default path) and a {cold_start:.1f} s cold start. Model and assumptions: "
            "`bench/cloud_timeline.py`.",
            "",
            "| part | seconds |",
            "|---|---:|",
            f"| S3 event to execution, probe | {EVENT_TO_START + PROBE:.1f} |",
            f"| cold start (first wave) | {cold_start:.1f} |",
            f"| {result['segments']:.0f} segments in {result['waves']:.0f} waves of {CONCURRENCY}, "
            f"{result['segment']:.1f} s each | {result['waves'] * (result['segment'] + TRANSITION):.1f} |",
            f"| merge and transitions | {MERGE + 4 * TRANSITION:.1f} |",
            f"| **upload to results** (target <= 30 s) | **{result['total']:.1f}** |",
            end,
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md")
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from bench.cold_start import measure

    measured = single_worker(real_720p(), AnalysisOptions())
    cpu_per_video_second = measured["cpu_s"] / measured["duration"]
    cold = measure(runs=3)
    cold_start = sum(cold.values()) / 1000
    section = render(cpu_per_video_second, cold_start, simulate(cpu_per_video_second, cold_start))
    print(section)
    if not args.no_write:
        write_section("cloud-timeline", "Simulated cloud timeline (`make bench`)", section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
