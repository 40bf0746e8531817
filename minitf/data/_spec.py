"""``TensorSpec``: the shape and dtype of one component of a dataset element."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import dtypes as _dtypes
from ..framework.api_export import tf_export
from ..framework.tensor_shape import TensorShape
from . import _nest


@tf_export("TensorSpec")
class TensorSpec:
    """Describes a tensor: ``shape`` (``None`` for a dimension that varies) and ``dtype``."""

    def __init__(self, shape: Any, dtype: Any = _dtypes.float32, name: str | None = None) -> None:
        self.shape = TensorShape(shape)
        self.dtype = _dtypes.as_dtype(dtype)
        self.name = name

    @classmethod
    def from_array(cls, value: np.ndarray) -> TensorSpec:
        """The spec of a concrete array."""
        return cls(np.shape(value), np.asarray(value).dtype)

    def is_compatible_with(self, other: Any) -> bool:
        """Same dtype, and shapes that agree wherever both are known."""
        if not isinstance(other, TensorSpec):
            other = TensorSpec.from_array(np.asarray(other))
        return self.dtype == other.dtype and self.shape.is_compatible_with(other.shape)

    def most_specific_common(self, other: TensorSpec) -> TensorSpec:
        """The spec of both: dimensions that differ become ``None``."""
        if self.dtype != other.dtype or len(self.shape) != len(other.shape):
            raise TypeError(f"{self} and {other} have no common spec")
        dims = [a if a == b else None for a, b in zip(self.shape, other.shape)]
        return TensorSpec(dims, self.dtype, self.name)

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, TensorSpec) and self.shape == other.shape
                and self.dtype == other.dtype and self.name == other.name)

    def __hash__(self) -> int:
        return hash((tuple(self.shape), self.dtype.name, self.name))

    def __repr__(self) -> str:
        shape, dtype = tuple(self.shape), self.dtype.name
        return f"TensorSpec(shape={shape}, dtype=tf.{dtype}, name={self.name!r})"


def spec_of(element: Any) -> Any:
    """The structure of ``TensorSpec`` of a concrete element."""
    return _nest.map_structure(TensorSpec.from_array, element)


def unify(a: Any, b: Any) -> Any:
    """The most specific spec structure matching both ``a`` and ``b`` (same nesting)."""
    if not _nest.same_structure(a, b):
        raise TypeError(f"Incompatible dataset elements: {a} vs {b}")
    return _nest.pack(a, [x.most_specific_common(y)
                          for x, y in zip(_nest.flatten(a), _nest.flatten(b))])
