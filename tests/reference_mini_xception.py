"""Independent numpy forward pass of fer's Keras mini-Xception, used to check the ONNX conversion.

Deliberately shares no code with `model.mini_xception`: it reads the HDF5 itself, works in NHWC float64,
applies BatchNormalization unfolded (as Keras does at inference) and pads with TF's "same" rule.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import h5py
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _pad_same(x: np.ndarray, kernel: tuple[int, int], strides: tuple[int, int], value: float) -> np.ndarray:
    """Pad NHWC `x` on H and W the way TF's "same" does (odd extra pixel on the bottom/right)."""
    widths = [(0, 0)]
    for size, k, s in zip(x.shape[1:3], kernel, strides, strict=True):
        total = max((-(-size // s) - 1) * s + k - size, 0)
        widths.append((total // 2, total - total // 2))
    return np.pad(x, [*widths, (0, 0)], constant_values=value)


def _windows(x: np.ndarray, cfg: dict[str, Any], kernel: tuple[int, int], value: float = 0.0) -> np.ndarray:
    """Strided sliding windows of NHWC `x`: shape [N, OH, OW, C, kh, kw]."""
    strides = tuple(cfg.get("strides") or kernel)
    if cfg["padding"] == "same":
        x = _pad_same(x, kernel, strides, value)
    return sliding_window_view(x, kernel, axis=(1, 2))[:, :: strides[0], :: strides[1]]


def _conv(x: np.ndarray, cfg: dict[str, Any], w: dict[str, np.ndarray]) -> np.ndarray:
    """Keras Conv2D (kernel [kh, kw, in, out]) plus optional bias."""
    win = _windows(x, cfg, w["kernel"].shape[:2])
    return np.einsum("nhwcij,ijco->nhwo", win, w["kernel"]) + w.get("bias", 0.0)


def _separable(x: np.ndarray, cfg: dict[str, Any], w: dict[str, np.ndarray]) -> np.ndarray:
    """Keras SeparableConv2D: depthwise (with the layer's stride/padding) then pointwise 1x1."""
    dk = w["depthwise_kernel"]
    win = _windows(x, cfg, dk.shape[:2])
    depth = np.einsum("nhwcij,ijcm->nhwcm", win, dk).reshape(*win.shape[:3], -1)
    return np.einsum("nhwc,co->nhwo", depth, w["pointwise_kernel"][0, 0]) + w.get("bias", 0.0)


def _batchnorm(x: np.ndarray, cfg: dict[str, Any], w: dict[str, np.ndarray]) -> np.ndarray:
    """Inference-mode BatchNormalization over the last axis."""
    norm = (x - w["moving_mean"]) / np.sqrt(w["moving_variance"] + cfg.get("epsilon", 1e-3))
    return norm * w.get("gamma", 1.0) + w.get("beta", 0.0)


def _maxpool(x: np.ndarray, cfg: dict[str, Any]) -> np.ndarray:
    """MaxPooling2D; "same" pads with -inf so padding never wins."""
    return _windows(x, cfg, tuple(cfg["pool_size"]), value=-np.inf).max(axis=(4, 5))


def _activation(x: np.ndarray, kind: str) -> np.ndarray:
    """relu, softmax (last axis) or linear."""
    if kind == "relu":
        return np.maximum(x, 0.0)
    if kind == "softmax":
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    assert kind == "linear", kind
    return x


def _layer(kind: str, cfg: dict[str, Any], xs: list[np.ndarray], w: dict[str, np.ndarray]) -> np.ndarray:
    """Apply one Keras layer."""
    if kind == "Conv2D":
        return _activation(_conv(xs[0], cfg, w), cfg["activation"])
    if kind == "SeparableConv2D":
        return _activation(_separable(xs[0], cfg, w), cfg["activation"])
    if kind == "BatchNormalization":
        return _batchnorm(xs[0], cfg, w)
    if kind == "Activation":
        return _activation(xs[0], cfg["activation"])
    if kind == "MaxPooling2D":
        return _maxpool(xs[0], cfg)
    if kind == "Add":
        return np.sum(xs, axis=0)
    if kind == "GlobalAveragePooling2D":
        return xs[0].mean(axis=(1, 2))
    raise NotImplementedError(kind)


def _weights(f: h5py.File, name: str) -> dict[str, np.ndarray]:
    """A layer's weights from `model_weights`, keyed by short name."""
    if name not in f["model_weights"]:
        return {}
    group = f["model_weights"][name]
    names = [n.decode() if isinstance(n, bytes) else str(n) for n in group.attrs["weight_names"]]
    return {n.rsplit("/", 1)[-1].split(":")[0]: np.asarray(group[n], dtype=np.float64) for n in names}


def forward(hdf5_path: Path | str, images: np.ndarray) -> np.ndarray:
    """Keras-equivalent prediction for [N, 64, 64, 1] (or [N, 64, 64]) raw grayscale images -> [N, 7]."""
    x = np.asarray(images, dtype=np.float64)
    x = x[..., None] if x.ndim == 3 else x
    x = (x / 255.0 - 0.5) * 2.0
    with h5py.File(hdf5_path, "r") as f:
        config = json.loads(f.attrs["model_config"])["config"]
        outputs: dict[str, np.ndarray] = {}
        for layer in config["layers"]:
            name, kind = layer["name"], layer["class_name"]
            if kind == "InputLayer":
                outputs[name] = x
                continue
            xs = [outputs[src[0]] for src in layer["inbound_nodes"][0]]
            outputs[name] = _layer(kind, layer["config"], xs, _weights(f, name))
        return outputs[config["output_layers"][0][0]]
