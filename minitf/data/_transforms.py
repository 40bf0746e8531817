"""Transformations that compute: map, filter, batch, unbatch, zip, concatenate, enumerate."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from .. import dtypes as _dtypes
from ..framework.errors import InvalidArgumentError
from . import _common, _nest, _spec
from ._plan import batches
from ._spec import TensorSpec
from .dataset import Dataset


class MapDataset(Dataset):
    """``fn`` applied to each element, eagerly. Its ``element_spec`` comes from running ``fn``
    on the first input element; dimensions that are ``None`` in a batched input stay ``None``."""

    def __init__(self, input_dataset: Dataset, fn: Callable[..., Any]) -> None:
        self._input, self._fn = input_dataset, fn

    def _iter(self, peek: bool) -> Iterator[Any]:
        for element in self._input._elements(peek):
            yield _common.arrays(_common.call(self._fn, element))

    def _cardinality(self) -> int:
        return self._input._cardinality()

    def _spec(self) -> Any:
        first = next(self._input._elements(peek=True), None)
        if first is None:
            raise ValueError("map's element_spec is unknown: its input is empty")
        out = _common.arrays(_common.call(self._fn, first))
        in_specs = _nest.flatten(self._input.element_spec)
        if not (in_specs and all(s.shape.rank and s.shape[0] is None for s in in_specs)):
            return _spec.spec_of(out)
        rows = np.shape(_nest.flatten(first)[0])[0]  # a batch: its size may vary

        def spec(a: np.ndarray) -> TensorSpec:
            shape = list(a.shape)
            if shape and shape[0] == rows:
                shape[0] = None
            return TensorSpec(shape, a.dtype)

        return _nest.map_structure(spec, out)


class FilterDataset(Dataset):
    """The elements for which ``predicate`` returns a scalar True."""

    def __init__(self, input_dataset: Dataset, predicate: Callable[..., Any]) -> None:
        self._input, self._predicate = input_dataset, predicate

    def _iter(self, peek: bool) -> Iterator[Any]:
        for element in self._input._elements(peek):
            keep = _common.to_array(_common.call(self._predicate, element))
            if keep.shape != () or keep.dtype != np.bool_:
                raise ValueError(f"filter predicate must return a scalar tf.bool, got dtype "
                                 f"{keep.dtype} shape {keep.shape}")
            if keep:
                yield element

    def _cardinality(self) -> int:
        n = self._input._cardinality()
        return n if n == _common.INFINITE else _common.UNKNOWN

    def _spec(self) -> Any:
        return self._input.element_spec


class BatchDataset(Dataset):
    """``batch_size`` consecutive elements stacked; gathered with ``np.take`` on a plan."""

    def __init__(self, input_dataset: Dataset, batch_size: int, drop_remainder: bool) -> None:
        self._input = input_dataset
        self._size = int(batch_size)
        if self._size <= 0:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        self._drop = bool(drop_remainder)

    def _iter(self, peek: bool) -> Iterator[Any]:
        plan = self._input._plan()
        if plan is not None:
            for idx in batches(plan.chunks(peek), self._size, self._drop):
                yield plan.take(idx)
            return
        group: list = []
        for element in self._input._elements(peek):
            group.append(element)
            if len(group) == self._size:
                yield stack(group)
                group = []
        if group and not self._drop:
            yield stack(group)

    def _cardinality(self) -> int:
        n = self._input._cardinality()
        if not _common.known(n):
            return n
        return n // self._size if self._drop else -(-n // self._size)

    def _spec(self) -> Any:
        rows = self._size if self._drop else None
        return _nest.map_structure(lambda s: TensorSpec((rows, *s.shape), s.dtype),
                                   self._input.element_spec)


def stack(group: list) -> Any:
    """Elements of one structure stacked leaf by leaf along a new first axis."""
    first = group[0]
    columns = [_nest.flatten(e) for e in group]
    out = []
    for k, leaf in enumerate(_nest.flatten(first)):
        shape = np.shape(leaf)
        for i, leaves in enumerate(columns):
            if len(leaves) != len(columns[0]) or np.shape(leaves[k]) != shape:
                raise InvalidArgumentError(
                    f"Cannot batch tensors with different shapes in component {k}. First "
                    f"element had shape {list(shape)} and element {i} had shape "
                    f"{list(np.shape(leaves[k]))}.")
        out.append(np.stack([leaves[k] for leaves in columns]))
    return _nest.pack(first, out)


class UnbatchDataset(Dataset):
    """Each element split along its first dimension."""

    def __init__(self, input_dataset: Dataset) -> None:
        self._input = input_dataset

    def _iter(self, peek: bool) -> Iterator[Any]:
        for element in self._input._elements(peek):
            leaves = _nest.flatten(element)
            rows = {np.shape(a)[0] if np.ndim(a) else None for a in leaves}
            if None in rows or len(rows) != 1:
                raise InvalidArgumentError("unbatch needs components of rank >= 1 that all "
                                           f"have the same first dimension, got {rows}")
            for i in range(rows.pop()):
                yield _nest.pack(element, [a[i] for a in leaves])

    def _cardinality(self) -> int:
        n = self._input._cardinality()
        return n if n == _common.INFINITE else _common.UNKNOWN

    def _spec(self) -> Any:
        def row(s: TensorSpec) -> TensorSpec:
            if not s.shape.rank:
                raise ValueError("unbatch needs components of rank >= 1")
            return TensorSpec(s.shape[1:], s.dtype)

        return _nest.map_structure(row, self._input.element_spec)


class ZipDataset(Dataset):
    """Elements of a tuple/dict of datasets side by side, until the shortest ends."""

    def __init__(self, datasets: Any) -> None:
        leaves = _nest.flatten(datasets)
        if not leaves or not all(isinstance(d, Dataset) for d in leaves):
            raise TypeError("Dataset.zip takes datasets (or a tuple or dict of them)")
        self._structure, self._datasets = datasets, leaves

    def _iter(self, peek: bool) -> Iterator[Any]:
        sources = [d._elements(peek) for d in self._datasets]
        end = object()
        while True:
            parts = [next(s, end) for s in sources]
            if any(p is end for p in parts):
                return
            yield _nest.pack(self._structure, parts)

    def _cardinality(self) -> int:
        counts = [d._cardinality() for d in self._datasets]
        if _common.UNKNOWN in counts:
            return _common.UNKNOWN
        finite = [n for n in counts if _common.known(n)]
        return min(finite) if finite else _common.INFINITE

    def _spec(self) -> Any:
        return _nest.pack(self._structure, [d.element_spec for d in self._datasets])


class ConcatenateDataset(Dataset):
    """One dataset's elements, then another's (their element structures must agree)."""

    def __init__(self, first: Dataset, second: Dataset) -> None:
        self._first, self._second = first, second

    def _iter(self, peek: bool) -> Iterator[Any]:
        yield from self._first._elements(peek)
        yield from self._second._elements(peek)

    def _cardinality(self) -> int:
        a, b = self._first._cardinality(), self._second._cardinality()
        if _common.INFINITE in (a, b):
            return _common.INFINITE
        return a + b if _common.known(a) and _common.known(b) else _common.UNKNOWN

    def _spec(self) -> Any:
        return _spec.unify(self._first.element_spec, self._second.element_spec)


class EnumerateDataset(Dataset):
    """``(index, element)`` with an int64 index counting from ``start``."""

    def __init__(self, input_dataset: Dataset, start: int) -> None:
        self._input, self._start = input_dataset, int(start)

    def _iter(self, peek: bool) -> Iterator[Any]:
        for i, element in enumerate(self._input._elements(peek), self._start):
            yield np.array(i, np.int64), element

    def _cardinality(self) -> int:
        return self._input._cardinality()

    def _spec(self) -> Any:
        return TensorSpec((), _dtypes.int64), self._input.element_spec
