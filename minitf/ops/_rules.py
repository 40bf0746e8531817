"""Shape and dtype rules shared by many ops. Each raises ShapeError with a plain sentence."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .. import dtypes as _dtypes
from ..framework.registry import ShapeError
from ..framework.tensor_shape import TensorShape, fmt


def broadcast_shapes(*shapes: Sequence[int | None]) -> TensorShape:
    """NumPy broadcasting with unknown (None) dimensions."""
    rank = max((len(s) for s in shapes), default=0)
    out: list[int | None] = []
    for i in range(-rank, 0):
        dims = [s[i] for s in shapes if len(s) >= -i]
        # in input order, so "(axis 1: 3 vs 2)" reads like "shapes [2,3] and [2]"
        known = dict.fromkeys(d for d in dims if d is not None and d != 1)
        if len(known) > 1:
            raise ShapeError(
                "shapes " + " and ".join(fmt(s) for s in shapes)
                + f" cannot be broadcast (axis {rank + i}: {' vs '.join(map(str, known))})"
            )
        if known:
            out.append(next(iter(known)))
        elif any(d is None for d in dims):
            out.append(None)
        else:
            out.append(1)
    return TensorShape(out)


def same_dtype(dtypes: Sequence[_dtypes.DType], names: str = "xy") -> _dtypes.DType:
    first = dtypes[0]
    for name, d in zip(names[1:], dtypes[1:]):
        if d != first:
            raise ShapeError(
                f"{names[0]} is {first.name} but {name} is {d.name}: inputs must have the same "
                "dtype (convert one with tf.cast)"
            )
    return first


def require(dtype: _dtypes.DType, kinds: str, what: str) -> None:
    """``kinds``: f float, i int, b bool, c complex."""
    kind = "f" if dtype.is_floating else "i" if dtype.is_integer else "b" if dtype.is_bool else "c"
    if kind not in kinds:
        why = " (it is not defined on complex numbers)" if kind == "c" else ""
        raise ShapeError(f"{what} does not support dtype {dtype.name}{why}")


def norm_axis(axis: int, rank: int, what: str = "axis") -> int:
    if not -rank <= axis < max(rank, 1):
        raise ShapeError(f"{what} {axis} is out of range for a tensor of rank {rank}")
    return axis % rank if rank else 0


def norm_axes(axis: Any, rank: int) -> tuple[int, ...]:
    """``None`` = all axes; an int or a list; negative counts from the end. Sorted, unique."""
    if axis is None:
        return tuple(range(rank))
    axes = [axis] if isinstance(axis, int) else list(axis)
    out = sorted({norm_axis(int(a), rank) for a in axes})
    return tuple(out)


def static_ints(value: Any, what: str) -> list[int]:
    """A shape/axis argument as Python ints (a tensor must be eager: its value is needed now)."""
    import numpy as np

    if hasattr(value, "numpy"):
        try:
            value = value.numpy()
        except ValueError:
            raise TypeError(
                f"{what} must be known when the graph is built; minitf does not take a symbolic "
                "tensor here (use -1 for one unknown dimension)"
            ) from None
    arr = np.asarray(value)
    if arr.size and arr.dtype.kind not in "iu":  # [] (a scalar's shape) is float64 in NumPy
        raise TypeError(f"{what} must be integers, got {value!r}")
    return [int(v) for v in arr.reshape(-1)]
