"""Convolution and pooling ops (``tf.nn.conv2d``, ``max_pool2d``, ``avg_pool2d``), NHWC.

As in TensorFlow, each backward pass is an op of its own (``Conv2DBackpropInput``,
``Conv2DBackpropFilter``, ``MaxPoolGrad``, ``AvgPoolGrad``) with a kernel on every backend,
and the gradients of those ops are written with the same ops, so second derivatives work.
Where TensorFlow passes a shape (``input_sizes``), minitf passes the tensor itself and reads
only its shape, as the ``*Like`` ops do: the gradient then also works when the shape is known
only at run time.
"""

from __future__ import annotations

from typing import Any

from ..backends.conv_geometry import window_2d
from ..framework.execute import convert_to_tensor, execute
from ..framework.registry import ShapeError, defop, tf_export
from ..framework.tensor import Tensor
from ..framework.tensor_shape import fmt
from . import _rules

_PADDINGS = ("SAME", "VALID")


# -- arguments -------------------------------------------------------------------------------------


def _as_hw(value: Any) -> Any:
    """An int, ``[h, w]`` or TF's ``[1, h, w, 1]`` as ``(h, w)``; anything else is returned as
    it is for the shape rule to reject with the op's name."""
    if isinstance(value, int):
        return (value, value)
    try:
        vals = [int(v) for v in value]
    except (TypeError, ValueError):
        return value
    if len(vals) == 1:
        return (vals[0], vals[0])
    if len(vals) == 2:
        return tuple(vals)
    if len(vals) == 4 and vals[0] == vals[3] == 1:
        return (vals[1], vals[2])
    return value


def _check_pair(value: Any, what: str) -> tuple[int, int]:
    if not (isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, int) and v > 0
                                                                 for v in value)):
        raise ShapeError(f"{what} must be a positive int, [h, w] or [1, h, w, 1], got {value!r}")
    return value


def _check_padding(padding: Any) -> str:
    if padding not in _PADDINGS:
        raise ShapeError(f"padding must be 'SAME' or 'VALID', got {padding!r}")
    return padding


def _padding_arg(padding: Any) -> Any:
    return padding.upper() if isinstance(padding, str) else padding


def _check_nhwc(shape: Any, what: str) -> None:
    if len(shape) != 4:
        raise ShapeError(f"{what} must be 4-D NHWC [batch, height, width, channels], got "
                         f"{fmt(shape)}")


def _window(shape: Any, ksize: tuple[int, int], strides, dilations, padding) -> tuple:
    """The output (height, width) for an NHWC ``shape``, or ShapeError if no window fits."""
    try:
        oh, ow, _ = window_2d(shape[1], shape[2], ksize, strides, dilations, padding)
    except ValueError as e:
        raise ShapeError(f"input {fmt(shape)}: {e}") from None
    return oh, ow


def _same(a: Any, b: Any) -> bool:
    return a is None or b is None or a == b


# -- Conv2D and its two backward ops ----------------------------------------------------------------


def _conv_attrs(attrs: dict) -> tuple:
    strides = _check_pair(attrs["strides"], "strides")
    dilations = _check_pair(attrs["dilations"], "dilations")
    return strides, _check_padding(attrs["padding"]), dilations


def _conv_output(x: Any, w: Any, attrs: dict) -> tuple:
    """Checks input and filter shapes; the conv's output shape."""
    strides, padding, dilations = _conv_attrs(attrs)
    _check_nhwc(x, "input")
    if len(w) != 4:
        raise ShapeError(f"filters must be 4-D HWIO [height, width, in_channels, out_channels], "
                         f"got {fmt(w)}")
    if not _same(x[3], w[2]):
        raise ShapeError(f"input has {x[3]} channels but filters {fmt(w)} expect {w[2]} "
                         f"(filters are [height, width, in_channels, out_channels])")
    if w[0] is None or w[1] is None:
        return (x[0], None, None, w[3])
    oh, ow = _window(x, (w[0], w[1]), strides, dilations, padding)
    return (x[0], oh, ow, w[3])


def _float_dtype(dtypes: Any, names: list[str], what: str) -> Any:
    d = _rules.same_dtype(dtypes, names)
    _rules.require(d, "f", what)
    return d


def _conv_infer(shapes, dtypes, attrs):
    d = _float_dtype(dtypes, ["input", "filters"], "conv2d")
    return [(_conv_output(shapes[0], shapes[1], attrs), d)]


def _check_dy(shapes: Any, attrs: dict, what: str) -> None:
    expect = _conv_output(shapes[0], shapes[1], attrs)
    dy = shapes[2]
    if len(dy) != 4 or not all(_same(a, b) for a, b in zip(dy, expect)):
        raise ShapeError(f"{what} has shape {fmt(dy)} but the convolution of {fmt(shapes[0])} "
                         f"with {fmt(shapes[1])} gives {fmt(expect)}")


def _backprop_input_infer(shapes, dtypes, attrs):
    d = _float_dtype(dtypes, ["input", "filters", "out_backprop"], "conv2d")
    _check_dy(shapes, attrs, "out_backprop")
    return [(shapes[0], d)]


def _backprop_filter_infer(shapes, dtypes, attrs):
    d = _float_dtype(dtypes, ["input", "filters", "out_backprop"], "conv2d")
    _check_dy(shapes, attrs, "out_backprop")
    return [(shapes[1], d)]


def _kw(attrs: dict) -> dict:
    return {"strides": attrs["strides"], "padding": attrs["padding"],
            "dilations": attrs["dilations"]}


def _conv_grad(op, g):
    x, w = op.inputs
    return [execute("Conv2DBackpropInput", [x, w, g], _kw(op.attrs)),
            execute("Conv2DBackpropFilter", [x, w, g], _kw(op.attrs))]


def _backprop_input_grad(op, g):
    # dx = D(w, dy) is bilinear: <g, D(w, dy)> = <conv2d(g, w), dy>.
    _, w, dy = op.inputs
    return [None, execute("Conv2DBackpropFilter", [g, w, dy], _kw(op.attrs)),
            execute("Conv2D", [g, w], _kw(op.attrs))]


def _backprop_filter_grad(op, g):
    # dw = D(x, dy) is bilinear: <g, D(x, dy)> = <conv2d(x, g), dy>.
    x, _, dy = op.inputs
    return [execute("Conv2DBackpropInput", [x, g, dy], _kw(op.attrs)), None,
            execute("Conv2D", [x, g], _kw(op.attrs))]


defop("Conv2D", _conv_infer,
      lambda rt, x, w, **a: rt.be.conv2d(x, w, a["strides"], a["padding"], a["dilations"]),
      _conv_grad, doc="2-D convolution (cross-correlation) of NHWC input with HWIO filters.",
      device="kernels")
defop("Conv2DBackpropInput", _backprop_input_infer,
      lambda rt, x, w, dy, **a: rt.be.conv2d_backprop_input(
          x.shape, w, dy, a["strides"], a["padding"], a["dilations"]),
      _backprop_input_grad,
      doc="Gradient of Conv2D with respect to its input; reads only the input's shape.",
      device="kernels")
defop("Conv2DBackpropFilter", _backprop_filter_infer,
      lambda rt, x, w, dy, **a: rt.be.conv2d_backprop_filter(
          x, w.shape, dy, a["strides"], a["padding"], a["dilations"]),
      _backprop_filter_grad,
      doc="Gradient of Conv2D with respect to its filters; reads only the filters' shape.",
      device="kernels")


_ACTIVATIONS = ("linear", "relu")


def _fused_infer(shapes, dtypes, attrs):
    d = _float_dtype(dtypes, ["input", "filters", "bias"], "conv2d")
    if attrs["activation"] not in _ACTIVATIONS:
        raise ShapeError(f"activation must be one of {_ACTIVATIONS}, got {attrs['activation']!r}")
    out = _conv_output(shapes[0], shapes[1], attrs)
    b = shapes[2]
    if len(b) != 1 or not _same(b[0], out[3]):
        raise ShapeError(f"bias must be a vector of the {out[3]} output channels, got {fmt(b)}")
    return [(out, d)]


def _fused_grad(op, g):
    from .math_ops import relu_grad
    from .reduction_ops import reduce_sum

    x, w, _ = op.inputs
    if op.attrs["activation"] == "relu":
        g = relu_grad(g, op.outputs[0])  # y > 0 exactly where the pre-activation is
    return [execute("Conv2DBackpropInput", [x, w, g], _kw(op.attrs)),
            execute("Conv2DBackpropFilter", [x, w, g], _kw(op.attrs)),
            reduce_sum(g, [0, 1, 2])]


defop("FusedConv2D", _fused_infer,
      lambda rt, x, w, b, **a: rt.be.conv2d_bias_act(x, w, b, a["strides"], a["padding"],
                                                     a["dilations"], a["activation"]),
      _fused_grad, doc="activation(conv2d(input, filters) + bias) in one kernel (Keras Conv2D).",
      device="kernels")


def conv2d_bias_activation(input: Any, filters: Any, bias: Any, strides: Any,  # noqa: A002
                           padding: str, dilations: Any = 1, activation: str = "linear",
                           name: str | None = None) -> Tensor:
    """``activation(conv2d(input, filters) + bias)`` as one op (``activation``: 'linear' or
    'relu'): the bias and ReLU are applied while each block of the output is still in cache,
    instead of two more passes over a large tensor."""
    x = convert_to_tensor(input)
    w = convert_to_tensor(filters, dtype_hint=x.dtype)
    b = convert_to_tensor(bias, dtype_hint=x.dtype)
    attrs = {"strides": _as_hw(strides), "padding": _padding_arg(padding),
             "dilations": _as_hw(dilations), "activation": activation}
    return execute("FusedConv2D", [x, w, b], attrs, name=name)


@tf_export("nn.conv2d")
def conv2d(input: Any, filters: Any = None, strides: Any = 1, padding: str = "VALID",  # noqa: A002
           data_format: str = "NHWC", dilations: Any = None, name: str | None = None,
           filter: Any = None, use_cudnn_on_gpu: bool = True) -> Tensor:  # noqa: A002
    """2-D convolution: ``input`` [batch, h, w, in] with ``filters`` [kh, kw, in, out].

    ``strides`` and ``dilations`` are an int, ``[h, w]`` or ``[1, h, w, 1]``; ``padding`` is
    ``'SAME'`` (output size ceil(input / stride)) or ``'VALID'`` (only windows that fit).
    TF1's ``filter=`` keyword is accepted; ``use_cudnn_on_gpu`` is ignored.
    """
    if data_format != "NHWC":
        raise ValueError(f"conv2d supports data_format='NHWC' only, got {data_format!r}")
    filters = filter if filters is None else filters
    if filters is None:
        raise TypeError("conv2d needs filters [kh, kw, in_channels, out_channels]")
    x = convert_to_tensor(input)
    w = convert_to_tensor(filters, dtype_hint=x.dtype)
    attrs = {"strides": _as_hw(strides), "padding": _padding_arg(padding),
             "dilations": _as_hw(1 if dilations is None else dilations)}
    return execute("Conv2D", [x, w], attrs, name=name)


# -- pooling --------------------------------------------------------------------------------------


def _pool_attrs(attrs: dict) -> tuple:
    ksize = _check_pair(attrs["ksize"], "ksize")
    strides = _check_pair(attrs["strides"], "strides")
    return ksize, strides, _check_padding(attrs["padding"])


def _pool_output(x: Any, attrs: dict) -> tuple:
    ksize, strides, padding = _pool_attrs(attrs)
    _check_nhwc(x, "input")
    oh, ow = _window(x, ksize, strides, (1, 1), padding)
    return (x[0], oh, ow, x[3])


def _pool_infer(shapes, dtypes, attrs):
    _rules.require(dtypes[0], "f", "pooling")
    return [(_pool_output(shapes[0], attrs), dtypes[0])]


def _pool_grad_infer(shapes, dtypes, attrs):
    """(input[, output], grad): checks the grad has the pool's output shape; input's shape."""
    names = ["input", "output", "grad"] if len(dtypes) == 3 else ["input", "grad"]
    d = _float_dtype(dtypes, names, "pooling")
    expect = _pool_output(shapes[0], attrs)
    for s in shapes[1:]:
        if len(s) != 4 or not all(_same(a, b) for a, b in zip(s, expect)):
            raise ShapeError(f"pooling {fmt(shapes[0])} gives {fmt(expect)}, got {fmt(s)}")
    return [(shapes[0], d)]


def _pool_gradgrad_infer(shapes, dtypes, attrs):
    d = _float_dtype(dtypes, ["input", "output", "grad"], "pooling")
    expect = _pool_output(shapes[0], attrs)
    if not (len(shapes[1]) == 4 and all(_same(a, b) for a, b in zip(shapes[1], expect))):
        raise ShapeError(f"pooling {fmt(shapes[0])} gives {fmt(expect)}, got {fmt(shapes[1])}")
    if not (len(shapes[2]) == 4 and all(_same(a, b) for a, b in zip(shapes[2], shapes[0]))):
        raise ShapeError(f"grad must have the input's shape {fmt(shapes[0])}, got "
                         f"{fmt(shapes[2])}")
    return [(expect, d)]


def _pkw(attrs: dict) -> dict:
    return {"ksize": attrs["ksize"], "strides": attrs["strides"], "padding": attrs["padding"]}


def _max_pool_grad(op, g):
    return [execute("MaxPoolGrad", [op.inputs[0], op.outputs[0], g], _pkw(op.attrs))]


def _max_pool_grad_grad(op, g):
    # Linear in the incoming gradient; the max's position is piecewise constant in x.
    x, y, _ = op.inputs
    return [None, None, execute("MaxPoolGradGrad", [x, y, g], _pkw(op.attrs))]


def _max_pool_gradgrad_grad(op, g):
    x, y, _ = op.inputs
    return [None, None, execute("MaxPoolGrad", [x, y, g], _pkw(op.attrs))]


def _avg_pool_grad(op, g):
    return [execute("AvgPoolGrad", [op.inputs[0], g], _pkw(op.attrs))]


def _avg_pool_grad_grad(op, g):
    return [None, execute("AvgPool", [g], _pkw(op.attrs))]


def _pool_fwd(kernel: str):
    return lambda rt, x, **a: getattr(rt.be, kernel)(x, a["ksize"], a["strides"], a["padding"])


defop("MaxPool", _pool_infer, _pool_fwd("max_pool"), _max_pool_grad,
      doc="The largest value in each window of an NHWC input.", device="kernels")
defop("MaxPoolGrad", _pool_grad_infer,
      lambda rt, x, y, dy, **a: rt.be.max_pool_grad(x, y, dy, a["ksize"], a["strides"],
                                                    a["padding"]),
      _max_pool_grad_grad, doc="Gradient of MaxPool: each window's gradient goes to its max.",
      device="kernels")
defop("MaxPoolGradGrad", _pool_gradgrad_infer,
      lambda rt, x, y, g, **a: rt.be.max_pool_grad_grad(x, y, g, a["ksize"], a["strides"],
                                                        a["padding"]),
      _max_pool_gradgrad_grad, doc="Gradient of MaxPoolGrad: g read at each window's max.",
      device="kernels")
defop("AvgPool", _pool_infer, _pool_fwd("avg_pool"), _avg_pool_grad,
      doc="The mean of each window of an NHWC input (padding is not counted).", device="kernels")
defop("AvgPoolGrad", _pool_grad_infer,
      lambda rt, x, dy, **a: rt.be.avg_pool_grad(x.shape, dy, a["ksize"], a["strides"],
                                                 a["padding"]),
      _avg_pool_grad_grad, doc="Gradient of AvgPool; reads only the input's shape.",
      device="kernels")


def _pool(op_type: str, input: Any, ksize: Any, strides: Any, padding: str,  # noqa: A002
          data_format: str, name: str | None) -> Tensor:
    if data_format != "NHWC":
        raise ValueError(f"{op_type} supports data_format='NHWC' only, got {data_format!r}")
    strides = ksize if strides is None else strides
    attrs = {"ksize": _as_hw(ksize), "strides": _as_hw(strides), "padding": _padding_arg(padding)}
    return execute(op_type, [convert_to_tensor(input)], attrs, name=name)


@tf_export("nn.max_pool2d", "nn.max_pool")
def max_pool2d(input: Any, ksize: Any, strides: Any, padding: str,  # noqa: A002
               data_format: str = "NHWC", name: str | None = None) -> Tensor:
    """Max pooling over ``ksize`` windows of an NHWC input (int, [h, w] or [1, h, w, 1])."""
    return _pool("MaxPool", input, ksize, strides, padding, data_format, name)


@tf_export("nn.avg_pool2d", "nn.avg_pool")
def avg_pool2d(input: Any, ksize: Any, strides: Any, padding: str,  # noqa: A002
               data_format: str = "NHWC", name: str | None = None) -> Tensor:
    """Average pooling over ``ksize`` windows; with SAME padding only real inputs count."""
    return _pool("AvgPool", input, ksize, strides, padding, data_format, name)
