"""``TensorShape``: a tuple of dimensions, each an int or ``None`` (unknown until run time)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .api_export import tf_export


@tf_export("TensorShape")
class TensorShape(tuple):
    """The static shape of a tensor. ``None`` as a dimension means "known only at run time".

    Unlike TensorFlow's class this one *is* a tuple, so ``t.shape == (2, 3)``, indexing,
    unpacking and ``len`` all behave as for NumPy shapes.
    """

    _unknown_rank = False  # True only for TensorShape(None): nothing known, not even the rank

    def __new__(cls, dims: Iterable[Any] | None = ()) -> TensorShape:
        if dims is None or getattr(dims, "_unknown_rank", False):
            return UNKNOWN
        if isinstance(dims, int):
            dims = (dims,)
        return super().__new__(cls, (None if d is None else _as_dim(d) for d in dims))

    @property
    def rank(self) -> int | None:
        return None if self._unknown_rank else len(self)

    ndims = rank

    def as_list(self) -> list[int | None]:
        if self._unknown_rank:
            raise ValueError("as_list() is not defined on an unknown TensorShape.")
        return list(self)

    def is_fully_defined(self) -> bool:
        return not self._unknown_rank and all(d is not None for d in self)

    def num_elements(self) -> int | None:
        if not self.is_fully_defined():
            return None
        n = 1
        for d in self:
            n *= d
        return n

    def is_compatible_with(self, other: Iterable[Any]) -> bool:
        other = TensorShape(other)
        if self._unknown_rank or other._unknown_rank:
            return True
        return len(self) == len(other) and all(
            a is None or b is None or a == b for a, b in zip(self, other)
        )

    def merge_with(self, other: Iterable[Any]) -> TensorShape:
        other = TensorShape(other)
        if self._unknown_rank or other._unknown_rank:
            return other if self._unknown_rank else self
        if not self.is_compatible_with(other):
            raise ValueError(f"Shapes {self} and {other} are not compatible")
        return TensorShape(a if a is not None else b for a, b in zip(self, other))

    def __getitem__(self, key):  # slices stay TensorShapes
        item = super().__getitem__(key)
        return TensorShape(item) if isinstance(key, slice) else item

    def __eq__(self, other: object) -> bool:
        if self._unknown_rank or getattr(other, "_unknown_rank", False):
            return self is other  # TensorShape(None) is one object
        return tuple.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = tuple.__hash__

    def __repr__(self) -> str:
        return "TensorShape(None)" if self._unknown_rank else f"TensorShape({list(self)})"

    def __str__(self) -> str:
        if self._unknown_rank:
            return "<unknown>"
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
    """Compact shape text for error messages: ``[32,784]``, ``[?,10]``, ``<unknown>``."""
    if getattr(shape, "_unknown_rank", False):
        return "<unknown>"
    return "[" + ",".join("?" if d is None else str(d) for d in shape) + "]"


UNKNOWN = tuple.__new__(TensorShape, ())
UNKNOWN._unknown_rank = True  # the one shape of unknown rank (a placeholder without a shape)
