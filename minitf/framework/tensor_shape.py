"""``TensorShape``: a tuple of dimensions, each an int or ``None`` (unknown until run time)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class TensorShape(tuple):
    """The static shape of a tensor. ``None`` as a dimension means "known only at run time".

    Unlike TensorFlow's class this one *is* a tuple, so ``t.shape == (2, 3)``, indexing,
    unpacking and ``len`` all behave as for NumPy shapes.
    """

    def __new__(cls, dims: Iterable[Any] | None = ()) -> TensorShape:
        if dims is None:
            raise ValueError("minitf has no shapes of unknown rank; give every dimension")
        if isinstance(dims, int):
            dims = (dims,)
        return super().__new__(cls, (None if d is None else _as_dim(d) for d in dims))

    @property
    def rank(self) -> int:
        return len(self)

    ndims = rank

    def as_list(self) -> list[int | None]:
        return list(self)

    def is_fully_defined(self) -> bool:
        return all(d is not None for d in self)

    def num_elements(self) -> int | None:
        if not self.is_fully_defined():
            return None
        n = 1
        for d in self:
            n *= d
        return n

    def is_compatible_with(self, other: Iterable[Any]) -> bool:
        other = TensorShape(other)
        return len(self) == len(other) and all(
            a is None or b is None or a == b for a, b in zip(self, other)
        )

    def merge_with(self, other: Iterable[Any]) -> TensorShape:
        other = TensorShape(other)
        if not self.is_compatible_with(other):
            raise ValueError(f"Shapes {self} and {other} are not compatible")
        return TensorShape(a if a is not None else b for a, b in zip(self, other))

    def __getitem__(self, key):  # slices stay TensorShapes
        item = super().__getitem__(key)
        return TensorShape(item) if isinstance(key, slice) else item

    def __repr__(self) -> str:
        return f"TensorShape({list(self)})"

    def __str__(self) -> str:
        inner = ", ".join("None" if d is None else str(d) for d in self)
        return f"({inner},)" if len(self) == 1 else f"({inner})"


def _as_dim(d: Any) -> int:
    try:
        v = int(d)
    except (TypeError, ValueError):
        raise TypeError(f"A dimension must be an int or None, got {d!r}") from None
    if v < 0:
        raise ValueError(f"A dimension must be >= 0 (or None), got {v}")
    return v


def fmt(shape: Iterable[Any]) -> str:
    """Compact shape text for error messages: ``[32,784]``, ``[?,10]``."""
    return "[" + ",".join("?" if d is None else str(d) for d in shape) + "]"
