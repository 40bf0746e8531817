"""Datasets on disk: ``Dataset.save``/``tf.data.Dataset.load`` and ``cache(filename)``.

A saved dataset is a directory: ``element_spec.json`` (the element structure, each component's
shape and dtype, the number of elements) and shards ``shard-00000.npz`` of up to
``SHARD_ELEMENTS`` elements, component ``j`` of element ``i`` stored as ``"{i}_{j}"``. Arrays
are read with ``allow_pickle=False`` and checked against the spec: no pickle, no code.
minitf differs from TF: the format is minitf's own (TF's is protobuf snapshots), and a
namedtuple element comes back as a plain tuple.
"""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from collections.abc import Iterator
from typing import Any

import numpy as np

from .. import dtypes as _dtypes
from . import _nest, _spec
from ._spec import TensorSpec
from .dataset import Dataset

SPEC_FILE = "element_spec.json"
FORMAT = "minitf.data.save/1"
SHARD_ELEMENTS = 1024
_MAX_DEPTH = 32  # nesting of an element's structure in element_spec.json


# -- the element structure as JSON ----------------------------------------------------------------


def _encode(spec: Any) -> Any:
    if isinstance(spec, TensorSpec):
        return {"shape": [d for d in spec.shape], "dtype": spec.dtype.name}
    if isinstance(spec, dict):
        if not all(isinstance(k, str) for k in spec):
            raise TypeError("Dataset.save needs string keys in dict elements")
        return {"dict": {k: _encode(v) for k, v in spec.items()}}
    if isinstance(spec, tuple):
        return {"tuple": [_encode(v) for v in spec]}
    raise TypeError(f"Dataset.save cannot store an element component of type "
                    f"{type(spec).__name__}")


def _decode(obj: Any, where: str, depth: int = 0) -> Any:
    if depth > _MAX_DEPTH:
        raise ValueError(f"{where}: the element structure is nested deeper than {_MAX_DEPTH}")
    if not isinstance(obj, dict):
        raise ValueError(f"{where}: expected an object in the element structure, got "
                         f"{type(obj).__name__}")
    if "dict" in obj and isinstance(obj["dict"], dict):
        return {str(k): _decode(v, where, depth + 1) for k, v in obj["dict"].items()}
    if "tuple" in obj and isinstance(obj["tuple"], list):
        return tuple(_decode(v, where, depth + 1) for v in obj["tuple"])
    shape, dtype = obj.get("shape"), obj.get("dtype")
    if not isinstance(shape, list) or not all(d is None or (isinstance(d, int) and d >= 0)
                                              for d in shape):
        raise ValueError(f"{where}: bad component shape {shape!r}")
    try:
        return TensorSpec(shape, _dtypes.as_dtype(dtype))
    except (TypeError, ValueError) as e:
        raise ValueError(f"{where}: bad component dtype {dtype!r} ({e})") from None


# -- writing -------------------------------------------------------------------------------------


class _Writer:
    """Writes elements into shards of ``directory``; ``close`` writes the spec last, so a
    directory with a spec file is complete."""

    def __init__(self, directory: str) -> None:
        self.dir = directory
        os.makedirs(directory, exist_ok=True)
        self.count, self.shards, self._pending = 0, 0, {}
        self.seen_spec: Any = None  # the common spec of the elements written so far

    def add(self, element: Any) -> None:
        spec = _spec.spec_of(element)
        self.seen_spec = spec if self.seen_spec is None else _spec.unify(self.seen_spec, spec)
        for j, leaf in enumerate(_nest.flatten(element)):
            self._pending[f"{self.count}_{j}"] = np.asarray(leaf)
        self.count += 1
        if self.count % SHARD_ELEMENTS == 0:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            np.savez(os.path.join(self.dir, f"shard-{self.shards:05d}.npz"), **self._pending)
            self.shards += 1
            self._pending = {}

    def close(self, spec: Any) -> None:
        self._flush()
        meta = {"format": FORMAT, "element_spec": _encode(spec), "cardinality": self.count,
                "shards": self.shards, "shard_elements": SHARD_ELEMENTS}
        with open(os.path.join(self.dir, SPEC_FILE), "w", encoding="utf-8") as f:
            json.dump(meta, f)


def save(dataset: Dataset, path: str) -> None:
    """Write every element of ``dataset`` (which must be finite) under directory ``path``."""
    if dataset._cardinality() == -1:
        raise ValueError("Dataset.save: the dataset is infinite")
    path = os.fspath(path)
    tmp = path + ".tmp-save"
    shutil.rmtree(tmp, ignore_errors=True)
    w = _Writer(tmp)
    for element in dataset._elements():
        w.add(element)
    w.close(dataset.element_spec)
    shutil.rmtree(path, ignore_errors=True)
    os.replace(tmp, path)


# -- reading -------------------------------------------------------------------------------------


def _read_meta(path: str) -> dict:
    spec_path = os.path.join(path, SPEC_FILE)
    if not os.path.isfile(spec_path):
        raise FileNotFoundError(f"No saved dataset at {path!r}: {SPEC_FILE} is missing")
    try:
        with open(spec_path, encoding="utf-8") as f:
            meta = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as e:
        raise ValueError(f"{spec_path}: not valid JSON ({e})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError(f"{spec_path}: not a minitf saved dataset (format {FORMAT!r})")
    for key in ("cardinality", "shards", "shard_elements"):
        if not isinstance(meta.get(key), int) or meta[key] < 0:
            raise ValueError(f"{spec_path}: field {key!r} must be a non-negative integer")
    meta["spec"] = _decode(meta.get("element_spec"), spec_path)
    return meta


class LoadedDataset(Dataset):
    """The elements of a directory written by ``Dataset.save`` (read shard by shard)."""

    def __init__(self, path: str, element_spec: Any = None) -> None:
        self._path = os.fspath(path)
        meta = _read_meta(self._path)
        self._n, self._shards = meta["cardinality"], meta["shards"]
        self._file_spec = meta["spec"]
        if element_spec is not None and not _nest.same_structure(element_spec, self._file_spec):
            raise ValueError(f"Dataset.load({path!r}): element_spec {element_spec} does not "
                             f"match the saved {self._file_spec}")

    def _cardinality(self) -> int:
        return self._n

    def _spec(self) -> Any:
        return self._file_spec

    def _iter(self, peek: bool) -> Iterator[Any]:
        specs = _nest.flatten(self._file_spec)
        i = 0
        for s in range(self._shards):
            name = os.path.join(self._path, f"shard-{s:05d}.npz")
            try:
                shard = np.load(name, allow_pickle=False)
            except (OSError, ValueError, zipfile.BadZipFile) as e:
                raise ValueError(f"{name}: cannot read the shard ({e})") from None
            with shard:
                while i < self._n and f"{i}_0" in shard.files:
                    leaves = [_checked(shard, f"{i}_{j}", spec, name)
                              for j, spec in enumerate(specs)]
                    yield _nest.pack(self._file_spec, leaves)
                    i += 1
        if i != self._n:
            raise ValueError(f"{self._path}: the shards hold {i} elements, the spec says "
                             f"{self._n}")


def _checked(shard: Any, key: str, spec: TensorSpec, name: str) -> np.ndarray:
    try:
        a = shard[key]
    except (KeyError, ValueError) as e:
        raise ValueError(f"{name}: component {key!r} is missing or unreadable ({e})") from None
    if a.dtype != spec.dtype.np or not spec.shape.is_compatible_with(a.shape):
        raise ValueError(f"{name}: component {key!r} is {a.dtype}{list(a.shape)}, the spec "
                         f"says {spec.dtype.name}{list(spec.shape)}")
    return a


def load(path: str, element_spec: Any = None, compression: Any = None,
         reader_func: Any = None) -> Dataset:
    """``tf.data.Dataset.load``: the dataset ``Dataset.save`` wrote under ``path``."""
    if reader_func is not None:
        raise NotImplementedError("Dataset.load: reader_func is not supported by minitf")
    return LoadedDataset(path, element_spec)


# -- cache(filename) ------------------------------------------------------------------------------


class FileCacheDataset(Dataset):
    """``cache(filename)``: the first complete pass is written to ``filename`` + ``.cache``
    (a saved-dataset directory) and every later pass, in this process or a new one, reads it.
    An interrupted pass leaves no cache."""

    def __init__(self, input_dataset: Dataset, filename: str) -> None:
        self._input = input_dataset
        self._dir = os.fspath(filename) + ".cache"

    def _cardinality(self) -> int:
        return self._input._cardinality()

    def _spec(self) -> Any:
        return self._input.element_spec

    def _iter(self, peek: bool) -> Iterator[Any]:
        if os.path.isfile(os.path.join(self._dir, SPEC_FILE)):
            yield from LoadedDataset(self._dir)._iter(peek)
            return
        if peek:
            yield from self._input._elements(peek)
            return
        tmp = self._dir + f".tmp-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        w = _Writer(tmp)
        try:
            for element in self._input._elements(peek):
                w.add(element)
                yield element
            # the elements' own spec: asking the input for one could run a map again
            w.close(w.seen_spec if w.seen_spec is not None else self.element_spec)
            shutil.rmtree(self._dir, ignore_errors=True)  # an incomplete cache of an earlier run
            os.replace(tmp, self._dir)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
