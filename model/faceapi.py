"""Convert the face-api expression net (@vladmandic/face-api 1.7.15, MIT) into an ONNX model.

The architecture follows the package's FaceExpressionNet -> FaceProcessor -> FaceFeatureExtractor:
normalise ((x - mean RGB) / 255), four `denseBlock4` blocks (each halves the resolution), a 7x7 average
pool, a 256 -> 7 fully connected layer and a softmax. Face cropping, padding to square and resizing to
112x112 happen outside the graph.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from model.sources import FACEAPI_PACKAGE

LABELS = ("neutral", "happy", "sad", "angry", "fearful", "disgusted", "surprised")
MEAN_RGB = (122.782, 117.001, 104.298)
INPUT_SIZE = 112
CHANNELS = (32, 64, 128, 256)
OPSET = 17

Weights = dict[str, np.ndarray]


def load_weights(weights_path: Path, manifest_path: Path) -> Weights:
    """Read the concatenated weight tensors, dequantising uint8/uint16 ones as tfjs does (q * scale + min)."""
    manifest = json.loads(manifest_path.read_text())
    buffer = weights_path.read_bytes()
    weights: Weights = {}
    offset = 0
    for group in manifest:
        for entry in group["weights"]:
            weights[entry["name"]], offset = _read_tensor(buffer, offset, entry)
    if offset != len(buffer):
        raise ValueError(f"{weights_path}: read {offset} of {len(buffer)} bytes")
    return weights


def _read_tensor(buffer: bytes, offset: int, entry: dict[str, Any]) -> tuple[np.ndarray, int]:
    """Decode one manifest entry starting at `offset`; return it and the offset after it."""
    shape = [int(d) for d in entry["shape"]]
    count = int(np.prod(shape, dtype=np.int64))
    quant = entry.get("quantization")
    if quant is None:
        if entry["dtype"] != "float32":
            raise ValueError(f"unsupported dtype {entry['dtype']} for {entry['name']}")
        raw = np.frombuffer(buffer, dtype="<f4", count=count, offset=offset)
        return raw.reshape(shape).astype(np.float32), offset + 4 * count
    qdtype = np.dtype({"uint8": "u1", "uint16": "<u2"}[quant["dtype"]])
    q = np.frombuffer(buffer, dtype=qdtype, count=count, offset=offset)
    values = q.astype(np.float64) * float(quant["scale"]) + float(quant["min"])
    return values.reshape(shape).astype(np.float32), offset + q.nbytes


def same_pads(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TF 'same' padding for one axis as (before, after); the extra pixel goes after (bottom/right)."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class GraphBuilder:
    """Accumulates ONNX nodes and initializers with unique names."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []

    def const(self, name: str, value: np.ndarray) -> str:
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(value, np.float32), name))
        return name

    def node(self, op: str, inputs: Sequence[str], name: str, **attrs: Any) -> str:
        self.nodes.append(helper.make_node(op, list(inputs), [name], name=name, **attrs))
        return name

    def normalized_input(self, name: str, mean_rgb: Sequence[float]) -> str:
        """face-api's preprocessing of an NHWC RGB 0..255 input: NCHW, then (x - mean) / 255.

        Transposed first, so the mean is subtracted per channel plane: onnxruntime broadcast a mean along the
        innermost axis of 3 at ~4 ns an element (10% of face-api's run)."""
        mean = np.asarray(mean_rgb, np.float32).reshape(1, 3, 1, 1)
        x = self.node("Transpose", [name], "nchw", perm=[0, 3, 1, 2])
        x = self.node("Sub", [x, self.const("mean_rgb", mean)], "centered")
        return self.node("Div", [x, self.const("scale_255", np.asarray(255.0, np.float32))], "normalized")


def _conv(
    g: GraphBuilder,
    x: str,
    w_oihw: np.ndarray,
    bias: np.ndarray | None,
    size: int,
    stride: int,
    name: str,
    group: int = 1,
) -> str:
    """Conv with TF 'same' padding made explicit; `w_oihw` is already in ONNX layout."""
    kernel = int(w_oihw.shape[2])
    before, after = same_pads(size, kernel, stride)  # square input and kernel: same for H and W
    inputs = [x, g.const(f"{name}/W", w_oihw)]
    if bias is not None:
        inputs.append(g.const(f"{name}/B", bias))
    return g.node(
        "Conv",
        inputs,
        name,
        kernel_shape=[kernel, kernel],
        strides=[stride, stride],
        pads=[before, before, after, after],
        group=group,
    )


def _plain_conv(g: GraphBuilder, x: str, w: Weights, prefix: str, size: int, stride: int) -> str:
    """tf.conv2d(x, filters [kh, kw, in, out], stride, 'same') + bias."""
    filters = w[f"{prefix}/filters"].transpose(3, 2, 0, 1)
    return _conv(g, x, filters, w[f"{prefix}/bias"], size, stride, prefix)


def _separable_conv(g: GraphBuilder, x: str, w: Weights, prefix: str, size: int, stride: int) -> str:
    """tf.separableConv2d (stride on the depthwise part) + bias, as depthwise Conv then pointwise 1x1 Conv."""
    depthwise = w[f"{prefix}/depthwise_filter"].transpose(2, 3, 0, 1)  # [3, 3, C, 1] -> [C, 1, 3, 3]
    pointwise = w[f"{prefix}/pointwise_filter"].transpose(3, 2, 0, 1)  # [1, 1, Ci, Co] -> [Co, Ci, 1, 1]
    channels = int(depthwise.shape[0])
    dw = _conv(g, x, depthwise, None, size, stride, f"{prefix}/depthwise", group=channels)
    out_size = -(-size // stride)
    return _conv(g, dw, pointwise, w[f"{prefix}/bias"], out_size, 1, f"{prefix}/pointwise")


def _dense_block(g: GraphBuilder, x: str, w: Weights, prefix: str, size: int, first: bool) -> str:
    """face-api denseBlock4: stride-2 conv0, three separable convs with relu'd running sums as inputs."""
    conv0 = _plain_conv if first else _separable_conv
    out1 = g.node("Relu", [conv0(g, x, w, f"{prefix}/conv0", size, 2)], f"{prefix}/out1")
    size = -(-size // 2)
    outs = [out1]
    for i in (1, 2, 3):
        if i == 1:
            block_in = out1
        else:
            block_in = g.node("Relu", [_running_sum(g, outs, f"{prefix}/sum{i}")], f"{prefix}/in{i + 1}")
        outs.append(_separable_conv(g, block_in, w, f"{prefix}/conv{i}", size, 1))
    return g.node("Relu", [_running_sum(g, outs, f"{prefix}/sum4")], f"{prefix}/out")


def _running_sum(g: GraphBuilder, terms: list[str], name: str) -> str:
    """out1 + (out2 + (out3 + ...)), nested from the right as face-api adds them."""
    total = terms[-1]
    for k, term in enumerate(reversed(terms[:-1])):
        total = g.node("Add", [term, total], f"{name}/{k}")
    return total


def build_model(w: Weights) -> onnx.ModelProto:
    """Build the ONNX graph: NHWC RGB 0..255 'image' [N,112,112,3] -> softmax 'probs' [N,7]."""
    g = GraphBuilder()
    x = g.normalized_input("image", MEAN_RGB)
    size = INPUT_SIZE
    for i in range(len(CHANNELS)):
        x = _dense_block(g, x, w, f"dense{i}", size, first=i == 0)
        size = -(-size // 2)
    x = g.node("AveragePool", [x], "avgpool", kernel_shape=[7, 7], strides=[2, 2])
    x = g.node("Flatten", [x], "features", axis=1)
    fc_w, fc_b = g.const("fc/weights", w["fc/weights"]), g.const("fc/bias", w["fc/bias"])
    x = g.node("Gemm", [x, fc_w, fc_b], "logits")
    g.node("Softmax", [x], "probs", axis=-1)
    graph = helper.make_graph(
        g.nodes,
        "faceapi_expression",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", INPUT_SIZE, INPUT_SIZE, 3])],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["N", len(LABELS)])],
        g.initializers,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="emotionfy"
    )
    model.ir_version = 8
    helper.set_model_props(
        model,
        {
            "source": f"npm {FACEAPI_PACKAGE} model/face_expression_model (MIT)",
            "labels": ",".join(LABELS),
            "input": "NHWC RGB float32 0..255, face padded to square and resized to 112x112",
        },
    )
    return model


def convert(weights_path: Path, manifest_path: Path, out_path: Path) -> None:
    """Convert the face-api expression weights into a checked ONNX model at `out_path`."""
    model = build_model(load_weights(weights_path, manifest_path))
    onnx.checker.check_model(model, full_check=True)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(out_path))
