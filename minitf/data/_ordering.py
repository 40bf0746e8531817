"""Transformations that only reorder or select elements: shuffle, repeat, take, skip, cache,
prefetch. Each keeps its input's index plan, so batching after them stays vectorised."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import numpy as np

from ..ops.random_ops import get_global_generator
from . import _common
from ._plan import Plan, head, tail
from .dataset import Dataset

SLOT_BLOCK = 1024  # shuffle-buffer slots drawn per call to the generator


class _Unary(Dataset):
    def __init__(self, input_dataset: Dataset) -> None:
        self._input = input_dataset

    def _cardinality(self) -> int:
        return self._input._cardinality()

    def _spec(self) -> Any:
        return self._input.element_spec


class ShuffleDataset(_Unary):
    """TF's shuffle buffer: fill it, then for each further element emit a random slot and put
    the element there; when the input ends, emit the rest of the buffer in a random order.

    A buffer holding the whole input is thus one uniform permutation. Pass ``e`` of the dataset
    draws from ``default_rng([seed, e])`` (``e = 0`` always if ``reshuffle_each_iteration`` is
    False). On an index plan the same draws are applied to row indices, not elements.
    """

    def __init__(self, input_dataset: Dataset, buffer_size: int, seed: int | None,
                 reshuffle_each_iteration: bool) -> None:
        super().__init__(input_dataset)
        self._buffer_size = int(buffer_size)
        if self._buffer_size <= 0:
            raise ValueError(f"shuffle buffer_size must be positive, got {buffer_size}")
        self._seed = int(seed) if seed is not None else int(get_global_generator().integers(2**62))
        self._reshuffle = reshuffle_each_iteration
        self._epoch = 0

    def _rng(self, peek: bool) -> np.random.Generator:
        epoch = self._epoch if self._reshuffle else 0
        if self._reshuffle and not peek:
            self._epoch += 1
        return np.random.default_rng([self._seed, epoch])

    def _iter(self, peek: bool) -> Iterator[Any]:
        rng = self._rng(peek)
        source = self._input._elements(peek)
        buffer = list(itertools.islice(source, self._buffer_size))
        slots = _slots(rng, self._buffer_size)
        for element in source:
            i = next(slots)
            yield buffer[i]
            buffer[i] = element
        for i in rng.permutation(len(buffer)).tolist():
            yield buffer[i]

    def _plan(self) -> Plan | None:
        plan = self._input._plan()
        if plan is None:
            return None

        def chunks(peek: bool) -> Iterator[np.ndarray]:  # _iter's algorithm, on indices
            rng, size = self._rng(peek), self._buffer_size
            buffer: list[int] = []
            slots = _slots(rng, size)
            for chunk in plan.chunks(peek):
                rows = chunk.tolist()
                room = size - len(buffer)
                buffer.extend(rows[:room])
                out = []
                for row in rows[room:]:
                    i = next(slots)
                    out.append(buffer[i])
                    buffer[i] = row
                if out:
                    yield np.array(out, np.int64)
            yield np.array(buffer, np.int64)[rng.permutation(len(buffer))]

        return plan.with_chunks(chunks)


def _slots(rng: np.random.Generator, size: int) -> Iterator[int]:
    """Random buffer slots in ``[0, size)``, drawn in blocks (none until the first is needed)."""
    while True:
        yield from rng.integers(size, size=SLOT_BLOCK).tolist()


class RepeatDataset(_Unary):
    """The input ``count`` times (forever for None/-1); stops if a pass yields nothing."""

    def __init__(self, input_dataset: Dataset, count: int | None) -> None:
        super().__init__(input_dataset)
        self._count = -1 if count is None else int(count)

    def _passes(self) -> Iterator[int]:
        return itertools.count() if self._count < 0 else iter(range(self._count))

    def _plan(self) -> Plan | None:
        plan = self._input._plan()
        if plan is None:
            return None

        def chunks(peek: bool) -> Iterator[np.ndarray]:
            for _ in self._passes():
                empty = True
                for chunk in plan.chunks(peek):
                    empty = empty and not len(chunk)
                    yield chunk
                if empty:
                    return

        return plan.with_chunks(chunks)

    def _iter(self, peek: bool) -> Iterator[Any]:
        for _ in self._passes():
            empty = True
            for element in self._input._elements(peek):
                empty = False
                yield element
            if empty:
                return

    def _cardinality(self) -> int:
        n = self._input._cardinality()
        if self._count < 0:
            return 0 if n == 0 else _common.INFINITE
        if self._count == 0:
            return 0
        return n * self._count if _common.known(n) else n


class TakeDataset(_Unary):
    """The first ``count`` elements (-1: all)."""

    def __init__(self, input_dataset: Dataset, count: int) -> None:
        super().__init__(input_dataset)
        self._count = int(count)

    def _plan(self) -> Plan | None:
        plan = self._input._plan()
        if plan is None or self._count < 0:
            return plan
        return plan.with_chunks(lambda peek: head(plan.chunks(peek), self._count))

    def _iter(self, peek: bool) -> Iterator[Any]:
        source = self._input._elements(peek)
        return source if self._count < 0 else itertools.islice(source, self._count)

    def _cardinality(self) -> int:
        n = self._input._cardinality()
        if self._count < 0 or n == _common.UNKNOWN:
            return n
        return self._count if n == _common.INFINITE else min(n, self._count)


class SkipDataset(_Unary):
    """All but the first ``count`` elements (-1: none)."""

    def __init__(self, input_dataset: Dataset, count: int) -> None:
        super().__init__(input_dataset)
        self._count = int(count)

    def _plan(self) -> Plan | None:
        plan = self._input._plan()
        if plan is None or self._count < 0:
            return None
        return plan.with_chunks(lambda peek: tail(plan.chunks(peek), self._count))

    def _iter(self, peek: bool) -> Iterator[Any]:
        source = self._input._elements(peek)
        if self._count < 0:
            for _ in source:
                pass
            return
        yield from itertools.islice(source, self._count, None)

    def _cardinality(self) -> int:
        n = self._input._cardinality()
        if not _common.known(n):
            return n
        return 0 if self._count < 0 else max(n - self._count, 0)


class ShardDataset(_Unary):
    """Elements ``index``, ``index + num_shards``, ... of the input."""

    def __init__(self, input_dataset: Dataset, num_shards: int, index: int) -> None:
        super().__init__(input_dataset)
        self._n, self._index = int(num_shards), int(index)
        if self._n < 1 or not 0 <= self._index < self._n:
            raise ValueError(f"Dataset.shard: need num_shards >= 1 and 0 <= index < num_shards, "
                             f"got num_shards={num_shards}, index={index}")

    def _iter(self, peek: bool) -> Iterator[Any]:
        yield from itertools.islice(self._input._elements(peek), self._index, None, self._n)

    def _cardinality(self) -> int:
        n = self._input._cardinality()
        if not _common.known(n):
            return n
        return max(n - self._index + self._n - 1, 0) // self._n


class PrefetchDataset(_Unary):
    """A pass-through: elements are produced on demand, in the caller's thread."""

    def _plan(self) -> Plan | None:
        return self._input._plan()

    def _iter(self, peek: bool) -> Iterator[Any]:
        return self._input._elements(peek)


class CacheDataset(_Unary):
    """The first complete pass, kept in memory (as indices when the input has a plan) and
    replayed afterwards; an interrupted pass is not kept."""

    def __init__(self, input_dataset: Dataset) -> None:
        super().__init__(input_dataset)
        self._indices: np.ndarray | None = None
        self._elements_seen: list | None = None

    def _plan(self) -> Plan | None:
        plan = self._input._plan()
        if plan is None:
            return None

        def chunks(peek: bool) -> Iterator[np.ndarray]:
            if self._indices is not None:
                yield self._indices
                return
            seen = []
            for chunk in plan.chunks(peek):
                seen.append(chunk)
                yield chunk
            if not peek:
                self._indices = np.concatenate(seen) if seen else np.empty(0, np.int64)

        return plan.with_chunks(chunks)

    def _iter(self, peek: bool) -> Iterator[Any]:
        if self._elements_seen is not None:
            yield from self._elements_seen
            return
        seen = []
        for element in self._input._elements(peek):
            seen.append(element)
            yield element
        if not peek:
            self._elements_seen = seen
