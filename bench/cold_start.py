"""Cold-start cost of the engine's native packages, as the pipeline Lambdas would pay it.

Installs the engine's native packages, stripped exactly as `layers/onnx-runtime/build_layer.py` strips them
for the pipeline image, for this interpreter (the image runs python3.12; this machine has 3.11) into
.bench/, then times, in
fresh `python -S` processes with only that tree and the repository on sys.path: importing numpy, cv2, av
and onnxruntime; importing `app` (the Chalice app with every handler); and loading the ONNX classifier, the
BlazeFace detectors, the face mesh and the iris model (what a first segment pays). Median of several runs;
rewrites the cold-start section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path
from types import ModuleType

from bench.report import markers, write_section

ROOT = Path(__file__).resolve().parents[1]
TREE = ROOT / ".bench" / "layer-tree"
RUNS = 7

PROBE = r"""
import json, sys, time
t0 = time.perf_counter()
import numpy, cv2, av, onnxruntime
t1 = time.perf_counter()
import app
t2 = time.perf_counter()
from pathlib import Path
from chalicelib.engine.blazeface import BlazeFaceDetector
from chalicelib.engine.expressions import OnnxExpressionClassifier
from chalicelib.engine.eyelids import EyelidReader
from chalicelib.engine.landmarks import FaceMesh
models = Path(sys.argv[1])
OnnxExpressionClassifier(models, "ensemble"); BlazeFaceDetector(models)
FaceMesh(models); EyelidReader(models)
t3 = time.perf_counter()
print(json.dumps({"native_imports": t1 - t0, "app_import": t2 - t1, "models_load": t3 - t2}))
"""


def _build_layer_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "build_layer", ROOT / "layers" / "onnx-runtime" / "build_layer.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_layer"] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def tree() -> Path:
    stamp = TREE / ".requirements"
    requirements = (ROOT / "layers" / "onnx-runtime" / "requirements.txt").read_text()
    if not (stamp.is_file() and stamp.read_text() == requirements):
        build_layer = _build_layer_module()
        python = f"{sys.version_info.major}.{sys.version_info.minor}"
        tags = ["manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_17_x86_64"]
        import shutil

        shutil.rmtree(TREE, ignore_errors=True)
        build_layer.install_layer_packages(TREE, python, "x86_64", platform_tags=tags)
        stamp.write_text(requirements)
    return TREE


def measure(runs: int = RUNS) -> dict[str, float]:
    site = sys.prefix + f"/lib/python{sys.version_info.major}.{sys.version_info.minor}/site-packages"
    # The app's light dependencies (chalice, pymongo, redis, Powertools) come from the venv, after the tree.
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tree()), str(ROOT), site]),
        "EMOTIONFY_JWT_SECRET": "x",
    }
    samples: dict[str, list[float]] = {}
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-S", "-c", PROBE, str(ROOT / "model" / "onnx")],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        ).stdout
        for key, value in json.loads(out.strip().splitlines()[-1]).items():
            samples.setdefault(key, []).append(value * 1000)
    return {key: statistics.median(values) for key, values in samples.items()}


def render(result: dict[str, float]) -> str:
    begin, end = markers("cold-start")
    return "\n".join(
        [
            begin,
            f"Measured on {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"median of {RUNS} fresh processes, page cache warm (a real cold start also reads the files):",
            "",
            "| step | ms |",
            "|---|---:|",
            f"| import numpy, cv2, av, onnxruntime (stripped tree) | {result['native_imports']:.0f} |",
            f"| import app (every handler, Powertools, pymongo, redis) | {result['app_import']:.0f} |",
            f"| load the ONNX ensemble (2 sessions), BlazeFace (2), the face mesh and the iris model "
            f"| {result['models_load']:.0f} |",
            f"| total before the first segment's work | {sum(result.values()):.0f} |",
            end,
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md")
    args = parser.parse_args(argv)
    section = render(measure())
    print(section)
    if not args.no_write:
        write_section("cold-start", "Cold start of the pipeline functions (`make bench`)", section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
