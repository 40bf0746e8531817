"""Creating, reshaping, slicing and combining tensors.

These ops move data around rather than compute on it, so every backend shares the NumPy
implementations here (they return views where NumPy can). The ``*Like`` ops take a second
input only for its run-time shape: that is how gradients handle ``None`` (batch) dimensions.
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from .. import dtypes as _dtypes
from ..framework import device as _device
from ..framework.execute import _np_value, convert_to_tensor, execute
from ..framework.graph import active_graph, get_default_graph
from ..framework.registry import ShapeError, defop, op_export, tf_export
from ..framework.tensor import EagerTensor, Tensor
from ..framework.tensor_shape import TensorShape, fmt
from . import _rules

_pyslice = builtins.slice  # this module defines tf.slice and tf.range
_range = builtins.range

# -- constants and placeholders ---------------------------------------------------------------------

defop("Const", lambda shapes, dtypes, attrs: [(attrs["value"].shape, attrs["value"].dtype)],
      lambda rt, value: value, lambda op: [], doc="A fixed value stored in the graph.")


@tf_export("constant")
def constant(value: Any, dtype: Any = None, shape: Any = None, name: str = "Const") -> Tensor:
    """A tensor with a fixed value; ``shape`` broadcasts or reshapes ``value`` to it."""
    if isinstance(value, Tensor | np.ndarray) and hasattr(value, "numpy") and dtype is None:
        value = value.numpy()
    dtype = _dtypes.as_dtype(dtype) if dtype is not None else None
    if isinstance(value, Tensor):
        value = value.numpy()
    arr = _np_value(value, dtype)
    if shape is not None:
        shape = [int(s) for s in shape]
        arr = np.broadcast_to(arr, shape) if arr.size == 1 else arr.reshape(shape)
        arr = np.ascontiguousarray(arr)
    if active_graph() is None:  # on the GPU when ops created now run there, as in TF
        return _device.place_constant(arr) if _device.ACTIVE else EagerTensor(arr)
    return execute("Const", [], {"value": arr}, name=name)


def _placeholder_forward(rt, shape, dtype):
    raise RuntimeError("a placeholder must be fed")  # Session checks before running


defop("Placeholder", lambda shapes, dtypes, attrs: [(attrs["shape"], attrs["dtype"])],
      _placeholder_forward, lambda op: [], doc="An input fed at run time with feed_dict.")


@tf_export("placeholder")
def placeholder(dtype: Any, shape: Any = None, name: str | None = None) -> Tensor:
    """A graph input whose value is given to ``sess.run`` with ``feed_dict``.

    ``None`` in ``shape`` means any size (e.g. the batch); no ``shape`` at all means any
    shape (unknown rank: the ops fed by it have unknown static shapes). Outside
    ``with graph.as_default()`` it goes into the default graph, as in TF1.
    """
    attrs = {"shape": TensorShape(shape),
             "dtype": _dtypes.as_dtype(dtype)}
    g = active_graph() or get_default_graph()
    with g.as_default():
        return execute("Placeholder", [], attrs, name=name or "Placeholder")


# -- identity and friends ---------------------------------------------------------------------------------

_same = lambda shapes, dtypes, attrs: [(shapes[0], dtypes[0])]  # noqa: E731

defop("Identity", _same, lambda rt, x: x, lambda op, g: [g], doc="The input, unchanged.",
      device="kernels", api=("identity",))
defop("StopGradient", _same, lambda rt, x: x, lambda op, g: [None],
      doc="The input, unchanged; gradients do not flow through it.", device="kernels",
      api=("stop_gradient",))


@op_export("Identity")
def identity(input: Any, name: str | None = None) -> Tensor:  # noqa: A002
    return execute("Identity", [convert_to_tensor(input)], name=name)


@op_export("StopGradient")
def stop_gradient(input: Any, name: str | None = None) -> Tensor:  # noqa: A002
    """Treat ``input`` as a constant when differentiating."""
    return execute("StopGradient", [convert_to_tensor(input)], name=name)


# -- shapes as tensors -----------------------------------------------------------------------------------

defop("Shape", lambda shapes, dtypes, attrs: [((len(shapes[0]),), attrs["out_type"])],
      lambda rt, x, out_type: np.array(x.shape, dtype=out_type.np), None,
      doc="The run-time shape as a 1-D integer tensor.", api=("shape",))
defop("Size", lambda shapes, dtypes, attrs: [((), attrs["out_type"])],
      lambda rt, x, out_type: np.array(x.size, dtype=out_type.np), None,
      doc="The number of elements as a scalar.", api=("size",))


@op_export("Shape")
def shape(input: Any, out_type: Any = _dtypes.int32, name: str | None = None) -> Tensor:  # noqa: A002
    """The *run-time* shape (``x.shape`` is the static one, possibly with ``None``)."""
    return execute("Shape", [convert_to_tensor(input)],
                   {"out_type": _dtypes.as_dtype(out_type)}, name)


@op_export("Size")
def size(input: Any, out_type: Any = _dtypes.int32, name: str | None = None) -> Tensor:  # noqa: A002
    return execute("Size", [convert_to_tensor(input)],
                   {"out_type": _dtypes.as_dtype(out_type)}, name)


@tf_export("rank")
def rank(input: Any, name: str | None = None) -> Tensor:  # noqa: A002
    return constant(len(convert_to_tensor(input).shape), dtype=_dtypes.int32, name=name or "Rank")


# -- filled tensors -----------------------------------------------------------------------------------------


def _static_shape(shape: Any) -> list[int]:
    if isinstance(shape, int):
        return [shape]
    return _rules.static_ints(shape, "shape")


@tf_export("zeros")
def zeros(shape: Any, dtype: Any = _dtypes.float32, name: str | None = None) -> Tensor:
    return constant(np.zeros(_static_shape(shape), _dtypes.as_dtype(dtype).np),
                    name=name or "zeros")


@tf_export("ones")
def ones(shape: Any, dtype: Any = _dtypes.float32, name: str | None = None) -> Tensor:
    return constant(np.ones(_static_shape(shape), _dtypes.as_dtype(dtype).np),
                    name=name or "ones")


@tf_export("fill")
def fill(dims: Any, value: Any, name: str | None = None) -> Tensor:
    """A tensor of shape ``dims`` filled with ``value`` (dtype from the value)."""
    v = _np_value(value, None)
    return constant(np.full(_static_shape(dims), v, dtype=v.dtype), name=name or "Fill")


@tf_export("eye")
def eye(num_rows: int, num_columns: int | None = None, dtype: Any = _dtypes.float32,
        name: str | None = None) -> Tensor:
    return constant(np.eye(num_rows, num_columns, dtype=_dtypes.as_dtype(dtype).np),
                    name=name or "eye")


@tf_export("range")
def range(start: Any, limit: Any = None, delta: Any = 1, dtype: Any = None,  # noqa: A001
          name: str = "range") -> Tensor:
    """``[start, start+delta, ...)`` up to ``limit``; int32 unless a bound is a float."""
    if limit is None:
        start, limit = 0, start
    vals = [v.numpy() if hasattr(v, "numpy") else v for v in (start, limit, delta)]
    if dtype is None:
        is_float = any(np.asarray(v).dtype.kind == "f" for v in vals)
        dtype = _dtypes.float32 if is_float else _dtypes.int32
    dtype = _dtypes.as_dtype(dtype)
    return constant(np.arange(*vals).astype(dtype.np), name=name)


@tf_export("linspace")
def linspace(start: Any, stop: Any, num: int, name: str | None = None) -> Tensor:
    return constant(np.linspace(float(start), float(stop), int(num), dtype=np.float32),
                    name=name or "LinSpace")


defop("ZerosLike", _same, lambda rt, x: np.zeros_like(x), lambda op, g: [None],
      doc="Zeros with the run-time shape and dtype of x.", device="forward")
defop("OnesLike", _same, lambda rt, x: np.ones_like(x), lambda op, g: [None],
      doc="Ones with the run-time shape and dtype of x.", device="forward")


@tf_export("zeros_like")
def zeros_like(input: Any, dtype: Any = None, name: str | None = None) -> Tensor:  # noqa: A002
    out = execute("ZerosLike", [convert_to_tensor(input)], name=name)
    return out if dtype is None else _cast(out, dtype)


@tf_export("ones_like")
def ones_like(input: Any, dtype: Any = None, name: str | None = None) -> Tensor:  # noqa: A002
    out = execute("OnesLike", [convert_to_tensor(input)], name=name)
    return out if dtype is None else _cast(out, dtype)


def _cast(x, dtype):
    from .math_ops import cast

    return cast(x, dtype)


# -- broadcasting and its inverse ------------------------------------------------------------------------


def _broadcast_like_infer(shapes, dtypes, attrs):
    x, ref = shapes
    out = _rules.broadcast_shapes(x, ref)
    if len(x) > len(ref) or any(a is not None and b is not None and a != b
                                for a, b in zip(out, ref)):
        raise ShapeError(f"cannot broadcast {fmt(x)} to {fmt(ref)}")
    return [(ref, dtypes[0])]


def _sum_to_infer(shapes, dtypes, attrs):
    g, ref = shapes
    _broadcast_like_infer([ref, g], dtypes[::-1], attrs)  # ref must broadcast to g
    return [(ref, dtypes[0])]


def _sum_to_forward(rt, g, ref):
    lead = g.ndim - ref.ndim
    axes = tuple(i for i in _range(g.ndim)
                 if i < lead or (ref.shape[i - lead] == 1 and g.shape[i] != 1))
    out = rt.be.reduce("sum", g, axes, False) if axes else g
    return out.reshape(ref.shape)


defop("BroadcastLike", _broadcast_like_infer, lambda rt, x, ref: np.broadcast_to(x, ref.shape),
      lambda op, g: [sum_to_shape_of(g, op.inputs[0]), None],
      doc="x broadcast to the run-time shape of ref.", device="forward")
defop("SumToShapeOf", _sum_to_infer, _sum_to_forward,
      lambda op, g: [broadcast_like(g, op.inputs[0]), None],
      doc="g summed over the axes along which ref was broadcast (the gradient of broadcasting).",
      device="kernels")


def broadcast_like(x: Any, ref: Any, name: str | None = None) -> Tensor:
    return execute("BroadcastLike", [convert_to_tensor(x), convert_to_tensor(ref)], name=name)


def sum_to_shape_of(g: Any, ref: Any, name: str | None = None) -> Tensor:
    return execute("SumToShapeOf", [convert_to_tensor(g), convert_to_tensor(ref)], name=name)


def _broadcast_to_infer(shapes, dtypes, attrs):
    return _broadcast_like_infer([shapes[0], attrs["shape"]], dtypes * 2, attrs)


defop("BroadcastTo", _broadcast_to_infer,
      lambda rt, x, shape: np.broadcast_to(x, tuple(shape)),
      lambda op, g: [sum_to_shape_of(g, op.inputs[0])], doc="x broadcast to a static shape.",
      device="forward", api=("broadcast_to",))


@op_export("BroadcastTo")
def broadcast_to(input: Any, shape: Any, name: str | None = None) -> Tensor:  # noqa: A002
    return execute("BroadcastTo", [convert_to_tensor(input)],
                   {"shape": TensorShape(_static_shape(shape))}, name)


# -- reshaping ---------------------------------------------------------------------------------------------


def _reshape_infer(shapes, dtypes, attrs):
    (src,), target = shapes, list(attrs["shape"])
    if target.count(-1) > 1:
        raise ShapeError(f"only one dimension of the new shape can be -1, got {target}")
    known = int(np.prod([d for d in target if d != -1]))
    n = TensorShape(src).num_elements()
    if -1 in target:
        if n is not None:
            if known == 0 or n % known:
                raise ShapeError(f"cannot reshape a tensor with {n} elements to shape {target}")
            target[target.index(-1)] = n // known
        else:
            target[target.index(-1)] = None
    elif n is not None and n != known:
        raise ShapeError(f"cannot reshape a tensor with {n} elements to shape {fmt(target)} "
                         f"({known} elements)")
    return [(target, dtypes[0])]


defop("Reshape", _reshape_infer, lambda rt, x, shape: x.reshape(shape),
      lambda op, g: [reshape_like(g, op.inputs[0])], doc="Same values, new shape (-1: inferred).",
      device="forward", api=("reshape",))
defop("ReshapeLike", lambda shapes, dtypes, attrs: [(shapes[1], dtypes[0])],
      lambda rt, x, ref: x.reshape(ref.shape),
      lambda op, g: [reshape_like(g, op.inputs[0]), None],
      doc="x reshaped to the run-time shape of ref.", device="kernels")


@op_export("Reshape")
def reshape(tensor: Any, shape: Any, name: str | None = None) -> Tensor:
    """Same values in a new shape; one dimension may be -1 (inferred)."""
    return execute("Reshape", [convert_to_tensor(tensor)],
                   {"shape": tuple(_static_shape(shape))}, name)


def reshape_like(x: Any, ref: Any, name: str | None = None) -> Tensor:
    return execute("ReshapeLike", [convert_to_tensor(x), convert_to_tensor(ref)], name=name)


def _transpose_infer(shapes, dtypes, attrs):
    perm = attrs["perm"]
    if sorted(perm) != list(_range(len(shapes[0]))):
        raise ShapeError(f"perm {list(perm)} is not a permutation of the {len(shapes[0])} axes")
    return [([shapes[0][p] for p in perm], dtypes[0])]


defop("Transpose", _transpose_infer, lambda rt, x, perm: np.transpose(x, perm),
      lambda op, g: [transpose(g, list(np.argsort(op.attrs["perm"])))],
      doc="Permute the axes (default: reverse them).", device="forward", api=("transpose",))


@op_export("Transpose")
def transpose(a: Any, perm: Any = None, name: str = "transpose", conjugate: bool = False) -> Tensor:
    a = convert_to_tensor(a)
    perm = tuple(reversed(_range(len(a.shape)))) if perm is None else tuple(
        _rules.static_ints(perm, "perm"))
    return execute("Transpose", [a], {"perm": tuple(int(p) for p in perm)}, name)


def _expand_infer(shapes, dtypes, attrs):
    s = list(shapes[0])
    axis = attrs["axis"]
    if not -len(s) - 1 <= axis <= len(s):
        raise ShapeError(f"axis {axis} is out of range for a tensor of rank {len(s)}")
    s.insert(axis % (len(s) + 1), 1)
    return [(s, dtypes[0])]


defop("ExpandDims", _expand_infer,
      lambda rt, x, axis: np.expand_dims(x, axis % (x.ndim + 1)),
      lambda op, g: [reshape_like(g, op.inputs[0])], doc="Insert a size-1 axis.", device="forward",
      api=("expand_dims",))


@op_export("ExpandDims")
def expand_dims(input: Any, axis: int, name: str | None = None) -> Tensor:  # noqa: A002
    return execute("ExpandDims", [convert_to_tensor(input)], {"axis": int(axis)}, name)


def _squeeze_infer(shapes, dtypes, attrs):
    s = shapes[0]
    axes = attrs["axis"]
    if axes is None:
        axes = [i for i, d in enumerate(s) if d == 1]
    else:
        axes = [_rules.norm_axis(a, len(s)) for a in axes]
        for a in axes:
            if s[a] is not None and s[a] != 1:
                raise ShapeError(f"cannot squeeze axis {a}: its size is {s[a]}, not 1")
    return [([d for i, d in enumerate(s) if i not in axes], dtypes[0])]


def _squeeze_forward(rt, x, axis):
    if axis is None:
        return np.squeeze(x)
    return np.squeeze(x, tuple(a % x.ndim for a in axis))


defop("Squeeze", _squeeze_infer, _squeeze_forward,
      lambda op, g: [reshape_like(g, op.inputs[0])], doc="Remove size-1 axes.", device="forward",
      api=("squeeze",))


@op_export("Squeeze")
def squeeze(input: Any, axis: Any = None, name: str | None = None) -> Tensor:  # noqa: A002
    if isinstance(axis, int):
        axis = [axis]
    return execute("Squeeze", [convert_to_tensor(input)],
                   {"axis": None if axis is None else tuple(axis)}, name)


# -- joining and splitting -----------------------------------------------------------------------------


def _concat_infer(shapes, dtypes, attrs):
    if not shapes:
        raise ShapeError("needs at least one tensor")
    d = _rules.same_dtype(dtypes, "abcdefghijklmnopqrstuvwxyz" * 4)
    rank = len(shapes[0])
    axis = _rules.norm_axis(attrs["axis"], rank)
    out = list(shapes[0])
    for s in shapes[1:]:
        if len(s) != rank:
            raise ShapeError(f"all inputs must have rank {rank}, got {fmt(s)}")
        for i in _range(rank):
            if i == axis:
                out[i] = None if out[i] is None or s[i] is None else out[i] + s[i]
            elif out[i] is not None and s[i] is not None and out[i] != s[i]:
                raise ShapeError(f"dimension {i} differs: {fmt(shapes[0])} vs {fmt(s)}")
    return [(out, d)]


def _concat_grad(op, g):
    axis = _rules.norm_axis(op.attrs["axis"], len(op.inputs[0].shape))
    grads, offset = [], 0
    for x in op.inputs:
        n = x.shape[axis]
        if n is None:
            raise LookupError(f"Concat gradient needs static sizes on axis {axis}; got {x.shape}")
        key = (_pyslice(None),) * axis + (_pyslice(offset, offset + n),)
        grads.append(_strided_slice(g, key))
        offset += n
    return grads


defop("ConcatV2", _concat_infer, lambda rt, *xs, axis: np.concatenate(xs, axis), _concat_grad,
      doc="Join tensors along an existing axis.")


@tf_export("concat")
def concat(values: list, axis: int, name: str = "concat") -> Tensor:
    return execute("ConcatV2", [convert_to_tensor(v) for v in values], {"axis": int(axis)}, name)


def _pack_infer(shapes, dtypes, attrs):
    d = _rules.same_dtype(dtypes, "abcdefghijklmnopqrstuvwxyz" * 4)
    first = TensorShape(shapes[0])
    for s in shapes[1:]:
        if not first.is_compatible_with(s):
            raise ShapeError(f"all inputs must have the same shape: {fmt(first)} vs {fmt(s)}")
    out = list(first)
    axis = attrs["axis"]
    if not -len(out) - 1 <= axis <= len(out):
        raise ShapeError(f"axis {axis} is out of range for stacking rank-{len(out)} tensors")
    out.insert(axis % (len(out) + 1), len(shapes))
    return [(out, d)]


def _pack_grad(op, g):
    axis = op.attrs["axis"] % (len(op.inputs[0].shape) + 1)
    return [_strided_slice(g, (_pyslice(None),) * axis + (i,)) for i in _range(len(op.inputs))]


defop("Pack", _pack_infer, lambda rt, *xs, axis: np.stack(xs, axis), _pack_grad,
      doc="Stack same-shaped tensors along a new axis.")


@tf_export("stack")
def stack(values: list, axis: int = 0, name: str = "stack") -> Tensor:
    return execute("Pack", [convert_to_tensor(v) for v in values], {"axis": int(axis)}, name)


@tf_export("unstack")
def unstack(value: Any, num: int | None = None, axis: int = 0, name: str = "unstack") -> list:
    value = convert_to_tensor(value)
    axis = _rules.norm_axis(axis, len(value.shape))
    n = num if num is not None else value.shape[axis]
    if n is None:
        raise ValueError(f"Cannot unstack axis {axis} of unknown size in {value.shape}")
    return [_strided_slice(value, (_pyslice(None),) * axis + (i,)) for i in _range(n)]


@tf_export("split")
def split(value: Any, num_or_size_splits: Any, axis: int = 0, name: str = "split") -> list:
    value = convert_to_tensor(value)
    axis = _rules.norm_axis(axis, len(value.shape))
    total = value.shape[axis]
    if isinstance(num_or_size_splits, int):
        if total is None or total % num_or_size_splits:
            raise ValueError(f"Cannot split axis {axis} of size {total} into "
                             f"{num_or_size_splits} equal parts")
        sizes = [total // num_or_size_splits] * num_or_size_splits
    else:
        sizes = _rules.static_ints(num_or_size_splits, "size_splits")
    out, offset = [], 0
    for n in sizes:
        out.append(_strided_slice(value, (_pyslice(None),) * axis + (_pyslice(offset, offset + n),)))
        offset += n
    return out


def _tile_infer(shapes, dtypes, attrs):
    s, m = shapes[0], attrs["multiples"]
    if len(m) != len(s):
        raise ShapeError(f"multiples {list(m)} must have one entry per axis of {fmt(s)}")
    return [([None if d is None else d * k for d, k in zip(s, m)], dtypes[0])]


def _tile_grad_forward(rt, g, x, multiples):
    split_shape = []
    for k, d in zip(multiples, x.shape):
        split_shape += [k, d]
    return g.reshape(split_shape).sum(axis=tuple(_range(0, 2 * x.ndim, 2))).astype(g.dtype)


defop("Tile", _tile_infer, lambda rt, x, multiples: np.tile(x, multiples),
      lambda op, g: [execute("TileGrad", [g, op.inputs[0]], {"multiples": op.attrs["multiples"]})],
      doc="Repeat x multiples[i] times along axis i.")
defop("TileGrad", lambda shapes, dtypes, attrs: [(shapes[1], dtypes[0])], _tile_grad_forward,
      lambda op, g: [tile(g, op.attrs["multiples"]), None],
      doc="Sum of the tiles of g (the gradient of Tile).")


@tf_export("tile")
def tile(input: Any, multiples: Any, name: str | None = None) -> Tensor:  # noqa: A002
    return execute("Tile", [convert_to_tensor(input)],
                   {"multiples": tuple(_rules.static_ints(multiples, "multiples"))}, name)


# -- indexing -----------------------------------------------------------------------------------------------


def _slice_shape(shape: TensorShape, key: tuple) -> list:
    n_index = sum(1 for k in key if k is not None and k is not Ellipsis)
    if n_index > len(shape):
        raise ShapeError(f"too many indices ({n_index}) for a tensor of rank {len(shape)}")
    out, dim = [], 0
    for k in key:
        if k is Ellipsis:
            n = len(shape) - n_index
            out.extend(shape[dim:dim + n])
            dim += n
        elif k is None:
            out.append(1)
        elif isinstance(k, int):
            d = shape[dim]
            if d is not None and not -d <= k < d:
                raise ShapeError(f"index {k} is out of bounds for axis {dim} with size {d}")
            dim += 1
        else:
            d = shape[dim]
            out.append(len(_range(*k.indices(d))) if d is not None else None)
            dim += 1
    out.extend(shape[dim:])
    return out


defop("StridedSlice", lambda shapes, dtypes, attrs: [(_slice_shape(shapes[0], attrs["key"]),
                                                      dtypes[0])],
      lambda rt, x, key: np.asarray(x[key]),
      lambda op, g: [execute("StridedSliceGrad", [g, op.inputs[0]], {"key": op.attrs["key"]})],
      doc="x[key] with NumPy basic indexing: ints, slices with steps, None, ...")


def _slice_grad_forward(rt, g, x, key):
    out = np.zeros(x.shape, dtype=g.dtype)
    out[key] = g
    return out


defop("StridedSliceGrad", lambda shapes, dtypes, attrs: [(shapes[1], dtypes[0])],
      _slice_grad_forward, lambda op, g: [_strided_slice(g, op.attrs["key"]), None],
      doc="g placed into zeros shaped like x at x[key] (the gradient of StridedSlice).")


def _strided_slice(x: Tensor, key: tuple, name: str | None = None) -> Tensor:
    return execute("StridedSlice", [x], {"key": key}, name=name or "strided_slice")


def _norm_key(key: Any) -> tuple:
    if not isinstance(key, tuple):
        key = (key,)
    out = []
    for k in key:
        if isinstance(k, _pyslice):
            out.append(_pyslice(*[_index(v) for v in (k.start, k.stop, k.step)]))
        elif k is None or k is Ellipsis:
            out.append(k)
        else:
            out.append(_index(k))
    if sum(1 for k in out if k is Ellipsis) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    return tuple(out)


def _index(v: Any) -> int | None:
    if v is None:
        return None
    if isinstance(v, Tensor):
        if not isinstance(v, EagerTensor):
            raise TypeError("minitf slices need Python ints: a symbolic tensor index is not "
                            "supported (use tf.gather for indices computed in the graph)")
        v = v.numpy()
    if isinstance(v, list | np.ndarray) and np.ndim(v) > 0:
        raise TypeError("t[...] takes ints and slices; for a list of indices use tf.gather")
    if isinstance(v, bool | np.bool_) or not float(v).is_integer():
        raise TypeError(f"slice indices must be integers, got {v!r}")
    return int(v)


def getitem(tensor: Any, key: Any) -> Tensor:
    """``t[...]``: ints, slices (negative and strided), ``None``/``tf.newaxis`` and ``...``."""
    return _strided_slice(convert_to_tensor(tensor), _norm_key(key))


@tf_export("slice")
def slice(input_: Any, begin: Any, size: Any, name: str | None = None) -> Tensor:  # noqa: A001
    """``size[i]`` elements from ``begin[i]`` on each axis; -1 takes the rest."""
    begin = _rules.static_ints(begin, "begin")
    size = _rules.static_ints(size, "size")
    key = tuple(_pyslice(b, None if s == -1 else b + s) for b, s in zip(begin, size))
    return _strided_slice(convert_to_tensor(input_), key, name=name or "Slice")


def _gather_infer(shapes, dtypes, attrs):
    params, indices = shapes
    if not dtypes[1].is_integer:
        raise ShapeError(f"indices must be integers, got {dtypes[1].name}")
    axis = _rules.norm_axis(attrs["axis"], len(params))
    return [([*params[:axis], *indices, *params[axis + 1:]], dtypes[0])]


def _gather_forward(rt, params, indices, axis):
    n = params.shape[axis]
    if indices.size and (indices.min() < -n or indices.max() >= n):
        bad = indices[(indices < -n) | (indices >= n)].reshape(-1)[0]
        raise IndexError(f"index {bad} is out of range for axis {axis} of size {n}")
    return np.take(params, indices, axis=axis)


def _gather_grad_forward(rt, g, indices, params, axis):
    out = np.zeros(params.shape, dtype=g.dtype)
    moved = np.moveaxis(out, axis, 0)
    gm = np.moveaxis(g.reshape(params.shape[:axis] + (indices.size,) + params.shape[axis + 1:]),
                     axis, 0)
    np.add.at(moved, indices.reshape(-1), gm)
    return out


defop("GatherV2", _gather_infer, _gather_forward,
      lambda op, g: [execute("GatherGrad", [g, op.inputs[1], op.inputs[0]],
                             {"axis": op.attrs["axis"]}), None],
      doc="Pick slices of params along axis at the given indices.")
defop("GatherGrad", lambda shapes, dtypes, attrs: [(shapes[2], dtypes[0])], _gather_grad_forward,
      lambda op, g: [gather(g, op.inputs[1], axis=op.attrs["axis"]), None, None],
      doc="Scatter-add g into zeros shaped like params (the gradient of Gather).")


@tf_export("gather")
def gather(params: Any, indices: Any, axis: int = 0, batch_dims: int = 0,
           name: str | None = None) -> Tensor:
    """``params`` indexed by ``indices`` along ``axis`` (indices may be any shape)."""
    if batch_dims:
        raise NotImplementedError("minitf.gather does not support batch_dims")
    params = convert_to_tensor(params)
    indices = convert_to_tensor(indices)
    axis = int(axis) % max(len(params.shape), 1)
    return execute("GatherV2", [params, indices], {"axis": axis}, name)


# -- selection ---------------------------------------------------------------------------------------------


def _select_infer(shapes, dtypes, attrs):
    if not dtypes[0].is_bool:
        raise ShapeError(f"condition must be bool, got {dtypes[0].name}")
    d = _rules.same_dtype(dtypes[1:])
    return [(_rules.broadcast_shapes(*shapes), d)]


def _select_grad(op, g):
    from .math_ops import _unbroadcast

    c, x, y = op.inputs
    z = zeros_like(g)
    return [None, _unbroadcast(where(c, g, z), x), _unbroadcast(where(c, z, g), y)]


defop("SelectV2", _select_infer, lambda rt, c, x, y: rt.be.select(c, x, y), _select_grad,
      doc="x where condition else y, broadcasting all three.", device="kernels")
defop("Where", lambda shapes, dtypes, attrs: [((None, len(shapes[0])), _dtypes.int64)],
      lambda rt, c: np.argwhere(c).astype(np.int64), None,
      doc="Coordinates of the True elements, shape [n, rank].")


@tf_export("where", "math.where")
def where(condition: Any, x: Any = None, y: Any = None, name: str | None = None) -> Tensor:
    """``x`` where ``condition`` else ``y``; with only a condition, the True coordinates."""
    from .math_ops import _convert_operands

    condition = convert_to_tensor(condition)
    if x is None and y is None:
        return execute("Where", [condition], name=name)
    if x is None or y is None:
        raise ValueError("tf.where needs both x and y, or neither")
    x, y = _convert_operands(x, y)
    return execute("SelectV2", [condition, x, y], name=name)


def _one_hot_infer(shapes, dtypes, attrs):
    if not dtypes[0].is_integer:
        raise ShapeError(f"indices must be integers, got {dtypes[0].name}")
    s = list(shapes[0])
    axis = attrs["axis"]
    s.insert(len(s) if axis == -1 else axis, attrs["depth"])
    return [(s, attrs["dtype"])]


def _one_hot_forward(rt, indices, depth, on_value, off_value, axis, dtype):
    hot = indices[..., None] == np.arange(depth)
    out = np.where(hot, on_value, off_value).astype(dtype.np)
    return out if axis == -1 else np.moveaxis(out, -1, axis)


defop("OneHot", _one_hot_infer, _one_hot_forward, None,
      doc="One-hot vectors (out-of-range indices give all off_value, as in TF).")


@tf_export("one_hot")
def one_hot(indices: Any, depth: int, on_value: Any = 1, off_value: Any = 0, axis: int = -1,
            dtype: Any = _dtypes.float32, name: str | None = None) -> Tensor:
    return execute("OneHot", [convert_to_tensor(indices)],
                   {"depth": int(depth), "on_value": on_value, "off_value": off_value,
                    "axis": int(axis), "dtype": _dtypes.as_dtype(dtype)}, name)


@tf_export("clip_by_value")
def clip_by_value(t: Any, clip_value_min: Any, clip_value_max: Any,
                  name: str | None = None) -> Tensor:
    from .math_ops import maximum, minimum

    return minimum(maximum(t, clip_value_min), clip_value_max, name=name)


newaxis = tf_export("newaxis")(None)
