"""Index plans: the vectorised path of ``tf.data``.

A dataset made of rows of in-memory arrays (``from_tensor_slices``, ``from_tensors``,
``range``) can describe a pass over it as chunks of row indices. ``shuffle``, ``take``,
``skip``, ``repeat``, ``cache`` and ``prefetch`` only rearrange those indices, so ``batch`` can
gather whole batches with one fancy-indexing per array instead of stacking elements one by one.
Every plan yields exactly the elements its element-wise path would, in the same order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class Plan:
    """Rows ``i`` of a random-access source, visited in the order ``chunks(peek)`` gives."""

    take: Callable[[np.ndarray], Any]  # row indices -> the rows stacked, as a structure
    get: Callable[[int], Any]  # one row index -> one element
    chunks: Callable[[bool], Iterator[np.ndarray]]  # one pass's indices, in pieces

    def with_chunks(self, chunks: Callable[[bool], Iterator[np.ndarray]]) -> Plan:
        return Plan(self.take, self.get, chunks)


def elements(plan: Plan, peek: bool) -> Iterator[Any]:
    """The plan's elements one by one."""
    for chunk in plan.chunks(peek):
        for i in chunk.tolist():
            yield plan.get(i)


def batches(chunks: Iterator[np.ndarray], size: int, drop_remainder: bool) -> Iterator[np.ndarray]:
    """Index arrays of ``size`` (the last may be shorter unless ``drop_remainder``)."""
    pending = np.empty(0, np.int64)
    for chunk in chunks:
        pending = np.concatenate([pending, chunk]) if pending.size else chunk
        full = len(pending) // size * size
        for start in range(0, full, size):
            yield pending[start:start + size]
        pending = pending[full:]
    if pending.size and not drop_remainder:
        yield pending


def head(chunks: Iterator[np.ndarray], count: int) -> Iterator[np.ndarray]:
    """The first ``count`` indices; no chunk past them is asked for."""
    left = count
    if left <= 0:
        return
    for chunk in chunks:
        chunk = chunk[:left]
        left -= len(chunk)
        yield chunk
        if left == 0:
            return


def tail(chunks: Iterator[np.ndarray], count: int) -> Iterator[np.ndarray]:
    """All but the first ``count`` indices."""
    left = count
    for chunk in chunks:
        if left >= len(chunk):
            left -= len(chunk)
            continue
        yield chunk[left:]
        left = 0
