"""``tf.data.Dataset``: an input pipeline built from sources and transformations.

Elements are NumPy arrays inside the pipeline and become EagerTensors when they reach Python
code: when you iterate, and when ``map``/``filter`` call your function. Tuples and dicts keep
their structure. ``from_tensor_slices(...) -> shuffle -> batch`` (with any of ``take``,
``skip``, ``repeat``, ``cache``, ``prefetch`` in between) batches vectorised: see ``_plan``.
A ``map`` or ``filter`` before ``batch`` makes it work element by element.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ..framework.tensor import EagerTensor, Tensor
from . import _common, _nest
from ._plan import Plan, elements

# Each method imports the class that implements it: those modules subclass Dataset.


class Dataset:
    """A sequence of elements (tensors, or tuples/dicts of them), iterated afresh each epoch."""

    # -- what each kind of dataset provides ------------------------------------------------
    def _plan(self) -> Plan | None:
        """The index plan when this dataset is rows of in-memory arrays, else None."""
        return None

    def _iter(self, peek: bool) -> Iterator[Any]:
        """The elements (structures of ndarrays); ``peek`` leaves epoch counters alone."""
        raise NotImplementedError

    def _cardinality(self) -> int:
        raise NotImplementedError

    def _spec(self) -> Any:
        raise NotImplementedError

    def _elements(self, peek: bool = False) -> Iterator[Any]:
        plan = self._plan()
        return elements(plan, peek) if plan is not None else self._iter(peek)

    # -- sources -----------------------------------------------------------------------------
    @staticmethod
    def from_tensor_slices(tensors: Any, name: str | None = None) -> Dataset:
        """One element per row (first dimension) of ``tensors``; tuples and dicts nest."""
        from ._sources import TensorSliceDataset

        return TensorSliceDataset(tensors)

    @staticmethod
    def from_tensors(tensors: Any, name: str | None = None) -> Dataset:
        """A dataset of the single element ``tensors``."""
        from ._sources import TensorSliceDataset

        return TensorSliceDataset(tensors, whole=True)

    @staticmethod
    def range(*args: int, output_type: Any = None, name: str | None = None) -> Dataset:
        """``range(stop)``, ``range(start, stop[, step])`` as int64 scalars (or ``output_type``)."""
        from ._sources import RangeDataset

        return RangeDataset(*args, output_type=output_type)

    @staticmethod
    def from_generator(generator: Callable[..., Any], output_types: Any = None,
                       output_shapes: Any = None, args: tuple | None = None,
                       output_signature: Any = None, name: str | None = None) -> Dataset:
        """The values yielded by ``generator(*args)``, called anew for every iteration."""
        from ._sources import GeneratorDataset

        return GeneratorDataset(generator, output_types, output_shapes, args, output_signature)

    @staticmethod
    def zip(*args: Any, datasets: Any = None, name: str | None = None) -> Dataset:
        """Elements of several datasets side by side: ``zip(a, b)``, or a tuple/dict of them."""
        from ._transforms import ZipDataset

        if datasets is not None and args:
            raise TypeError("Dataset.zip takes datasets either positionally or as datasets=")
        return ZipDataset(datasets if datasets is not None else args[0] if len(args) == 1
                          else args)

    # -- transformations ---------------------------------------------------------------------
    def map(self, map_func: Callable[..., Any], num_parallel_calls: int | None = None,
            deterministic: bool | None = None, name: str | None = None) -> Dataset:
        """``map_func`` applied to each element (tuples unpacked into arguments).

        ``num_parallel_calls`` and ``deterministic`` are accepted and ignored (runs in order).
        """
        from ._transforms import MapDataset

        return MapDataset(self, map_func)

    def filter(self, predicate: Callable[..., Any], name: str | None = None) -> Dataset:
        """The elements for which ``predicate`` returns a scalar True."""
        from ._transforms import FilterDataset

        return FilterDataset(self, predicate)

    def shuffle(self, buffer_size: int, seed: int | None = None,
                reshuffle_each_iteration: bool = True, name: str | None = None) -> Dataset:
        """Elements drawn at random from a buffer of ``buffer_size``, as in TF.

        A buffer at least as large as the dataset gives a uniform shuffle. Without ``seed`` one
        is drawn from the global generator (``tf.random.set_seed`` makes it reproducible).
        """
        from ._ordering import ShuffleDataset

        return ShuffleDataset(self, buffer_size, seed, reshuffle_each_iteration)

    def batch(self, batch_size: int, drop_remainder: bool = False,
              num_parallel_calls: int | None = None, deterministic: bool | None = None,
              name: str | None = None) -> Dataset:
        """Consecutive elements stacked into batches of ``batch_size``."""
        from ._transforms import BatchDataset

        return BatchDataset(self, batch_size, drop_remainder)

    def unbatch(self, name: str | None = None) -> Dataset:
        """Each element split along its first dimension."""
        from ._transforms import UnbatchDataset

        return UnbatchDataset(self)

    def repeat(self, count: int | None = None, name: str | None = None) -> Dataset:
        """The dataset ``count`` times (forever for None or -1); each pass is a new epoch."""
        from ._ordering import RepeatDataset

        return RepeatDataset(self, count)

    def take(self, count: int, name: str | None = None) -> Dataset:
        """The first ``count`` elements (all of them for -1)."""
        from ._ordering import TakeDataset

        return TakeDataset(self, count)

    def skip(self, count: int, name: str | None = None) -> Dataset:
        """All but the first ``count`` elements (none for -1)."""
        from ._ordering import SkipDataset

        return SkipDataset(self, count)

    def shard(self, num_shards: int, index: int, name: str | None = None) -> Dataset:
        """Every ``num_shards``-th element from element ``index`` on: worker ``index``'s part
        (``dataset.shard(hvd.size(), hvd.rank())``)."""
        from ._ordering import ShardDataset

        return ShardDataset(self, num_shards, index)

    def prefetch(self, buffer_size: int, name: str | None = None) -> Dataset:
        """Accepted for TF compatibility; minitf produces elements on demand (no thread)."""
        from ._ordering import PrefetchDataset

        return PrefetchDataset(self)

    def cache(self, filename: str = "", name: str | None = None) -> Dataset:
        """Remember the elements of the first complete pass and replay them afterwards.

        Without ``filename`` the cache is kept in memory; with one it is written to disk
        (``filename + ".cache"``, a directory) and reused by later runs, as in TF.
        """
        if filename:
            from ._files import FileCacheDataset

            return FileCacheDataset(self, filename)
        from ._ordering import CacheDataset

        return CacheDataset(self)

    def save(self, path: str, compression: Any = None, shard_func: Any = None,
             checkpoint_args: Any = None) -> None:
        """Write the (finite) dataset under directory ``path``; ``Dataset.load`` reads it.

        minitf differs: its own pickle-free format (npz shards and a JSON element spec).
        """
        from ._files import save

        if shard_func is not None:
            raise NotImplementedError("Dataset.save: shard_func is not supported by minitf")
        save(self, path)

    @staticmethod
    def load(path: str, element_spec: Any = None, compression: Any = None,
             reader_func: Any = None) -> Dataset:
        """The dataset that ``Dataset.save`` wrote under ``path``."""
        from ._files import load

        return load(path, element_spec, compression, reader_func)

    def concatenate(self, dataset: Dataset, name: str | None = None) -> Dataset:
        """This dataset's elements followed by those of ``dataset``."""
        from ._transforms import ConcatenateDataset

        return ConcatenateDataset(self, dataset)

    def enumerate(self, start: int = 0, name: str | None = None) -> Dataset:
        """``(index, element)`` pairs, the index an int64 counting from ``start``."""
        from ._transforms import EnumerateDataset

        return EnumerateDataset(self, start)

    def apply(self, transformation_func: Callable[[Dataset], Dataset]) -> Dataset:
        """``transformation_func(self)``."""
        return transformation_func(self)

    # -- inspection and iteration ------------------------------------------------------------
    @property
    def element_spec(self) -> Any:
        """The structure of ``TensorSpec`` of one element (``None`` marks varying dims)."""
        if not hasattr(self, "_element_spec"):
            self._element_spec = self._spec()
        return self._element_spec

    def cardinality(self) -> Tensor:
        """The number of elements as an int64 scalar; -1 if infinite, -2 if unknown."""
        return EagerTensor(np.array(self._cardinality(), np.int64))

    def __len__(self) -> int:
        n = self._cardinality()
        if n == _common.INFINITE:
            raise TypeError("The dataset is infinite.")
        if n == _common.UNKNOWN:
            raise TypeError("The dataset length is unknown.")
        return n

    def __bool__(self) -> bool:
        return True

    def __iter__(self) -> DatasetIterator:
        return DatasetIterator(self)

    def as_numpy_iterator(self) -> Iterator[Any]:
        """The elements as NumPy values (scalars for rank-0 tensors)."""
        return (_nest.map_structure(lambda a: a[()] if a.ndim == 0 else a, e)
                for e in self._elements())

    def __repr__(self) -> str:
        try:
            spec = self.element_spec
        except Exception:  # noqa: BLE001 - a repr must not fail
            spec = "<not known before iterating>"
        return f"<{type(self).__name__} element_spec={spec}>"


class DatasetIterator:
    """An iterator over a dataset's elements as tensors (what ``iter(dataset)`` returns)."""

    def __init__(self, dataset: Dataset) -> None:
        self._dataset = dataset
        self._elements = dataset._elements()

    @property
    def element_spec(self) -> Any:
        return self._dataset.element_spec

    def __iter__(self) -> DatasetIterator:
        return self

    def __next__(self) -> Any:
        return _common.tensors(next(self._elements))

    def get_next(self) -> Any:
        """The next element; raises ``StopIteration`` at the end."""
        return next(self)

