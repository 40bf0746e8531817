"""A convolution and the max-pooling after it as one op (``FusedConv2DMaxPool``), NHWC.

``Sequential`` runs a ``Conv2D`` (ReLU or linear) followed by a ``MaxPooling2D`` as this op
(``minitf/keras/fusion.py``), as TensorFlow's graph optimizer fuses Conv2D + BiasAdd + Relu.
Its forward never writes the full-size convolution output: each block is pooled while it is
still in cache, and the op returns the pooled values with ``argmax``, the position of each
window's first maximum as a flat index into one image's convolution output,
``(row * out_width + col) * channels + channel`` (int32; ``tf.nn.max_pool_with_argmax``'s
layout). The backward ops take the pooled gradient and that ``argmax`` and scatter it into the
convolution's gradient block by block (``ScatterArgmax`` and ``GatherArgmax`` are that scatter
and its adjoint as ops of their own, for second derivatives), so the large gradient of the
convolution output is never written either.

``relu(max(y)) == max(relu(y))``, so the ReLU's gradient is applied to the pooled gradient
(``relu_grad(dz, z)``), four times smaller than the convolution output for 2x2 pooling.
"""

from __future__ import annotations

from typing import Any

from .. import dtypes as _dtypes
from ..framework.execute import convert_to_tensor, execute
from ..framework.registry import ShapeError, defop
from ..framework.tensor import Tensor
from ..framework.tensor_shape import fmt
from . import _rules
from .conv_ops import (
    _ACTIVATIONS,
    _as_hw,
    _conv_output,
    _float_dtype,
    _kw,
    _padding_arg,
    _pool_output,
    _same,
)

_INT = "int32"


def _pool_kw(attrs: dict) -> dict:
    """The pooling attributes under the names ``_pool_output`` reads."""
    return {"ksize": attrs["ksize"], "strides": attrs["pool_strides"],
            "padding": attrs["pool_padding"]}


def _pooled(x: Any, w: Any, attrs: dict) -> tuple:
    """The shapes of the convolution output and of the pooled output."""
    conv = _conv_output(x, w, attrs)
    if conv[1] is None or conv[2] is None:
        return conv, (conv[0], None, None, conv[3])
    return conv, _pool_output(conv, _pool_kw(attrs))


def _fused_infer(shapes, dtypes, attrs):
    d = _float_dtype(dtypes, ["input", "filters", "bias"], "conv2d")
    if attrs["activation"] not in _ACTIVATIONS:
        raise ShapeError(f"activation must be one of {_ACTIVATIONS}, got {attrs['activation']!r}")
    conv, pooled = _pooled(shapes[0], shapes[1], attrs)
    b = shapes[2]
    if len(b) != 1 or not _same(b[0], conv[3]):
        raise ShapeError(f"bias must be a vector of the {conv[3]} output channels, got {fmt(b)}")
    return [(pooled, d), (pooled, _dtypes.int32)]


def _check_pooled_grad(shapes: Any, dtypes: Any, attrs: dict) -> Any:
    """(input, filters, argmax, grad): checks argmax and grad have the pooled shape."""
    d = _float_dtype([dtypes[0], dtypes[1], dtypes[3]], ["input", "filters", "grad"], "conv2d")
    if dtypes[2].name != _INT:
        raise ShapeError(f"argmax must be {_INT}, got {dtypes[2].name}")
    _, pooled = _pooled(shapes[0], shapes[1], attrs)
    for what, s in (("argmax", shapes[2]), ("grad", shapes[3])):
        if len(s) != 4 or not all(_same(a, b) for a, b in zip(s, pooled)):
            raise ShapeError(f"{what} has shape {fmt(s)} but convolving {fmt(shapes[0])} with "
                             f"{fmt(shapes[1])} and pooling gives {fmt(pooled)}")
    return d


def _backprop_input_infer(shapes, dtypes, attrs):
    return [(shapes[0], _check_pooled_grad(shapes, dtypes, attrs))]


def _backprop_filter_infer(shapes, dtypes, attrs):
    return [(shapes[1], _check_pooled_grad(shapes, dtypes, attrs))]


def _fused_grad(op, dz, _):
    from .math_ops import relu_grad
    from .reduction_ops import reduce_sum

    if dz is None:
        return [None, None, None]
    x, w, _ = op.inputs
    z, argmax = op.outputs
    g = relu_grad(dz, z) if op.attrs["activation"] == "relu" else dz
    return [execute("FusedConv2DMaxPoolBackpropInput", [x, w, argmax, g], op.attrs),
            execute("FusedConv2DMaxPoolBackpropFilter", [x, w, argmax, g], op.attrs),
            reduce_sum(g, [0, 1, 2])]


def _backprop_input_grad(op, gx):
    # dx = D(w, S(argmax, g)) is bilinear in (w, g), as Conv2DBackpropInput is in (w, dy).
    _, w, argmax, g = op.inputs
    return [None, execute("FusedConv2DMaxPoolBackpropFilter", [gx, w, argmax, g], op.attrs),
            None, execute("GatherArgmax", [execute("Conv2D", [gx, w], _kw(op.attrs)), argmax])]


def _backprop_filter_grad(op, gw):
    x, _, argmax, g = op.inputs
    return [execute("FusedConv2DMaxPoolBackpropInput", [x, gw, argmax, g], op.attrs), None,
            None, execute("GatherArgmax", [execute("Conv2D", [x, gw], _kw(op.attrs)), argmax])]


def _geometry(a: dict) -> tuple:
    return a["strides"], a["padding"], a["dilations"]


defop("FusedConv2DMaxPool", _fused_infer,
      lambda rt, x, w, b, **a: rt.be.conv2d_bias_act_max_pool(
          x, w, b, *_geometry(a), a["activation"], a["ksize"], a["pool_strides"],
          a["pool_padding"]),
      _fused_grad, num_outputs=2,
      doc="max_pool(activation(conv2d(input, filters) + bias)) and the argmax of each window.")
defop("FusedConv2DMaxPoolBackpropInput", _backprop_input_infer,
      lambda rt, x, w, argmax, g, **a: rt.be.fused_conv2d_max_pool_backprop_input(
          x.shape, w, argmax, g, *_geometry(a)),
      _backprop_input_grad,
      doc="Gradient of FusedConv2DMaxPool's convolution with respect to its input, from the "
          "pooled gradient (after the activation's gradient) and argmax.")
defop("FusedConv2DMaxPoolBackpropFilter", _backprop_filter_infer,
      lambda rt, x, w, argmax, g, **a: rt.be.fused_conv2d_max_pool_backprop_filter(
          x, w.shape, argmax, g, *_geometry(a)),
      _backprop_filter_grad,
      doc="Gradient of FusedConv2DMaxPool's convolution with respect to its filters, from the "
          "pooled gradient (after the activation's gradient) and argmax.")


# -- the scatter and its adjoint ----------------------------------------------------------------


def _check_argmax(y: Any, argmax: Any, dtype: Any) -> None:
    if dtype.name != _INT:
        raise ShapeError(f"argmax must be {_INT}, got {dtype.name}")
    if len(y) != 4 or len(argmax) != 4 or not _same(y[0], argmax[0]):
        raise ShapeError(f"argmax {fmt(argmax)} must index 4-D inputs with its batch size, got "
                         f"{fmt(y)}")


def _gather_infer(shapes, dtypes, attrs):
    _rules.require(dtypes[0], "f", "GatherArgmax")
    _check_argmax(shapes[0], shapes[1], dtypes[1])
    return [(shapes[1], dtypes[0])]


def _scatter_infer(shapes, dtypes, attrs):
    argmax, g, like = shapes
    d = _float_dtype([dtypes[1], dtypes[2]], ["grad", "like"], "ScatterArgmax")
    _check_argmax(like, argmax, dtypes[0])
    if len(g) != 4 or not all(_same(a, b) for a, b in zip(g, argmax)):
        raise ShapeError(f"grad must have argmax's shape {fmt(argmax)}, got {fmt(g)}")
    return [(like, d)]


defop("GatherArgmax", _gather_infer, lambda rt, y, argmax: rt.be.gather_argmax(y, argmax),
      lambda op, g: [execute("ScatterArgmax", [op.inputs[1], g, op.inputs[0]]), None],
      doc="out[n, ...] = input[n].flat[argmax[n, ...]] (argmax indexes one image).")
defop("ScatterArgmax", _scatter_infer,
      lambda rt, argmax, g, like: rt.be.scatter_argmax(argmax, g, like.shape),
      lambda op, gy: [None, execute("GatherArgmax", [gy, op.inputs[0]]), None],
      doc="Zeros of like's shape with grad added at argmax (the adjoint of GatherArgmax).")


def fused_conv2d_max_pool(input: Any, filters: Any, bias: Any, strides: Any,  # noqa: A002
                          padding: str, dilations: Any = 1, activation: str = "linear",
                          ksize: Any = 2, pool_strides: Any = None, pool_padding: str = "VALID",
                          name: str | None = None) -> Tensor:
    """``max_pool2d(activation(conv2d(input, filters) + bias), ksize, pool_strides,
    pool_padding)`` as one op (``activation``: 'linear' or 'relu'); the full-size convolution
    output is never stored."""
    x = convert_to_tensor(input)
    w = convert_to_tensor(filters, dtype_hint=x.dtype)
    b = convert_to_tensor(bias, dtype_hint=x.dtype)
    attrs = {"strides": _as_hw(strides), "padding": _padding_arg(padding),
             "dilations": _as_hw(dilations), "activation": activation, "ksize": _as_hw(ksize),
             "pool_strides": _as_hw(ksize if pool_strides is None else pool_strides),
             "pool_padding": _padding_arg(pool_padding)}
    return execute("FusedConv2DMaxPool", [x, w, b], attrs, name=name)[0]
