"""Keras' data handling for ``fit``/``evaluate``/``predict``: NumPy arrays (and dicts or lists
of them for several inputs or outputs), a ``tf.data.Dataset`` or a Python generator, cut into
batches by ``_DataAdapter``, with Keras' errors for bad input (empty data, ``batch_size`` <= 0,
an infinite Dataset without ``steps``, ...)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ..framework import nest
from ..framework.tensor import EagerTensor


def _to_array(a: Any, nested: bool = False) -> Any:
    """``a`` as a NumPy array, or a dict of them, or (``nested``: for a model with several
    inputs or outputs) a list of them."""
    if a is None:
        return None
    if isinstance(a, dict):
        return {k: _to_array(v) for k, v in a.items()}
    if nested and isinstance(a, list | tuple):
        return [_to_array(v) for v in a]
    if isinstance(a, EagerTensor):
        return a.numpy()
    return np.asarray(a)


def _first(a: Any) -> np.ndarray:
    """The first array of a (possibly structured) ``x`` or ``y``."""
    return nest.flatten(a)[0]


def _num(a: Any) -> int:
    """The number of samples of ``a`` (every array of a structure must hold as many)."""
    sizes = {len(v) if np.ndim(v) else 0 for v in nest.flatten(a)}
    if len(sizes) > 1:
        raise ValueError(f"Data arrays have different numbers of samples: {sorted(sizes)}")
    return sizes.pop()


def _take(a: Any, index: Any) -> Any:
    """``a[index]`` for an array or each array of a structure."""
    return None if a is None else nest.map_structure(lambda v: v[index], a)


def _unpack_xy(data: Any) -> tuple:
    if isinstance(data, tuple | list) and len(data) in (2, 3) and not isinstance(data, np.ndarray):
        return data[0], data[1]
    return data, None  # a Dataset yielding (x, y)


_INFINITE = ("When passing an infinitely repeating dataset, please specify a `{steps}` value so "
             "that epoch level callbacks continue to work. The value can be arbitrary, or a "
             "number that you think correctly defines the size of an epoch. Epoch-level "
             "callbacks will then be called at this interval.")


def _is_generator(x: Any) -> bool:
    """A Python generator/iterator given as ``x`` (Keras accepts them: one pass per epoch)."""
    return isinstance(x, Iterator) and not hasattr(x, "as_numpy_iterator")


def _positive(value: Any, what: str) -> None:
    if value is not None and (isinstance(value, bool) or int(value) != value or value <= 0):
        raise ValueError(f"{what} should be a positive integer value, but got {what}={value}")


class _DataAdapter:
    """Batches from NumPy arrays (sliced, shuffled with minitf's RNG), a Dataset or a Python
    generator of ``(x, y)`` / ``(x,)`` tuples."""

    def __init__(self, x: Any, y: Any, batch_size: int | None, shuffle: bool,
                 steps: int | None, steps_name: str = "steps", predicting: bool = False,
                 nested: tuple[bool, bool] = (False, False)) -> None:
        _positive(batch_size, "batch_size")
        if steps is not None and steps < 0:
            raise ValueError(f"{steps_name} should be a positive integer value, but got "
                             f"{steps_name}={steps}")
        steps = steps or None  # 0 means "all", as None
        self.dataset = x if hasattr(x, "as_numpy_iterator") or _is_generator(x) else None
        self.generator = _is_generator(x)
        self.predicting = predicting
        self.nested = nested
        self.shuffle = shuffle
        self.max_steps = steps
        if self.dataset is not None:
            if y is not None:
                kind = "a generator" if self.generator else "a Dataset"
                raise ValueError(f"When x is {kind}, y must be None (it yields (x, y) pairs)")
            n = None if self.generator else x._cardinality()
            if n == -1 and steps is None:  # tf.data.INFINITE_CARDINALITY
                raise ValueError(_INFINITE.format(steps=steps_name))
            self.steps = steps or (n if n is not None and n >= 0 else None)
            return
        if x is None:
            raise ValueError("fit/evaluate/predict need data: x (and y)")
        self.x, self.y = _to_array(x, nested[0]), _to_array(y, nested[1])
        self.n = _num(self.x)
        if self.n == 0:
            raise ValueError("num_samples should be a positive integer value, but got "
                             f"num_samples=0 (x is empty: shape {_first(self.x).shape})")
        if self.y is not None and _num(self.y) != self.n:
            raise ValueError(f"x and y have different numbers of samples: {self.n} vs "
                             f"{_num(self.y)}")
        self.batch_size = int(batch_size or 32)
        n_steps = math.ceil(self.n / self.batch_size)
        self.steps = min(n_steps, steps) if steps else n_steps

    def split(self, fraction: float) -> tuple[_DataAdapter, tuple]:
        """Keras' validation_split: the *last* fraction of the samples, taken before shuffling."""
        if fraction >= 1:
            raise ValueError(
                f"Training data contains {self.n} samples, which is not sufficient to "
                "split it into a validation and training set as specified by "
                f"`validation_split={fraction}`. Either provide more data, or a different value "
                "for the `validation_split` argument.")
        n_val = int(self.n * fraction)
        if n_val == 0:
            raise ValueError(f"validation_split={fraction} leaves no validation samples")
        cut = slice(None, self.n - n_val), slice(self.n - n_val, None)
        train = _DataAdapter(_take(self.x, cut[0]), _take(self.y, cut[0]),
                             self.batch_size, self.shuffle, self.max_steps, nested=self.nested)
        return train, (_take(self.x, cut[1]), _take(self.y, cut[1]))

    def batches(self, part: Callable[[int], slice] | None = None
                ) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
        """The batches; with ``part``, only the samples ``part(n)`` of each batch of ``n``
        (a worker's share under a tf.distribute strategy), cut from every array of ``x`` and
        ``y`` alike, and from arrays before they are gathered (shuffled) or sliced."""
        if self.dataset is not None:
            for xb, yb in self._dataset_batches():
                if part is not None:
                    cut = part(_num(xb))
                    xb, yb = _take(xb, cut), _take(yb, cut)
                yield xb, yb
            return
        n = self.n
        if self.shuffle:
            from ..ops.random_ops import get_global_generator

            order = get_global_generator().permutation(n)
        else:
            order = None
        for s in range(self.steps):
            lo, hi = s * self.batch_size, min(n, (s + 1) * self.batch_size)
            if part is not None:
                cut = part(hi - lo)
                lo, hi = lo + cut.start, lo + cut.stop
            idx = slice(lo, hi) if order is None else order[lo:hi]
            yield _take(self.x, idx), _take(self.y, idx)

    def _dataset_batches(self) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
        for i, item in enumerate(self.dataset):
            if self.max_steps is not None and i >= self.max_steps:
                return
            if isinstance(item, tuple | list):
                yield (_to_array(item[0], self.nested[0]),
                       _to_array(item[1], self.nested[1]) if len(item) > 1 else None)
            elif self.generator:
                raise ValueError(
                    "When passing a Python generator to a Keras model, the generator must "
                    "return a tuple, either (input,) or (inputs, targets) or (inputs, "
                    f"targets, sample_weights). Received: {_short(item)}")
            else:
                yield _to_array(item, self.nested[0]), None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) < 80 else text[:77] + "..."


