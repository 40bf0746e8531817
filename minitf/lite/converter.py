"""``tf.lite.TFLiteConverter``: a Keras Sequential model to minitf-lite bytes.

``convert()`` first lowers the layers to float32 ops (Dense -> FULLY_CONNECTED with weights
[out, in], Conv2D -> CONV_2D with weights [kh, kw, in, out], MaxPooling2D -> MAX_POOL_2D,
Flatten -> RESHAPE, ReLU fused where it follows a Dense/Conv2D, softmax -> SOFTMAX, Dropout
dropped), then, as TFLite decides from the converter's settings:

* no optimizations: float32 weights;
* ``target_spec.supported_types = [tf.float16]``: float16 weights, each followed by a
  DEQUANTIZE to float32 (folded at ``allocate_tensors``);
* ``Optimize.DEFAULT`` without ``representative_dataset``: dynamic range, int8 weights (per
  output channel) and float activations, the hybrid kernels quantizing inputs on the fly;
* ``Optimize.DEFAULT`` with ``representative_dataset``: full integer, every activation int8
  with the range measured on the calibration samples, int32 biases; float32 inputs/outputs
  are quantized/dequantized at the model's edges unless ``inference_input_type`` /
  ``inference_output_type`` is ``tf.int8``.

minitf differs from TFLite: only Sequential models of the layers above convert (others raise
naming the layer), and the output is minitf's own format (``format.py``), not a FlatBuffer.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from .. import dtypes
from . import format as fmt
from . import quantize as Q


class Optimize(enum.Enum):
    """``tf.lite.Optimize``: DEFAULT quantizes (the older names are aliases, as in TF)."""

    DEFAULT = "DEFAULT"
    OPTIMIZE_FOR_SIZE = "OPTIMIZE_FOR_SIZE"
    OPTIMIZE_FOR_LATENCY = "OPTIMIZE_FOR_LATENCY"
    EXPERIMENTAL_SPARSITY = "EXPERIMENTAL_SPARSITY"


class OpsSet(enum.Enum):
    """``tf.lite.OpsSet``: TFLITE_BUILTINS_INT8 asks for integer-only ops."""

    TFLITE_BUILTINS = "TFLITE_BUILTINS"
    TFLITE_BUILTINS_INT8 = "TFLITE_BUILTINS_INT8"
    SELECT_TF_OPS = "SELECT_TF_OPS"


class TargetSpec:
    def __init__(self, supported_ops: Any = None, supported_types: Any = None) -> None:
        self.supported_ops = set(supported_ops or {OpsSet.TFLITE_BUILTINS})
        self.supported_types = list(supported_types or [])


class _Graph:
    """The model under construction: tensors and ops of a :class:`format.ModelSpec`."""

    def __init__(self) -> None:
        self.tensors: list[fmt.TensorSpec] = []
        self.ops: list[fmt.OpSpec] = []

    def tensor(self, name: str, dtype: str, shape: Any, data: Any = None, scale: Any = (),
               zero_point: Any = (), qdim: int = 0) -> int:
        self.tensors.append(fmt.TensorSpec(name, dtype, [int(d) for d in shape], data,
                                           list(scale), list(zero_point), qdim))
        return len(self.tensors) - 1

    def op(self, kind: str, inputs: list[int], outputs: list[int], **options: Any) -> None:
        self.ops.append(fmt.OpSpec(kind, inputs, outputs, options))


# -- float lowering ------------------------------------------------------------------------------


def _activation_name(fn: Any, layer: Any) -> str:
    from ..keras import activations

    name = activations.serialize(fn)
    if name not in ("linear", "relu", "softmax"):
        raise NotImplementedError(f"tf.lite in minitf converts linear, relu and softmax "
                                  f"activations; layer '{layer.name}' uses {name!r}")
    return name


def _lower(model: Any) -> tuple[list[dict], list[int], list]:
    """The model as a list of float ops ``{"op", "options", "weights", "name"}``, its input
    shape (batch axis excluded), and the activation ranges quantization-aware training
    learned (the input's, then each op's output; None where there are none)."""
    from ..keras import layers as L
    from ..keras.models import Sequential

    if not isinstance(model, Sequential):
        raise NotImplementedError(f"tf.lite in minitf converts Sequential models, got "
                                  f"{type(model).__name__}")
    shape = getattr(model, "input_shape_", None)
    if shape is None or any(d is None for d in list(shape)[1:]):
        raise ValueError("the model must be built with a known input shape (give the first "
                         "layer input_shape=..., or call the model once) before converting")
    ops: list[dict] = []
    input_range = None
    for layer in model.layers:
        act, qat_range = None, getattr(layer, "export_range", lambda: None)()
        if hasattr(layer, "export_kernel"):  # a tfmot wrapper (pruning or QAT) around a layer
            kernel, layer = layer.export_kernel(), layer.layer
        elif hasattr(layer, "export_range"):  # tfmot's QuantizeLayer: the input's range
            input_range = qat_range
            continue
        else:
            kernel = layer.kernel.numpy() if hasattr(layer, "kernel") else None
        if isinstance(layer, L.Dense):
            w = kernel
            b = layer.bias.numpy() if layer.bias is not None else np.zeros(w.shape[1], np.float32)
            ops.append({"op": "FULLY_CONNECTED", "name": layer.name,
                        "weights": (np.ascontiguousarray(w.T), b), "options": {}})
            act = _activation_name(layer.activation, layer)
        elif isinstance(layer, L.Conv2D):
            if layer.dilation_rate != (1, 1):
                raise NotImplementedError(f"Conv2D '{layer.name}': dilation is not supported by "
                                          f"tf.lite in minitf")
            w = kernel
            b = layer.bias.numpy() if layer.bias is not None else np.zeros(w.shape[3], np.float32)
            ops.append({"op": "CONV_2D", "name": layer.name, "weights": (w, b),
                        "options": {"strides": list(layer.strides), "padding": layer.padding}})
            act = _activation_name(layer.activation, layer)
        elif isinstance(layer, L.MaxPooling2D):
            if layer.padding != "VALID":
                raise NotImplementedError(f"MaxPooling2D '{layer.name}': only padding='valid' "
                                          f"converts")
            ops.append({"op": "MAX_POOL_2D", "name": layer.name, "weights": (),
                        "options": {"pool_size": list(layer.pool_size),
                                    "strides": list(layer.strides)}})
        elif isinstance(layer, L.Flatten):
            ops.append({"op": "RESHAPE", "name": layer.name, "weights": (), "options": {}})
        elif isinstance(layer, L.Activation):
            act = _activation_name(layer.activation, layer)
        elif not isinstance(layer, L.Dropout):
            raise NotImplementedError(f"tf.lite in minitf cannot convert layer '{layer.name}' "
                                      f"({type(layer).__name__})")
        if qat_range is not None and act != "softmax":
            ops[-1]["range"] = qat_range
        if act == "relu" and ops and ops[-1]["op"] in ("FULLY_CONNECTED", "CONV_2D") and \
                "activation" not in ops[-1]["options"]:
            ops[-1]["options"]["activation"] = "RELU"
        elif act == "relu":
            ops.append({"op": "RELU", "name": layer.name + "/relu", "weights": (), "options": {}})
        elif act == "softmax":
            ops.append({"op": "SOFTMAX", "name": layer.name + "/softmax", "weights": (),
                        "options": {"beta": 1.0}})
    for o in ops:
        if o["op"] in ("FULLY_CONNECTED", "CONV_2D"):
            o["options"].setdefault("activation", "NONE")
    ranges = [input_range] + [o.get("range") for o in ops]
    return ops, [int(d) for d in list(shape)[1:]], ranges


def _output_shape(op: dict, shape: list[int]) -> list[int]:
    """The output shape (batch 1 included) of a float op given its input shape."""
    kind, opt = op["op"], op["options"]
    if kind == "FULLY_CONNECTED":
        if len(shape) != 2:
            raise NotImplementedError(f"Dense '{op['name']}' on a rank-{len(shape)} input does "
                                      f"not convert (add a Flatten first)")
        return [shape[0], op["weights"][0].shape[0]]
    if kind == "CONV_2D":
        kh, kw, _, co = op["weights"][0].shape
        (sh, sw), h, w = opt["strides"], shape[1], shape[2]
        if opt["padding"] == "SAME":
            return [shape[0], -(-h // sh), -(-w // sw), co]
        return [shape[0], (h - kh) // sh + 1, (w - kw) // sw + 1, co]
    if kind == "MAX_POOL_2D":
        (fh, fw), (sh, sw) = opt["pool_size"], opt["strides"]
        return [shape[0], (shape[1] - fh) // sh + 1, (shape[2] - fw) // sw + 1, shape[3]]
    if kind == "RESHAPE":
        return [shape[0], int(np.prod(shape[1:]))]
    return list(shape)


def _float_model(ops: list[dict], in_shape: list[int], weight_dtype: str = "float32"
                 ) -> fmt.ModelSpec:
    """Float activations; weights float32, float16 (+ DEQUANTIZE) or int8 (dynamic range)."""
    g = _Graph()
    x = g.tensor("serving_default_input", "float32", [1, *in_shape])
    first = x
    shape = [1, *in_shape]
    for o in ops:
        ins = [x]
        for j, arr in enumerate(o["weights"]):
            name = f"{o['name']}/{'kernel' if j == 0 else 'bias'}"
            if weight_dtype == "int8" and j == 0:
                axis = 0 if o["op"] == "FULLY_CONNECTED" else 3
                q, s = Q.quantize_weights(np.moveaxis(arr, axis, -1))
                ins.append(g.tensor(name, "int8", arr.shape, np.moveaxis(q, -1, axis), s,
                                    [0] * len(s), axis))
            elif weight_dtype == "float16":
                h = g.tensor(name + "_fp16", "float16", arr.shape, arr.astype(np.float16))
                ins.append(g.tensor(name, "float32", arr.shape))
                g.op("DEQUANTIZE", [h], [ins[-1]])
            else:
                ins.append(g.tensor(name, "float32", arr.shape, arr.astype(np.float32)))
        shape = _output_shape(o, shape)
        x = g.tensor(o["name"], "float32", shape)
        g.op(o["op"], ins, [x], **o["options"])
    return fmt.ModelSpec(g.tensors, g.ops, [first], [x])


# -- calibration and full-integer quantization ---------------------------------------------------


def _calibrate(ops: list[dict], in_shape: list[int], dataset: Callable[[], Iterable]
               ) -> list[tuple[float, float]]:
    """(min, max) of the input and of each op's output over the representative samples."""
    from .interpreter import Interpreter

    model = _float_model(ops, in_shape)
    it = Interpreter(model_content=fmt.serialize(model))
    watch = [model.inputs[0]] + [o.outputs[0] for o in model.operators]
    lo, hi, batch, seen = np.full(len(watch), np.inf), np.full(len(watch), -np.inf), None, 0
    for sample in dataset():
        if isinstance(sample, dict):
            sample = list(sample.values())
        x = np.asarray(sample[0] if isinstance(sample, (list, tuple)) else sample, np.float32)
        if x.shape[1:] != tuple(in_shape):
            raise ValueError(f"representative_dataset yielded shape {list(x.shape)}, the model "
                             f"takes [batch, {', '.join(map(str, in_shape))}]")
        if x.shape[0] != batch:
            it.resize_tensor_input(model.inputs[0], x.shape)
            it.allocate_tensors()
            batch = x.shape[0]
        it.set_tensor(model.inputs[0], x)
        it.invoke()
        for k, i in enumerate(watch):
            v = it.tensor(i)()
            lo[k], hi[k] = min(lo[k], float(v.min())), max(hi[k], float(v.max()))
        seen += 1
    if not seen:
        raise ValueError("representative_dataset yielded no samples")
    return list(zip(lo, hi))


def _int8_model(ops: list[dict], in_shape: list[int], ranges: list[tuple[float, float]],
                int8_in: bool, int8_out: bool) -> fmt.ModelSpec:
    g = _Graph()
    s, z = Q.activation_params(*ranges[0])
    if int8_in:
        x = first = g.tensor("serving_default_input", "int8", [1, *in_shape], None, [s], [z])
    else:
        first = g.tensor("serving_default_input", "float32", [1, *in_shape])
        x = g.tensor("serving_default_input/quantized", "int8", [1, *in_shape], None, [s], [z])
        g.op("QUANTIZE", [first], [x])
    shape = [1, *in_shape]
    for o, rng in zip(ops, ranges[1:]):
        ins, kind = [x], o["op"]
        shape = _output_shape(o, shape)
        if kind in ("FULLY_CONNECTED", "CONV_2D"):
            w, b = o["weights"]
            axis = 0 if kind == "FULLY_CONNECTED" else 3
            q, ws = Q.quantize_weights(np.moveaxis(w, axis, -1))
            ins.append(g.tensor(o["name"] + "/kernel", "int8", w.shape, np.moveaxis(q, -1, axis),
                                ws, [0] * len(ws), axis))
            ins.append(g.tensor(o["name"] + "/bias", "int32", b.shape, Q.quantize_bias(b, s, ws),
                                s * ws, [0] * len(ws), 0))
            s, z = Q.activation_params(*rng)
        elif kind == "SOFTMAX":
            s, z = 1 / 256, -128
        x = g.tensor(o["name"], "int8", shape, None, [s], [z])
        g.op(kind, ins, [x], **o["options"])
    if not int8_out:
        out = g.tensor("StatefulPartitionedCall", "float32", shape)
        g.op("DEQUANTIZE", [x], [out])
        x = out
    return fmt.ModelSpec(g.tensors, g.ops, [first], [x])


# -- the converter -------------------------------------------------------------------------------


class TFLiteConverter:
    """``tf.lite.TFLiteConverter.from_keras_model(model)``; set options; ``convert()`` -> bytes."""

    def __init__(self, model: Any) -> None:
        self._model = model
        self.optimizations: list[Optimize] = []
        self.representative_dataset: Any = None
        self.target_spec = TargetSpec()
        self.inference_input_type: Any = dtypes.float32
        self.inference_output_type: Any = dtypes.float32
        self.experimental_new_converter = True
        self.allow_custom_ops = False

    @classmethod
    def from_keras_model(cls, model: Any) -> TFLiteConverter:
        return cls(model)

    def _io_type(self, value: Any, what: str) -> bool:
        d = dtypes.as_dtype(value)
        if d not in (dtypes.float32, dtypes.int8):
            raise ValueError(f"{what} must be tf.float32 or tf.int8 in minitf, got {d.name}")
        return d == dtypes.int8

    def convert(self) -> bytes:
        ops, in_shape, qat_ranges = _lower(self._model)
        int8_in = self._io_type(self.inference_input_type, "inference_input_type")
        int8_out = self._io_type(self.inference_output_type, "inference_output_type")
        quantize = bool(self.optimizations)
        int8_only = OpsSet.TFLITE_BUILTINS_INT8 in self.target_spec.supported_ops
        types = [dtypes.as_dtype(t) for t in self.target_spec.supported_types]
        qat = all(r is not None for k, r in enumerate(qat_ranges)
                  if k == 0 or ops[k - 1]["op"] in ("FULLY_CONNECTED", "CONV_2D"))
        calibrate = self.representative_dataset is not None
        if (int8_in or int8_out or int8_only) and not (quantize and (calibrate or qat)):
            raise ValueError("full integer quantization (int8 ops or int8 inputs/outputs) needs "
                             "optimizations=[tf.lite.Optimize.DEFAULT] and a "
                             "representative_dataset (or a quantization-aware trained model)")
        if quantize and (calibrate or qat) and dtypes.float16 not in types:
            ranges = qat_ranges
            if not qat:  # calibrate; ranges learned in training (QAT) take precedence
                data = getattr(self.representative_dataset, "input_gen",
                               self.representative_dataset)  # tf.lite.RepresentativeDataset
                ranges = [q or c for q, c in zip(qat_ranges, _calibrate(ops, in_shape, data))]
            model = _int8_model(ops, in_shape, ranges, int8_in, int8_out)
        elif quantize and dtypes.float16 in types:
            model = _float_model(ops, in_shape, "float16")
        elif quantize:
            model = _float_model(ops, in_shape, "int8")
        else:
            model = _float_model(ops, in_shape)
        return fmt.serialize(model)


class RepresentativeDataset:
    """``tf.lite.RepresentativeDataset(input_gen)``: a wrapper some TF code uses."""

    def __init__(self, input_gen: Callable[[], Iterable]) -> None:
        self.input_gen = input_gen
