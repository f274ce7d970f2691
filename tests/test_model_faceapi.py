"""The converted face-api expression ONNX model matches an independent numpy forward pass on real faces."""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np
import onnx
import onnxruntime as ort
import pytest
from reference_faceapi import forward

from model.faceapi import LABELS, convert
from model.sources import FACEAPI_MANIFEST, FACEAPI_WEIGHTS

FIXTURES = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures"
FER_DIR = FIXTURES / "faces" / "fer2013-publictest"
PER_LABEL = 5  # 7 labels x 5 = 35 faces


def load_faces(per_label: int) -> np.ndarray:
    """The first `per_label` faces of each label, as RGB [N, 112, 112, 3] float32 0..255."""
    with (FER_DIR / "labels.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    chosen: dict[str, list[str]] = {}
    for row in rows:
        paths = chosen.setdefault(row["label"], [])
        if len(paths) < per_label:
            paths.append(row["path"])
    images = []
    for path in sorted(p for paths in chosen.values() for p in paths):
        gray = cv2.imread(str(FER_DIR / path), cv2.IMREAD_GRAYSCALE)
        assert gray is not None, path
        rgb = cv2.cvtColor(gray, cv2.COLOR_GRAY2RGB)
        images.append(cv2.resize(rgb, (112, 112), interpolation=cv2.INTER_LINEAR))
    return np.stack(images).astype(np.float32)


@pytest.mark.usefixtures("model_dir")  # fetches the package (the build step)
def test_onnx_matches_numpy_reference(tmp_path: Path) -> None:
    out = tmp_path / "faceapi_expression.onnx"
    convert(FACEAPI_WEIGHTS, FACEAPI_MANIFEST, out)
    model = onnx.load(str(out))
    props = {p.key: p.value for p in model.metadata_props}
    assert props["labels"].split(",") == list(LABELS)

    images = load_faces(PER_LABEL)
    assert len(images) >= 32
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    (probs,) = session.run(["probs"], {"image": images})
    expected = forward(FACEAPI_WEIGHTS, FACEAPI_MANIFEST, images)

    assert probs.shape == (len(images), 7)
    assert probs.dtype == np.float32
    assert np.abs(probs - expected).max() < 1e-4
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    assert len(set(probs.argmax(axis=1).tolist())) > 1
