"""End-to-end time of the local stack: upload a fixture video to S3, wait until the API says `done`.

Starts its own stack (real redis-server, SecantusDB, moto with Step Functions, the Chalice API) on free
ports and a throw-away data folder, signs up, and for each fixture video and segment length measures the
wall time from the presigned POST to status `done` (the S3 event, the execution, Probe, the Map over
segments, Merge, MongoDB). Rewrites the pipeline section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.report import markers, write_section
from devstack.services import free_port
from devstack.stack import LocalStack, Ports
from tests.api_client import Api
from tests.synthetic import VIDEOS_DIR

VIDEOS = [
    "openmpf_face_video_01.mp4",
    "liveportrait_driving_d3.mp4",
    "openmpf_new_face_video-90.mp4",
    "liveportrait_driving_d6.mp4",
]
SEGMENT_SECONDS = (30, 10, 5)
REPEATS = 2


def measure(segment_seconds: int) -> list[dict[str, Any]]:
    ports = Ports(api=free_port(), site=free_port(), moto=free_port(), redis=free_port(), mongo=free_port())
    with tempfile.TemporaryDirectory() as data:
        stack = LocalStack(
            Path(data),
            ports,
            settings={"EMOTIONFY_SEGMENT_SECONDS": str(segment_seconds)},
            persist_uploads=False,
        )
        stack.start()
        try:
            api = Api(stack.api_url)
            account = api.new_account()
            rows = []
            for name in VIDEOS:
                path = VIDEOS_DIR / name
                times = []
                for _ in range(REPEATS):
                    created = api.create_video(account, path)
                    started = time.perf_counter()
                    api.post_upload(created, path).raise_for_status()
                    video = api.wait(account, created["video"]["id"], timeout=600)
                    times.append(time.perf_counter() - started)
                    assert video["status"] == "done", video.get("error")
                rows.append(
                    {
                        "video": name,
                        "duration": video["duration"],
                        "segments": video["progress"]["total"],
                        "seconds": min(times),
                    }
                )
            return rows
        finally:
            stack.stop()


def render(results: dict[int, list[dict[str, Any]]]) -> str:
    begin, end = markers("pipeline")
    lines = [
        begin,
        f"Measured on {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; the local stack runs the Map's segments on "
        f"{min(4, os.cpu_count() or 1)} threads of one process (`EMOTIONFY_MAP_MAX_CONCURRENCY`). Best of "
        f"{REPEATS} runs, upload (presigned POST) to status `done`:",
        "",
        "| video | length (s) | segment length (s) | segments | upload → done (s) | video-s per wall-s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for seconds, rows in results.items():
        for r in rows:
            lines.append(
                f"| {r['video']} | {r['duration']:.1f} | {seconds} | {r['segments']} | {r['seconds']:.2f} | "
                f"{r['duration'] / r['seconds']:.1f} |"
            )
    lines.append(end)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md")
    args = parser.parse_args(argv)
    results = {seconds: measure(seconds) for seconds in SEGMENT_SECONDS}
    section = render(results)
    print(section)
    if not args.no_write:
        write_section("pipeline", "Pipeline, end to end on the local stack (`make bench`)", section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
