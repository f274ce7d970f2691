"""Independent numpy forward pass of face-api's Tiny Face Detector, used to check the ONNX conversion.

Written straight from face-api's TinyYolov2Base.runMobilenet / depthwiseSeparableConv / leaky / convLayer
sources, in NHWC like tfjs, computed in float64. Deliberately shares no code with model/tiny_face_detector.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from reference_faceapi import load  # the same tfjs weights format

MEAN_RGB = np.array([117.001, 114.697, 97.404])


def windows(x: np.ndarray, k: int):
    """Yield (dy, dx, window) for each tap of a stride-1 'valid' k x k conv over NHWC `x`."""
    out_h, out_w = x.shape[1] - k + 1, x.shape[2] - k + 1
    for dy in range(k):
        for dx in range(k):
            yield dy, dx, x[:, dy : dy + out_h, dx : dx + out_w, :]


def leaky(x: np.ndarray) -> np.ndarray:
    """face-api leaky: relu(x - 0.1x) + 0.1x."""
    return np.where(x > 0, x, 0.1 * x)


def conv_valid(x: np.ndarray, filters: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """tf.conv2d(x, filters [kh, kw, in, out], 1, 'valid') + bias."""
    return sum(win @ filters[dy, dx] for dy, dx, win in windows(x, filters.shape[0])) + bias


def separable(x: np.ndarray, p: dict[str, np.ndarray], prefix: str) -> np.ndarray:
    """depthwiseSeparableConv: zero-pad 1, depthwise 3x3 'valid', pointwise, + bias, leaky."""
    xp = np.pad(x, [(0, 0), (1, 1), (1, 1), (0, 0)])
    dw = p[f"{prefix}/depthwise_filter"]
    depth = sum(win * dw[dy, dx, :, 0] for dy, dx, win in windows(xp, 3))
    return leaky(depth @ p[f"{prefix}/pointwise_filter"][0, 0] + p[f"{prefix}/bias"])


def max_pool_same(x: np.ndarray, stride: int) -> np.ndarray:
    """tf.maxPool 2x2 'same': the window is clipped at the bottom/right edge (padding never wins)."""
    h, w = x.shape[1], x.shape[2]
    out_h, out_w = -(-h // stride), -(-w // stride)
    xp = np.pad(
        x,
        [
            (0, 0),
            (0, max((out_h - 1) * stride + 2 - h, 0)),
            (0, max((out_w - 1) * stride + 2 - w, 0)),
            (0, 0),
        ],
        constant_values=-np.inf,
    )
    out = np.full((x.shape[0], out_h, out_w, x.shape[3]), -np.inf)
    for dy in (0, 1):
        for dx in (0, 1):
            out = np.maximum(out, xp[:, dy : dy + stride * out_h : stride, dx : dx + stride * out_w : stride])
    return out


def forward(weights_path: Path, manifest_path: Path, images_nhwc_rgb: np.ndarray) -> np.ndarray:
    """Raw output [N, S/32, S/32, 25] (NHWC, like tfjs) for RGB images [N, S, S, 3] with values 0..255."""
    p = load(weights_path, manifest_path)
    x = (np.asarray(images_nhwc_rgb, np.float64) - MEAN_RGB) / 255.0
    x = leaky(conv_valid(x, p["conv0/filters"], p["conv0/bias"]))
    for i in range(1, 6):
        x = separable(max_pool_same(x, 2), p, f"conv{i}")
    x = max_pool_same(x, 1)
    return conv_valid(x, p["conv8/filters"], p["conv8/bias"])
