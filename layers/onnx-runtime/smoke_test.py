"""Prove a stripped layer tree still imports and runs the engine's native calls.

    python layers/onnx-runtime/smoke_test.py [--tree DIR]

The layer targets python3.12; where only another CPython is at hand, this installs the same requirements
with the same stripping (`build_layer.install_layer_packages`) for the running interpreter into a temp dir
(manylinux_2_28 + 2_17 wheels), then runs, in a clean `python -S` subprocess with only that tree and the
repository on sys.path: numpy/cv2/av/onnxruntime imports, PyAV probe + seek + NONREF decode (from a file
and over HTTP), the Haar cascade from cv2.data, resize/cvtColor/equalizeHist/imencode, and onnxruntime
CPU inference on the three models. Fails if anything is imported from outside the tree or the stdlib.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import build_layer

VIDEO = build_layer.ROOT.parent / "shared" / "fixtures" / "videos" / "openmpf_face_video_01.mp4"

CHECK = r"""
import functools, http.server, os, sys, sysconfig, threading, time
tree, video, models = sys.argv[1:4]
import numpy as np, cv2, av, onnxruntime as ort
for module in (np, cv2, av, ort):
    assert module.__file__.startswith(tree), module.__file__
print("versions", np.__version__, cv2.__version__, av.__version__, ort.__version__)

from chalicelib.engine.video import probe, sample_frames
from chalicelib.engine.faces import FaceDetector
from chalicelib.engine.expressions import OnnxExpressionClassifier
from chalicelib.engine.tiny_faces import TinyFaceDetector

info = probe(video)
print("probe", info)
frames = list(sample_frames(video, 2.0, 4.0, 2.0))  # seek + skip_frame=NONREF
print("frames", [(t, f.shape) for t, f in frames])
frame = frames[0][1]

handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=os.path.dirname(video))
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
threading.Thread(target=server.serve_forever, daemon=True).start()
url = f"http://127.0.0.1:{server.server_port}/{os.path.basename(video)}"
remote = list(sample_frames(url, 1.0, 2.0, 2.0))
print("http probe", probe(url).frame_count, "frames;", len(remote), "samples")
server.shutdown()

cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
print("raw detectMultiScale", cascade.detectMultiScale(gray, 1.1, 5).tolist())
faces = FaceDetector().detect(frame)
print("FaceDetector", faces)
ok, jpeg = cv2.imencode(".jpg", cv2.resize(frame, (320, 180), interpolation=cv2.INTER_AREA),
                        [cv2.IMWRITE_JPEG_QUALITY, 85])
print("imencode", ok, len(jpeg), "bytes")

session = ort.InferenceSession(os.path.join(models, "mini_xception.onnx"), providers=["CPUExecutionProvider"])
shape = [d if isinstance(d, int) else 1 for d in session.get_inputs()[0].shape]
x = np.random.default_rng(0).random(shape, dtype=np.float32)
scores = session.run(None, {session.get_inputs()[0].name: x})[0]
print("mini_xception raw", session.get_providers(), np.round(scores, 3).tolist())
from pathlib import Path
classifier = OnnxExpressionClassifier(Path(models))
x0, y0, w, h = faces[0] if faces else (0, 0, 100, 100)
crop = frame[y0 : y0 + h, x0 : x0 + w]
print("ensemble", np.round(classifier.classify([crop]), 3).tolist())
print("tiny_face_detector", TinyFaceDetector(Path(models) / "tiny_face_detector.onnx").detect(frame))

stdlib = (sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"])
repo = os.path.join(os.path.dirname(models), "..", "..")
outside = sorted(
    name for name, m in list(sys.modules.items())
    if getattr(m, "__file__", None) and not m.__file__.startswith((tree, *stdlib, os.path.realpath(repo)))
)
print("imported from outside the tree/stdlib/repo:", outside)
assert not outside
maps = {line.split()[-1] for line in open("/proc/self/maps") if ".so" in line}
print("shared objects mapped from the tree:", len([m for m in maps if m.startswith(tree)]))
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tree", type=Path, help="an existing tree built for this interpreter")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="layer-smoke-") as tmp:
        tree = args.tree
        if tree is None:
            tree = Path(tmp) / "python"
            python = f"{sys.version_info.major}.{sys.version_info.minor}"
            tags = ["manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_17_x86_64"]
            build_layer.install_layer_packages(tree, python, "x86_64", platform_tags=tags)
            print(
                f"tree: {build_layer._size(tree) / 2**20:.1f} MB for cp{python.replace('.', '')}", flush=True
            )
        models = build_layer.ROOT / "model" / "onnx"
        env = {"PYTHONPATH": f"{tree.resolve()}{os.pathsep}{build_layer.ROOT}", "PATH": os.environ["PATH"]}
        check = [sys.executable, "-S", "-c", CHECK, str(tree.resolve()), str(VIDEO), str(models)]
        return subprocess.run(check, env=env, check=False).returncode


if __name__ == "__main__":
    raise SystemExit(main())
