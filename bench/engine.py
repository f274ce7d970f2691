"""Engine benchmark (`make bench`): speed per CPU-second, decode floor, stage breakdown, memory, scaling.

Measures on a generated 60 s 1280x720 30 fps H.264 clip (a face moving over a textured background) and on
every fixture video, prints a table and rewrites the measured section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.report import markers, write_section
from chalicelib.engine.merge import merge
from chalicelib.engine.runner import analyze_video
from chalicelib.engine.segment import AnalysisOptions, analyze_segment
from chalicelib.engine.video import probe, sample_frames
from tests.synthetic import VIDEOS_DIR, Interval, Scene, detectable_faces, write_video

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".bench"
MARK_BEGIN, MARK_END = markers("engine")
TARGETS = {"speed": 15.0, "floor_share": 0.40, "rss_mb": 400.0}


def bench_clip() -> Path:
    """The 60 s 720p clip, generated once: a face that changes expression every 5 s and drifts."""
    path = CACHE / "bench_720p_60s.mp4"
    if path.exists():
        return path
    CACHE.mkdir(exist_ok=True)
    scene = Scene([], width=1280, height=720, fps=30, face_size=240)
    labels = ("neutral", "happy", "surprise", "sad", "angry", "happy")
    faces = [detectable_faces(label, scene, 2)[i % 2] for i, label in enumerate(labels)]
    scene.intervals = [Interval(5.0, (faces[i % len(faces)],)) for i in range(12)]
    tmp = path.with_suffix(".tmp.mp4")
    write_video(scene, tmp)
    tmp.replace(path)
    return path


def decode_floor(path: Path, duration: float, sample_fps: float) -> float:
    """CPU seconds to decode just the frames the sampler needs (the same seeks and skips)."""
    start = time.process_time()
    for _ in sample_frames(path, 0.0, duration, sample_fps):
        pass
    return time.process_time() - start


def single_worker(path: Path, options: AnalysisOptions) -> dict[str, Any]:
    """One segment over the whole video in this process: speed, stages, decode floor."""
    info = probe(path)
    analyze_segment(path, 0.0, min(1.0, info.duration), options)  # load models outside the timing
    cpu = time.process_time()
    segment = analyze_segment(path, 0.0, info.duration, options)
    tick = time.process_time()
    analysis = merge(info, [segment])
    merge_s = time.process_time() - tick
    total = time.process_time() - cpu
    floor = decode_floor(path, info.duration, options.sample_fps)
    return {
        "video": path.name,
        "detector": options.detector,
        "resolution": f"{info.width}x{info.height}",
        "duration": info.duration,
        "speed": info.duration / total,
        "floor_speed": info.duration / floor,
        "floor_share": floor / total,
        "stages": {**{k: segment.timings[k] for k in ("decode", "detect", "classify")}, "merge": merge_s},
        "cpu_s": total,
        "samples": len(segment.samples),
        "faces": sum(n for _, n in segment.samples),
        "tracks": len(analysis["faces"]),
    }


def worker_peak_rss_mb(path: Path, seconds: float) -> float:
    """Peak RSS of a fresh process running one segment of `seconds` (what a Lambda worker would hold)."""
    code = (
        "import sys; from chalicelib.engine.segment import analyze_segment; "
        f"analyze_segment(sys.argv[1], 0.0, {seconds})"
    )
    subprocess.run([sys.executable, "-c", code, str(path)], check=True, cwd=ROOT)
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def scaling(path: Path, options: AnalysisOptions) -> dict[str, float]:
    """Wall time of the whole pipeline (probe, segments, merge) with 1 and 2 worker processes."""
    walls = {}
    for workers in (1, 2):
        start = time.perf_counter()
        analyze_video(path, options, segment_seconds=15.0, workers=workers)
        walls[workers] = time.perf_counter() - start
    return {"wall_1": walls[1], "wall_2": walls[2], "speedup": walls[1] / walls[2]}


def _row(r: dict[str, Any]) -> str:
    s = r["stages"]
    return (
        f"| {r['video']} | {r['detector']} | {r['resolution']} | {r['duration']:.1f} | {r['speed']:.1f} "
        f"| {r['floor_speed']:.1f} "
        f"| {100 * r['floor_share']:.0f}% | {1000 * s['decode']:.0f} / {1000 * s['detect']:.0f} / "
        f"{1000 * s['classify']:.0f} / {1000 * s['merge']:.0f} | {r['faces']} | {r['tracks']} |"
    )


def render(main: dict[str, Any], fixtures: list[dict[str, Any]], rss: float, scale: dict[str, float]) -> str:
    verdict = {
        "speed": main["speed"] >= TARGETS["speed"],
        "floor_share": main["floor_share"] >= TARGETS["floor_share"],
        "rss": rss < TARGETS["rss_mb"],
    }

    def ok(flag: bool) -> str:
        return "met" if flag else "**missed**"

    lines = [
        MARK_BEGIN,
        f"Measured {time.strftime('%Y-%m-%d')} on {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; default settings (5 samples/s, ensemble+flip classifier, "
        "Haar detector); the `tiny` rows use the optional learned detector.",
        "",
        "| target | measured | status |",
        "|---|---|---|",
        f"| >= {TARGETS['speed']:.0f} video-s per CPU-s, 720p, 1 worker | {main['speed']:.1f} "
        f"| {ok(verdict['speed'])} |",
        f"| >= 40% of the decode-only floor | {100 * main['floor_share']:.0f}% "
        f"(floor {main['floor_speed']:.1f} video-s per CPU-s) | {ok(verdict['floor_share'])} |",
        f"| segment worker peak RSS < 400 MB | {rss:.0f} MB | {ok(verdict['rss'])} |",
        f"| speed-up with 2 workers (wall, 60 s clip in 15 s segments) | {scale['speedup']:.2f}x "
        f"({scale['wall_1']:.1f} s -> {scale['wall_2']:.1f} s) | measured |",
        "",
        'Per video (1 worker; stages are CPU milliseconds for the whole clip; "floor" is decode-only speed):',
        "",
        "| video | detector | size | seconds | video-s per CPU-s | floor | share of floor "
        "| decode / detect / classify / merge ms | face samples | tracks |",
        "|---|---|---|---|---|---|---|---|---|---|",
        _row(main),
        *(_row(r) for r in fixtures),
        MARK_END,
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md")
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    options = AnalysisOptions()
    clip = bench_clip()
    main_result = single_worker(clip, options)
    fixtures = [single_worker(path, options) for path in sorted(VIDEOS_DIR.glob("*.mp4"))]
    tiny = AnalysisOptions(detector="tiny")  # the optional learned detector, for comparison
    fixtures += [single_worker(path, tiny) for path in [clip, *sorted(VIDEOS_DIR.glob("*.mp4"))]]
    rss = worker_peak_rss_mb(clip, 30.0)
    scale = scaling(clip, options)
    section = render(main_result, fixtures, rss, scale)
    print(section)
    print(json.dumps({"main": main_result, "rss_mb": rss, "scaling": scale}, indent=1), file=sys.stderr)
    if not args.no_write:
        write_section("engine", "Engine (`make bench`)", section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
