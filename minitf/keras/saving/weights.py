"""Where each weight sits in Keras' HDF5 files, and loading them all or nothing.

Keras 3 (``model.weights.h5`` in a ``.keras`` zip, and ``.weights.h5`` files) keeps layer ``i``'s
weights at ``layers/<snake_case(class)>[_k]/vars/<j>`` and the optimizer's at
``optimizer/vars/<j>``; the legacy ``.h5`` keeps them under ``model_weights/<layer name>`` listed
by the ``weight_names`` attribute. Shapes and sizes are checked before any array is read, and
nothing is assigned until every array has been read and checked.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Iterator
from typing import Any

import numpy as np

from . import limits, registry


def keras_paths(class_names: list[str]) -> list[str]:
    """``layers/dense``, ``layers/dense_1``, ...: Keras' group of each layer, in order."""
    counts: dict[str, int] = {}
    out = []
    for name in class_names:
        base = registry.snake_case(name)
        n = counts.get(base, 0)
        counts[base] = n + 1
        out.append(f"layers/{base}" + (f"_{n}" if n else ""))
    return out


def weight_groups(layer: Any, depth: int = 0) -> list[tuple[str, Any]]:
    """``(sub-path, owner)`` of each group of ``layer``'s weights below its own group, in the
    order of ``layer.weights``: ``[("", layer)]`` for most, ``[("cell", layer)]`` for LSTM,
    ``[("forward_layer/cell", fw), ("backward_layer/cell", bw)]`` for a Bidirectional LSTM."""
    children = registry.model_children(layer) if layer is not None else None
    if children is not None:  # a model inside the model: layers/functional/layers/dense/...
        if depth > 4:
            raise ValueError(f"model '{layer.name}' nests models more than 4 deep")
        paths = keras_paths([registry.keras_class_name(c) for c in children])
        return [(f"{path}/{sub}" if sub else path, owner) for path, child in zip(paths, children)
                for sub, owner in weight_groups(child, depth + 1)]
    spec = registry.by_minitf_class(type(layer)) if layer is not None else None
    if spec is None or not spec.nested:
        return [(spec.weights_path if spec else "", layer)]
    if depth > 4:
        raise ValueError(f"layer '{layer.name}' nests wrappers more than 4 deep")
    return [("/".join(p for p in (attr, sub) if p), owner)
            for attr in spec.nested.values()
            for sub, owner in weight_groups(getattr(layer, attr), depth + 1)]


def _groups(path: str, layer: Any) -> list[tuple[str, Any]]:
    return [(f"{path}/{sub}" if sub else path, owner) for sub, owner in weight_groups(layer)]


def h5_datasets(group: Any, what: str) -> list:
    """The datasets ``0, 1, ...`` of a ``vars`` group, each checked (not read)."""
    if group is None:
        return []
    names = list(group.keys())
    if sorted(names, key=lambda n: int(n) if n.isdigit() else -1) != \
            [str(i) for i in range(len(names))]:
        raise ValueError(f"{what}: group {group.name} holds {names}, not datasets 0..n-1")
    out = []
    for i in range(len(names)):
        ds = group[str(i)]
        if not hasattr(ds, "shape"):
            raise ValueError(f"{what}: {ds.name} is not a dataset")
        limits.check_dataset(ds, what)
        out.append(ds)
    return out


def write_keras_weights(f: Any, layer_classes: list[str], layers: list, optimizer: Any,
                        model_name: str) -> None:
    """Keras 3's weights layout into the open h5py file ``f``."""
    for path, layer in zip(keras_paths(layer_classes), layers):
        for group, owner in _groups(path, layer):
            parts = group.split("/")
            for i in range(2, len(parts)):  # Keras has a vars group at every level
                if parts[i - 1] != "layers":
                    f.require_group("/".join(parts[:i]) + "/vars")
            g = f.require_group(f"{group}/vars")
            g.attrs["name"] = getattr(owner, "name", path)
            for i, w in enumerate(owner.weights if owner is not None else []):
                g.create_dataset(str(i), data=np.asarray(w.numpy()))
    f.require_group("vars").attrs["name"] = model_name
    if optimizer is not None:
        g = f.require_group("optimizer/vars")
        g.attrs["name"] = optimizer.name
        for i, v in enumerate(optimizer.variables):
            g.create_dataset(str(i), data=np.asarray(v.numpy()))


def read_keras_layout(f: Any, layer_classes: list[str], layers: list, what: str,
                      paths: list[str] | None = None) -> list[list]:
    """For each layer (None: an InputLayer), its stored datasets (checked, not read);
    ``paths``: the layers' groups when not ``keras_paths(layer_classes)``."""
    return [[ds for group, _ in _groups(path, layer)
             for ds in h5_datasets(f.get(f"{group}/vars"), what)]
            for path, layer in zip(paths or keras_paths(layer_classes), layers)]


def optimizer_datasets(f: Any, what: str) -> list:
    return h5_datasets(f.get("optimizer/vars"), what)


class Guards:
    """Weight-creation guards: a guarded layer may create only weights of the shapes the file
    stores for it, so a config claiming ``units=10**12`` fails before allocating."""

    def __init__(self, what: str) -> None:
        self.what, self._guarded = what, []

    def add(self, layer: Any, queue: list, any_order: bool = False) -> None:
        """Guard ``layer`` (and the layers inside it) with ``queue``, the stored shapes
        (shared by every layer given the same list; ``any_order``: each weight takes the
        first stored shape equal to its own, for files whose order is not creation order)."""
        n = len(queue)
        for obj in _with_sublayers(layer):
            obj.add_weight = _guard(obj, queue, n, self.what, any_order)
            self._guarded.append(obj)

    def remove(self) -> None:
        for obj in self._guarded:
            obj.__dict__.pop("add_weight", None)
        self._guarded = []


@contextlib.contextmanager
def shapes_checked(layers: list, stored: list[list], what: str) -> Iterator[None]:
    """While building, each layer may create exactly the weights the file stores for it, of
    the same shapes."""
    guards = Guards(what)
    try:
        for layer, datasets in zip(layers, stored):
            guards.add(layer, [tuple(ds.shape) for ds in datasets])
        yield
    finally:
        guards.remove()


def _with_sublayers(layer: Any) -> list:
    """``layer`` and the layers inside it (a recurrent layer's cell, a wrapper's layers)."""
    from ..layers.base import Layer

    out, todo = [], [layer]
    while todo:
        obj = todo.pop(0)
        if all(obj is not o for o in out):
            out.append(obj)
            todo += [v for v in vars(obj).values() if isinstance(v, Layer)]
    return out


def _guard(layer: Any, queue: list, n: int, what: str, any_order: bool = False) -> Any:
    original = type(layer).add_weight
    sig = inspect.signature(original)

    def add_weight(*args: Any, **kwargs: Any) -> Any:
        bound = sig.bind(layer, *args, **kwargs)
        name, shape = bound.arguments.get("name"), bound.arguments.get("shape")
        shape = tuple(int(d) for d in shape)
        if not queue:
            raise ValueError(f"{what}: layer '{layer.name}' creates weight '{name}' of shape "
                             f"{shape}, but the file stores only {n} weights for it")
        want = queue.pop(queue.index(shape) if any_order and shape in queue else 0)
        if want != shape:
            raise ValueError(f"{what}: layer '{layer.name}' weight '{name}' has shape {shape} "
                             f"by its config, but the file stores shape {want}")
        return original(layer, *args, **kwargs)

    return add_weight


def read_checked(variables: list, datasets: list, what: str, owner: str) -> list[np.ndarray]:
    """The arrays of ``datasets`` for ``variables`` (same count, same shapes: checked before
    reading each)."""
    if len(variables) != len(datasets):
        raise ValueError(f"{what}: {owner} has {len(variables)} weights, the file stores "
                         f"{len(datasets)}")
    out = []
    for v, ds in zip(variables, datasets):
        if tuple(v.shape) != tuple(ds.shape):
            raise ValueError(f"{what}: {owner} weight '{v.name}' has shape {tuple(v.shape)}, "
                             f"the file stores {tuple(ds.shape)} ({ds.name})")
        try:
            out.append(np.asarray(ds[()]).astype(v.dtype.np))
        except (OSError, ValueError, TypeError) as e:
            raise ValueError(f"{what}: cannot read {ds.name}: {e}") from None
    return out


def assign_all(variables: list, arrays: list) -> None:
    """Assign after everything was checked: a failure before this point changed nothing."""
    from ...framework.function import init_scope

    with init_scope():
        for v, a in zip(variables, arrays):
            v.assign(a)
