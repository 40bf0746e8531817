"""Datasets that produce elements: tensor slices, ranges and Python generators."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from .. import dtypes as _dtypes
from ..framework.tensor_shape import TensorShape
from . import _common, _nest
from ._plan import Plan
from ._spec import TensorSpec
from .dataset import Dataset

RANGE_CHUNK = 1 << 16  # indices per chunk of a range's plan


class TensorSliceDataset(Dataset):
    """Rows of in-memory arrays (``from_tensor_slices``), or one whole element
    (``from_tensors``, ``whole=True``). The arrays are copied and made read-only."""

    def __init__(self, tensors: Any, whole: bool = False) -> None:
        self._structure = tensors
        leaves = []
        for value in _nest.flatten(tensors):
            a = np.array(_common.to_array(value), copy=True)
            a = a[np.newaxis] if whole else a
            a.flags.writeable = False
            leaves.append(a)
        if not leaves:
            raise ValueError("from_tensor_slices needs at least one tensor")
        if any(a.ndim == 0 for a in leaves):
            raise ValueError("Unbatching a tensor is only supported for rank >= 1")
        sizes = {a.shape[0] for a in leaves}
        if len(sizes) > 1:
            raise ValueError(f"All tensors must have the same first dimension, got {sorted(sizes)}")
        self._leaves = leaves
        self._n = sizes.pop()

    def _plan(self) -> Plan:
        leaves, structure, n = self._leaves, self._structure, self._n
        return Plan(take=lambda idx: _nest.pack(structure, [a[idx] for a in leaves]),
                    get=lambda i: _nest.pack(structure, [a[i] for a in leaves]),
                    chunks=lambda peek: iter((np.arange(n, dtype=np.int64),)))

    def _cardinality(self) -> int:
        return self._n

    def _spec(self) -> Any:
        return _nest.pack(self._structure,
                          [TensorSpec(a.shape[1:], a.dtype) for a in self._leaves])


class RangeDataset(Dataset):
    """``start, start + step, ...`` below ``stop`` (above, for a negative step)."""

    def __init__(self, *args: int, output_type: Any = None) -> None:
        self._range = range(*(int(a) for a in args))
        self._dtype = _dtypes.as_dtype(output_type or _dtypes.int64)

    def _plan(self) -> Plan:
        r, np_dtype = self._range, self._dtype.np

        def chunks(peek: bool) -> Iterator[np.ndarray]:
            for s in range(0, len(r), RANGE_CHUNK):
                yield np.arange(s, min(s + RANGE_CHUNK, len(r)), dtype=np.int64)

        return Plan(take=lambda idx: (r.start + idx * r.step).astype(np_dtype),
                    get=lambda i: np.array(r[i], np_dtype), chunks=chunks)

    def _cardinality(self) -> int:
        return len(self._range)

    def _spec(self) -> Any:
        return TensorSpec((), self._dtype)


class GeneratorDataset(Dataset):
    """The values of ``generator(*args)`` (``from_generator``), checked against a signature."""

    def __init__(self, generator: Callable[..., Any], output_types: Any, output_shapes: Any,
                 args: tuple | None, output_signature: Any) -> None:
        if output_signature is None and output_types is None:
            raise TypeError("from_generator needs output_signature (or output_types)")
        self._generator = generator
        self._args = tuple(args or ())
        if output_signature is not None:  # shape None: not given, taken from the first element
            self._signature = _nest.map_structure(lambda s: _Leaf(s.dtype, s.shape),
                                                  output_signature)
        else:
            self._signature = _signature(output_types, output_shapes)

    def _iter(self, peek: bool) -> Iterator[Any]:
        sig = _nest.flatten(self._signature)
        for value in self._generator(*self._args):
            value = tuple(value) if isinstance(value, list) else value
            if not _nest.same_structure(value, self._signature):
                raise TypeError(f"generator yielded {value!r:.60}, not of the structure of "
                                f"{self.element_spec}")
            out = []
            for leaf, s in zip(_nest.flatten(value), sig):
                a = _common.to_array(leaf).astype(s.dtype.np, copy=False)
                if s.shape is not None and not s.shape.is_compatible_with(a.shape):
                    raise ValueError(f"generator yielded shape {a.shape}, expected {s.shape}")
                out.append(a)
            yield _nest.pack(self._signature, out)

    def _cardinality(self) -> int:
        return _common.UNKNOWN

    def _spec(self) -> Any:
        sig = _nest.flatten(self._signature)
        if any(s.shape is None for s in sig):
            first = next(self._iter(peek=True), None)
            if first is None:
                raise ValueError("the generator yields nothing, so its shapes are unknown")
            shapes = [[None] * np.ndim(a) for a in _nest.flatten(first)]
        else:
            shapes = [s.shape for s in sig]
        return _nest.pack(self._signature, [TensorSpec(shape, s.dtype)
                                            for shape, s in zip(shapes, sig)])


class _Leaf:
    """A dtype and a shape (None: unknown) in a generator's signature."""

    def __init__(self, dtype: Any, shape: Any) -> None:
        self.dtype = _dtypes.as_dtype(dtype)
        self.shape = None if shape is None else TensorShape(shape)


def _signature(types: Any, shapes: Any) -> Any:
    """Pair ``output_types`` with ``output_shapes``, whose leaves are whole shapes."""
    if isinstance(types, dict):
        return type(types)((k, _signature(v, None if shapes is None else shapes[k]))
                           for k, v in types.items())
    if isinstance(types, tuple):
        shapes = [None] * len(types) if shapes is None else shapes
        return tuple(_signature(t, s) for t, s in zip(types, shapes))
    return _Leaf(types, shapes)
