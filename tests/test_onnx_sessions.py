"""Models run a few inputs at a time (onnx_sessions.run_in_chunks) give what one batch gives, in order."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from chalicelib.engine.onnx_sessions import load_session, run_in_chunks

#: ONNX file -> its outputs: every model the engine runs in chunks.
MODELS = {
    "face_detection_full_range.onnx": ["regressors", "classificators"],
    "face_detection_short_range.onnx": ["regressors", "classificators"],
    "face_landmark.onnx": ["landmarks", "face_flag"],
    "iris_landmark.onnx": ["eyes"],
    "faceapi_expression.onnx": ["probs"],
    "own_expression.onnx": ["probs"],
    "mini_xception.onnx": ["probs"],
}


@pytest.mark.parametrize("file", sorted(MODELS))
def test_chunks_give_the_whole_batchs_outputs_in_order(model_dir: Path, file: str) -> None:
    session = load_session(model_dir / file)
    (given,) = session.get_inputs()
    shape = [5 if not isinstance(d, int) else d for d in given.shape]
    batch = np.random.default_rng(3).random(shape, dtype=np.float32) * (255 if "expression" in file else 1)
    whole = session.run(MODELS[file], {given.name: batch})
    for chunk in (1, 2, 3, 5, 8):
        parts = run_in_chunks(session, MODELS[file], batch, chunk, given.name)
        assert len(parts) == len(whole)
        for got, want in zip(parts, whole, strict=True):
            assert got.shape == want.shape
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    # Each input's outputs are its own, wherever it sits in the batch.
    alone = session.run(MODELS[file], {given.name: batch[3:4]})
    paired = run_in_chunks(session, MODELS[file], batch, 2, given.name)
    np.testing.assert_allclose(paired[0][3:4], alone[0], rtol=1e-4, atol=1e-4)
