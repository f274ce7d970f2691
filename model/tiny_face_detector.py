"""Convert face-api's Tiny Face Detector (@vladmandic/face-api 1.7.15, MIT) into an ONNX model.

The architecture follows the package's TinyFaceDetector -> TinyYolov2Base.runMobilenet (withSeparableConvs,
isFirstLayerConv2d, filter sizes 3-16-32-64-128-256-512): subtract the mean RGB and divide by 255, a 3x3
'valid' conv, five 2x2/2 'same' max pools each followed by a 3x3 separable conv (padded by 1), a 2x2/1
'same' max pool and a 1x1 conv to 5 anchors x 5 box values. Every activation is a leaky ReLU (alpha 0.1).

ONNX contract: input "image" float32 [N, S, S, 3], NHWC RGB 0..255, S dynamic but a multiple of 32 (face-api
uses 224..608; the explicit pool padding below holds for every multiple of 32). Output "grid" float32
[N, 25, S/32, S/32] (NCHW), channel = anchor * 5 + k with k = (tx, ty, tw, th, score logit). Padding the
frame to square, resizing, box decoding (sigmoid/exp with BOX_ANCHORS) and NMS happen outside the graph
(chalicelib/engine/tiny_faces.py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper

from model.faceapi import GraphBuilder, Weights, load_weights
from model.sources import FACEAPI_PACKAGE

MEAN_RGB = (117.001, 114.697, 97.404)
BOX_ANCHORS = (
    (1.603231, 2.094468),
    (6.041143, 7.080126),
    (2.882459, 3.518061),
    (4.266906, 5.178857),
    (9.041765, 10.66308),
)
IOU_THRESHOLD = 0.4
LEAKY_ALPHA = 0.1
SEPARABLE_LAYERS = 5  # conv1..conv5
OPSET = 17

# TF 'same' max pool padding (end only) per pool for S a multiple of 32: the 3x3 'valid' conv0 leaves S - 2
# (even, no pad), the next pool sees S/2 - 1 (odd, one extra row/column), the rest see even sizes.
_POOL_PADS = (0, 1, 0, 0, 0)


def _conv(
    g: GraphBuilder, x: str, w_oihw: np.ndarray, bias: np.ndarray | None, pad: int, name: str, group: int = 1
) -> str:
    """Stride-1 Conv with symmetric padding `pad`; `w_oihw` is already in ONNX layout."""
    kernel = int(w_oihw.shape[2])
    inputs = [x, g.const(f"{name}/W", w_oihw)]
    if bias is not None:
        inputs.append(g.const(f"{name}/B", bias))
    return g.node(
        "Conv", inputs, name, kernel_shape=[kernel, kernel], strides=[1, 1], pads=[pad] * 4, group=group
    )


def _leaky(g: GraphBuilder, x: str, name: str) -> str:
    return g.node("LeakyRelu", [x], name, alpha=LEAKY_ALPHA)


def _separable(g: GraphBuilder, x: str, w: Weights, prefix: str) -> str:
    """face-api depthwiseSeparableConv: pad 1, depthwise 3x3, pointwise 1x1, + bias, leaky ReLU."""
    depthwise = w[f"{prefix}/depthwise_filter"].transpose(2, 3, 0, 1)  # [3, 3, C, 1] -> [C, 1, 3, 3]
    pointwise = w[f"{prefix}/pointwise_filter"].transpose(3, 2, 0, 1)  # [1, 1, Ci, Co] -> [Co, Ci, 1, 1]
    dw = _conv(g, x, depthwise, None, 1, f"{prefix}/depthwise", group=int(depthwise.shape[0]))
    pw = _conv(g, dw, pointwise, w[f"{prefix}/bias"], 0, f"{prefix}/pointwise")
    return _leaky(g, pw, f"{prefix}/out")


def _max_pool(g: GraphBuilder, x: str, stride: int, pad_end: int, name: str) -> str:
    """tf.maxPool 2x2 'same': padding (ignored by the max) only after, at the bottom/right."""
    return g.node(
        "MaxPool", [x], name, kernel_shape=[2, 2], strides=[stride, stride], pads=[0, 0, pad_end, pad_end]
    )


def build_model(w: Weights) -> onnx.ModelProto:
    """Build the graph: NHWC RGB 0..255 'image' [N,S,S,3] -> raw NCHW 'grid' [N,25,S/32,S/32]."""
    g = GraphBuilder()
    x = g.normalized_input("image", MEAN_RGB)
    conv0 = w["conv0/filters"].transpose(3, 2, 0, 1)
    x = _leaky(g, _conv(g, x, conv0, w["conv0/bias"], 0, "conv0"), "conv0/out")
    for i in range(SEPARABLE_LAYERS):
        x = _max_pool(g, x, 2, _POOL_PADS[i], f"pool{i}")
        x = _separable(g, x, w, f"conv{i + 1}")
    x = _max_pool(g, x, 1, 1, f"pool{SEPARABLE_LAYERS}")
    conv8 = w["conv8/filters"].transpose(3, 2, 0, 1)
    g.node(
        "Conv",
        [x, g.const("conv8/W", conv8), g.const("conv8/B", w["conv8/bias"])],
        "grid",
        kernel_shape=[1, 1],
    )
    cells = "S_div_32"
    graph = helper.make_graph(
        g.nodes,
        "tiny_face_detector",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", "S", "S", 3])],
        [helper.make_tensor_value_info("grid", TensorProto.FLOAT, ["N", 5 * len(BOX_ANCHORS), cells, cells])],
        g.initializers,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="emotionfy"
    )
    model.ir_version = 8
    helper.set_model_props(model, _metadata())
    return model


def _metadata() -> dict[str, str]:
    return {
        "source": f"npm {FACEAPI_PACKAGE} model/tiny_face_detector_model (MIT)",
        "input": "NHWC RGB float32 0..255 [N,S,S,3], S a multiple of 32; frame padded bottom/right to square",
        "output": "grid NCHW [N,25,S/32,S/32], channel = anchor*5 + (tx,ty,tw,th,score logit)",
        "anchors": ";".join(f"{ax},{ay}" for ax, ay in BOX_ANCHORS),
        "iou_threshold": str(IOU_THRESHOLD),
    }


def convert(weights_path: Path, manifest_path: Path, out_path: Path) -> None:
    """Convert the Tiny Face Detector weights into a checked ONNX model at `out_path`."""
    model = build_model(load_weights(weights_path, manifest_path))
    onnx.checker.check_model(model, full_check=True)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(out_path))
