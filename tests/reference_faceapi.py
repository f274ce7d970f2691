"""Independent numpy forward pass of the face-api expression net, used to check the ONNX conversion.

Written straight from face-api's FaceFeatureExtractor / denseBlock4 / FaceProcessor sources, in NHWC like
tfjs, computed in float64. Deliberately shares no code with model/faceapi.py.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

MEAN_RGB = np.array([122.782, 117.001, 104.298])


def load(weights_path: Path, manifest_path: Path) -> dict[str, np.ndarray]:
    """Parse the weights manifest and .bin; dequantise as tfjs io.decodeWeights does."""
    data = Path(weights_path).read_bytes()
    pos = 0
    params: dict[str, np.ndarray] = {}
    for group in json.loads(Path(manifest_path).read_text()):
        for spec in group["weights"]:
            n = math.prod(spec["shape"])
            quant = spec.get("quantization")
            if quant:
                width = {"uint8": 1, "uint16": 2}[quant["dtype"]]
                q = np.frombuffer(data[pos : pos + n * width], dtype=f"<u{width}")
                arr = (q * quant["scale"] + quant["min"]).astype(np.float32)
                pos += n * width
            else:
                arr = np.frombuffer(data[pos : pos + 4 * n], dtype="<f4").copy()
                pos += 4 * n
            params[spec["name"]] = arr.reshape(spec["shape"]).astype(np.float64)
    assert pos == len(data), (pos, len(data))
    return params


def pad_same(x: np.ndarray, k: int, stride: int) -> np.ndarray:
    """Zero-pad NHWC spatially like TF 'same' (odd remainder on bottom/right)."""
    pads = []
    for size in x.shape[1:3]:
        out = (size + stride - 1) // stride
        total = max((out - 1) * stride + k - size, 0)
        pads.append((total // 2, total - total // 2))
    return np.pad(x, [(0, 0), pads[0], pads[1], (0, 0)])


def taps(x: np.ndarray, k: int, stride: int):
    """Yield (dy, dx, strided window) for each kernel tap of a 'same' conv."""
    out_h, out_w = (x.shape[1] + stride - 1) // stride, (x.shape[2] + stride - 1) // stride
    xp = pad_same(x, k, stride)
    for dy in range(k):
        for dx in range(k):
            yield dy, dx, xp[:, dy : dy + stride * out_h : stride, dx : dx + stride * out_w : stride, :]


def conv2d(x: np.ndarray, filters: np.ndarray, bias: np.ndarray, stride: int) -> np.ndarray:
    """Full conv, filters [kh, kw, in, out]."""
    return sum(win @ filters[dy, dx] for dy, dx, win in taps(x, filters.shape[0], stride)) + bias


def separable(x: np.ndarray, p: dict[str, np.ndarray], prefix: str, stride: int) -> np.ndarray:
    """tf.separableConv2d: depthwise [kh, kw, C, 1] with stride, pointwise [1, 1, C, out], then + bias."""
    dw = p[f"{prefix}/depthwise_filter"]
    depth = sum(win * dw[dy, dx, :, 0] for dy, dx, win in taps(x, dw.shape[0], stride))
    return depth @ p[f"{prefix}/pointwise_filter"][0, 0] + p[f"{prefix}/bias"]


def relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0)


def dense_block4(x: np.ndarray, p: dict[str, np.ndarray], name: str, first: bool) -> np.ndarray:
    """denseBlock4 with isScaleDown=True."""
    if first:
        out1 = relu(conv2d(x, p[f"{name}/conv0/filters"], p[f"{name}/conv0/bias"], 2))
    else:
        out1 = relu(separable(x, p, f"{name}/conv0", 2))
    out2 = separable(out1, p, f"{name}/conv1", 1)
    out3 = separable(relu(out1 + out2), p, f"{name}/conv2", 1)
    out4 = separable(relu(out1 + out2 + out3), p, f"{name}/conv3", 1)
    return relu(out1 + out2 + out3 + out4)


def avg_pool_valid(x: np.ndarray, k: int, stride: int) -> np.ndarray:
    """tf.avgPool with 'valid' padding."""
    out_h, out_w = (x.shape[1] - k) // stride + 1, (x.shape[2] - k) // stride + 1
    out = np.empty((x.shape[0], out_h, out_w, x.shape[3]))
    for i in range(out_h):
        for j in range(out_w):
            out[:, i, j] = x[:, i * stride : i * stride + k, j * stride : j * stride + k].mean(axis=(1, 2))
    return out


def forward(weights_path: Path, manifest_path: Path, images_nhwc_rgb: np.ndarray) -> np.ndarray:
    """Softmax probabilities [N, 7] for RGB images [N, 112, 112, 3] with pixel values 0..255."""
    p = load(weights_path, manifest_path)
    x = (np.asarray(images_nhwc_rgb, np.float64) - MEAN_RGB) / 255.0
    for i in range(4):
        x = dense_block4(x, p, f"dense{i}", first=i == 0)
    x = avg_pool_valid(x, 7, 2).reshape(x.shape[0], -1)
    logits = x @ p["fc/weights"] + p["fc/bias"]
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)
