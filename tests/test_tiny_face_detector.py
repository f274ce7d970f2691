"""The converted Tiny Face Detector matches an independent numpy forward pass and finds faces on fixtures."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import onnx
import onnxruntime as ort
import pytest
from reference_tiny_face import forward

from chalicelib.engine.tiny_faces import TinyFaceDetector
from model.sources import TINY_FACE_MANIFEST, TINY_FACE_ONNX, TINY_FACE_WEIGHTS
from model.tiny_face_detector import convert

FIXTURES = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures"
VIDEOS = FIXTURES / "videos"


@pytest.fixture(scope="module")
def model_path(tmp_path_factory: pytest.TempPathFactory, model_dir: Path) -> Path:
    """Convert the weights (fetched by the build step) afresh: this tests the converter itself."""
    out = tmp_path_factory.mktemp("tiny_face") / TINY_FACE_ONNX
    convert(TINY_FACE_WEIGHTS, TINY_FACE_MANIFEST, out)
    return out


def frames_at(video: Path, fps: float) -> list[np.ndarray]:
    """BGR frames sampled at `fps` with cv2.VideoCapture."""
    cap = cv2.VideoCapture(str(video))
    step = max(1, round((cap.get(cv2.CAP_PROP_FPS) or 25.0) / fps))
    frames = []
    index = 0
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        if index % step == 0:
            frames.append(frame)
        index += 1
    cap.release()
    return frames


def square_rgb(frame_bgr: np.ndarray, size: int) -> np.ndarray:
    """[1, size, size, 3] float32 RGB: padded bottom/right to square, resized."""
    h, w = frame_bgr.shape[:2]
    side = max(h, w)
    square = np.zeros((side, side, 3), np.uint8)
    square[:h, :w] = frame_bgr
    rgb = cv2.cvtColor(cv2.resize(square, (size, size), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB)
    return rgb[None].astype(np.float32)


def test_onnx_matches_numpy_reference(model_path: Path) -> None:
    model = onnx.load(str(model_path))
    props = {p.key: p.value for p in model.metadata_props}
    assert "tiny_face_detector_model" in props["source"]
    session = ort.InferenceSession(str(model_path), providers=["CPUExecutionProvider"])
    cases = [("liveportrait_driving_d3.mp4", 320), ("openmpf_face_video_01.mp4", 416)]
    for name, size in cases:
        image = square_rgb(frames_at(VIDEOS / name, 1.0)[1], size)
        (grid,) = session.run(["grid"], {"image": image})
        expected = forward(TINY_FACE_WEIGHTS, TINY_FACE_MANIFEST, image).transpose(0, 3, 1, 2)
        assert grid.shape == (1, 25, size // 32, size // 32)
        assert grid.dtype == np.float32
        assert np.abs(grid - expected).max() < 1e-4, name


def test_finds_the_face_in_a_close_up(model_path: Path) -> None:
    detector = TinyFaceDetector(model_path)
    frames = frames_at(VIDEOS / "liveportrait_driving_d3.mp4", 1.0)
    assert len(frames) >= 10
    found = [detector.detect(frame) for frame in frames]
    assert sum(bool(boxes) for boxes in found) >= 0.9 * len(frames)
    for frame, boxes in zip(frames, found, strict=True):
        h, w = frame.shape[:2]
        for x, y, bw, bh in boxes:
            assert min(x, y) >= 0 and x + bw <= w and y + bh <= h and min(bw, bh) > 0
        assert [b[2] * b[3] for b in boxes] == sorted((b[2] * b[3] for b in boxes), reverse=True)


def test_finds_several_faces_in_a_group(model_path: Path) -> None:
    """Small faces (~60 px in 640x480) need a fine input size: 512 finds two of them in most frames."""
    detector = TinyFaceDetector(model_path, input_size=512)
    frames = frames_at(VIDEOS / "openmpf_face_video_01.mp4", 1.0)
    counts = [len(detector.detect(frame)) for frame in frames]
    assert len(frames) >= 3
    assert sum(c >= 2 for c in counts) >= 0.5 * len(frames), counts
