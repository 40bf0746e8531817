"""Reductions (``reduce_sum`` and friends) and ``argmax``/``argmin``."""

from __future__ import annotations

from typing import Any

from .. import dtypes as _dtypes
from ..framework.errors import InvalidArgumentError
from ..framework.execute import convert_to_tensor, execute
from ..framework.registry import ShapeError, defop, describe, op_export, tf_export
from ..framework.tensor import Tensor
from ..framework.tensor_shape import TensorShape
from . import _rules


def _reduce_infer(kinds: str):
    def infer(shapes, dtypes, attrs):
        (shape,), (d,) = shapes, dtypes
        _rules.require(d, kinds, "this reduction")
        axes = attrs["axis"]
        for a in axes:
            _rules.norm_axis(a, len(shape))
        if attrs["keepdims"]:
            out = [1 if i in axes else s for i, s in enumerate(shape)]
        else:
            out = [s for i, s in enumerate(shape) if i not in axes]
        return [(TensorShape(out), d)]

    return infer


def _keep_dims(g: Tensor, op) -> Tensor:
    """The reduced gradient with the reduced axes put back as size 1, broadcastable to x."""
    from .array_ops import expand_dims

    if op.attrs["keepdims"]:
        return g
    for a in op.attrs["axis"]:
        g = expand_dims(g, a)
    return g


def _sum_grad(op, g):
    from .array_ops import broadcast_like

    return [broadcast_like(_keep_dims(g, op), op.inputs[0])]


def _mean_grad(op, g):
    from .array_ops import size
    from .math_ops import cast, divide

    x, y = op.inputs[0], op.outputs[0]
    count = divide(cast(size(x), x.dtype), cast(size(y), x.dtype))
    return [_sum_grad(op, g)[0] / count]


def _minmax_grad(op, g):
    from .array_ops import broadcast_like
    from .math_ops import cast, equal

    x = op.inputs[0]
    y = _keep_dims(op.outputs[0], op)
    hit = cast(equal(x, y), x.dtype)  # ties share the gradient equally, as in TF
    count = reduce_sum(hit, op.attrs["axis"], keepdims=True)
    return [broadcast_like(_keep_dims(g, op), x) * hit / count]


def _prod_grad(op, g):
    from .array_ops import broadcast_like

    # d prod / d x_i = prod / x_i: exact for non-zero inputs (documented limitation)
    from .math_ops import _c  # complex: g * conj(prod / x_i), TF's convention

    x = op.inputs[0]
    return [broadcast_like(_keep_dims(g * _c(op.outputs[0]), op), x) / _c(x)]


def _def_reduce(op_type: str, kernel: str, kinds: str, gradient: Any) -> None:
    def forward(rt, x, axis, keepdims):
        return rt.be.reduce(kernel, x, axis, keepdims)

    defop(op_type, _reduce_infer(kinds), forward, gradient, doc=f"reduce_{kernel} over axes.",
          device="kernels")


_def_reduce("Sum", "sum", "fic", _sum_grad)
_def_reduce("Mean", "mean", "fic", _mean_grad)
_def_reduce("Max", "max", "fi", _minmax_grad)
_def_reduce("Min", "min", "fi", _minmax_grad)
_def_reduce("Prod", "prod", "fic", _prod_grad)
_def_reduce("Any", "any", "b", None)
_def_reduce("All", "all", "b", None)


def _reduce(op_type: str, x: Any, axis: Any, keepdims: bool, name: str | None) -> Tensor:
    x = convert_to_tensor(x)
    if hasattr(axis, "numpy"):
        axis = _rules.static_ints(axis, "axis")
    try:
        axes = _rules.norm_axes(axis, len(x.shape))
    except ShapeError as e:
        raise InvalidArgumentError(describe(op_type, name or op_type, [x.shape], [x.dtype],
                                            str(e))) from None
    return execute(op_type, [x], {"axis": axes, "keepdims": bool(keepdims)}, name)


@tf_export("reduce_sum", "math.reduce_sum")
def reduce_sum(input_tensor: Any, axis: Any = None, keepdims: bool = False,
               name: str | None = None) -> Tensor:
    """Sum over ``axis`` (None = all). ``keepdims`` keeps reduced axes as size 1."""
    return _reduce("Sum", input_tensor, axis, keepdims, name)


@tf_export("reduce_mean", "math.reduce_mean")
def reduce_mean(input_tensor: Any, axis: Any = None, keepdims: bool = False,
                name: str | None = None) -> Tensor:
    """Mean over ``axis`` (integer tensors give an integer mean, as in TF)."""
    return _reduce("Mean", input_tensor, axis, keepdims, name)


@tf_export("reduce_max", "math.reduce_max")
def reduce_max(input_tensor: Any, axis: Any = None, keepdims: bool = False,
               name: str | None = None) -> Tensor:
    return _reduce("Max", input_tensor, axis, keepdims, name)


@tf_export("reduce_min", "math.reduce_min")
def reduce_min(input_tensor: Any, axis: Any = None, keepdims: bool = False,
               name: str | None = None) -> Tensor:
    return _reduce("Min", input_tensor, axis, keepdims, name)


@tf_export("reduce_prod", "math.reduce_prod")
def reduce_prod(input_tensor: Any, axis: Any = None, keepdims: bool = False,
                name: str | None = None) -> Tensor:
    return _reduce("Prod", input_tensor, axis, keepdims, name)


@tf_export("reduce_any", "math.reduce_any")
def reduce_any(input_tensor: Any, axis: Any = None, keepdims: bool = False,
               name: str | None = None) -> Tensor:
    return _reduce("Any", input_tensor, axis, keepdims, name)


@tf_export("reduce_all", "math.reduce_all")
def reduce_all(input_tensor: Any, axis: Any = None, keepdims: bool = False,
               name: str | None = None) -> Tensor:
    return _reduce("All", input_tensor, axis, keepdims, name)


def _arg_infer(shapes, dtypes, attrs):
    (shape,), (d,) = shapes, dtypes
    _rules.require(d, "fi", "argmax/argmin")
    axis = _rules.norm_axis(attrs["axis"], len(shape))
    return [(TensorShape([s for i, s in enumerate(shape) if i != axis]), attrs["output_type"])]


def _arg_forward(kind: str):
    def forward(rt, x, axis, output_type):
        return rt.be.argreduce(kind, x, axis % x.ndim, output_type.np)

    return forward


defop("ArgMax", _arg_infer, _arg_forward("argmax"), None, doc="Index of the largest value.",
      device="kernels", api=("argmax", "math.argmax"))
defop("ArgMin", _arg_infer, _arg_forward("argmin"), None, doc="Index of the smallest value.",
      device="kernels", api=("argmin", "math.argmin"))


@op_export("ArgMax")
def argmax(input: Any, axis: int | None = None, output_type: Any = _dtypes.int64,  # noqa: A002
           name: str | None = None) -> Tensor:
    """Index of the largest value along ``axis`` (default 0); int64 like TF."""
    return execute("ArgMax", [convert_to_tensor(input)],
                   {"axis": 0 if axis is None else int(axis),
                    "output_type": _dtypes.as_dtype(output_type)}, name)


@op_export("ArgMin")
def argmin(input: Any, axis: int | None = None, output_type: Any = _dtypes.int64,  # noqa: A002
           name: str | None = None) -> Tensor:
    return execute("ArgMin", [convert_to_tensor(input)],
                   {"axis": 0 if axis is None else int(axis),
                    "output_type": _dtypes.as_dtype(output_type)}, name)


# -- moments: composites, so their gradients come from the ops they use ----------------------------


@tf_export("math.reduce_variance")
def reduce_variance(input_tensor: Any, axis: Any = None, keepdims: bool = False,
                    name: str | None = None) -> Tensor:
    """The population variance (divides by N) over ``axis``, as TF; floats only."""
    from .math_ops import squared_difference

    x = convert_to_tensor(input_tensor)
    if not x.dtype.is_floating:
        raise TypeError(f"reduce_variance: input must be a float tensor, got {x.dtype.name} "
                        "(tf.cast it first)")
    mean = reduce_mean(x, axis, keepdims=True)
    return reduce_mean(squared_difference(x, mean), axis, keepdims, name)


@tf_export("math.reduce_std")
def reduce_std(input_tensor: Any, axis: Any = None, keepdims: bool = False,
               name: str | None = None) -> Tensor:
    """The population standard deviation: ``sqrt(reduce_variance(...))``; floats only."""
    from .math_ops import sqrt

    return sqrt(reduce_variance(input_tensor, axis, keepdims), name=name)
