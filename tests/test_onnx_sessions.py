"""Models run a few inputs at a time (onnx_sessions.run_in_chunks) give what one batch gives, in order."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from chalicelib.engine.onnx_sessions import load_session, run_in_chunks

#: ONNX file -> its outputs, for the engine's models with a dynamic batch axis.
MODELS = {
    "face_detection_full_range.onnx": ["regressors", "classificators"],
    "face_detection_short_range.onnx": ["regressors", "classificators"],
    "face_landmark.onnx": ["landmarks", "face_flag"],
    "iris_landmark.onnx": ["eyes"],
    "faceapi_expression.onnx": ["probs"],
}


@pytest.mark.parametrize("file", sorted(MODELS))
def test_chunks_give_the_whole_batchs_outputs_in_order(model_dir: Path, file: str) -> None:
    session = load_session(model_dir / file)
    shape = [5 if not isinstance(d, int) else d for d in session.get_inputs()[0].shape]
    batch = np.random.default_rng(3).random(shape, dtype=np.float32)
    whole = session.run(MODELS[file], {"image": batch})
    for chunk in (1, 2, 3, 5, 8):
        parts = run_in_chunks(session, MODELS[file], batch, chunk)
        assert len(parts) == len(whole)
        for got, want in zip(parts, whole, strict=True):
            assert got.shape == want.shape
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    # Each input's outputs are its own, wherever it sits in the batch.
    alone = session.run(MODELS[file], {"image": batch[3:4]})
    np.testing.assert_allclose(run_in_chunks(session, MODELS[file], batch, 2)[0][3:4], alone[0], atol=1e-4)
