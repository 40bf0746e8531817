"""Functional models in Keras 3's config schema, both ways.

A functional config lists its layers (Keras' order), each with ``name`` and ``inbound_nodes``:
one entry per call, ``{"args": [...], "kwargs": {}}`` with every input tensor written as
``{"class_name": "__keras_tensor__", "config": {"shape", "dtype", "keras_history": [layer name,
node index, tensor index]}}`` (node indices count only this model's calls of that layer);
``input_layers``/``output_layers`` name the model's inputs and outputs the same way (one
triple, a list or a dict of them). Keras 2's ``[["dense", 0, 0, {}]]`` nodes are read too.

Loading builds nothing from the file but layers of known classes (``keras_config``), refuses
unknown or duplicate names, references to layers or calls that do not exist, cycles, and models
nested more than ``MAX_DEPTH`` deep, each with a ``ValueError`` naming what is wrong.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from ...framework import nest
from . import keras_config, registry, weights

MAX_DEPTH = 4  # models inside models
MAX_LAYERS = 10_000


# -- minitf -> Keras ------------------------------------------------------------------------------


def model_config(model: Any, legacy: bool = False) -> dict:
    """Keras 3's config of a Sequential or functional model (``legacy``: the ``.h5`` flavour,
    no modules)."""
    if type(model).__name__ != "Functional":
        return keras_config.sequential_config(model, legacy, entry_config)
    return _functional_config(model, legacy)


def entry_config(layer: Any, legacy: bool = False) -> dict:
    """One layer's entry, or a whole model's config when the layer is a model."""
    if registry.model_children(layer) is not None:
        return model_config(layer, legacy)
    return keras_config.layer_config(layer, legacy)


def _functional_config(model: Any, legacy: bool) -> dict:
    from ..keras_tensor import KerasTensor
    from ..layers.core import InputLayer

    own = {id(n) for n in model._nodes}

    def history(t: KerasTensor) -> list:
        layer, index, i = t._keras_history
        mine = [n for n in layer._inbound_nodes if id(n) in own]
        return [layer.name, mine.index(layer._inbound_nodes[index]), i]

    def arg(value: Any) -> Any:
        if isinstance(value, KerasTensor):
            return {"class_name": "__keras_tensor__", "config": {
                "shape": list(value.shape), "dtype": value.dtype,
                "keras_history": history(value)}}
        if not keras_config._is_plain(value):
            raise ValueError(f"Model '{model.name}': a layer call has the argument {value!r}, "
                             "which cannot be saved")
        return value

    def io_history(t: KerasTensor) -> list:
        # Keras counts a nested functional model's calls from 1 in input_layers and
        # output_layers (and subtracts 1 when reading them), though from 0 in inbound_nodes
        ref = history(t)
        return [ref[0], ref[1] + (type(t._keras_history[0]).__name__ == "Functional"), ref[2]]

    entries = []
    for layer in model.layers:
        if isinstance(layer, InputLayer):
            entry = _input_entry(layer, legacy)
        else:
            entry = entry_config(layer, legacy)
        op = getattr(layer, "_keras_op", None)
        if op is not None and legacy:  # Keras cannot read its ops back from .h5: the layer
            op = None
            if any(not isinstance(t, KerasTensor) for n in model._model_nodes(layer)
                   for t in n.args):
                raise ValueError(f"Layer '{layer.name}' ({entry['class_name']} with a number) "
                                 "cannot be saved in the legacy .h5 format; use '.keras'")
        if op is not None:  # x + y: Keras' op, its operands as positional arguments
            entry = {"class_name": entry["class_name"], "config": {"name": layer.name},
                     "module": op, "registered_name": None}
        entry["name"] = layer.name
        entry["inbound_nodes"] = [
            {"args": nest.map_structure(arg, list(node.args)) if op is not None
             else [nest.map_structure(arg, node.args)],
             "kwargs": {k: arg(v) for k, v in node.kwargs.items()}}
            for node in model._model_nodes(layer) if node.inputs]
        entries.append(entry)
    cfg = {"class_name": "Functional", "config": {
        "name": model.name, "trainable": bool(model.trainable), "layers": entries,
        "input_layers": nest.map_structure(io_history, model._inputs_struct),
        "output_layers": nest.map_structure(io_history, model._outputs_struct)}}
    if not legacy:
        cfg.update(module="keras.src.models.functional", registered_name="Functional",
                   build_config={"input_shape": None})
    return cfg


def _input_entry(layer: Any, legacy: bool) -> dict:
    entry = {"class_name": "InputLayer", "config": {
        "batch_shape": list(layer.batch_shape), "dtype": str(layer.dtype), "sparse": False,
        "ragged": False, "name": layer.name, "optional": False}}
    if not legacy:
        entry.update(module="keras.layers", registered_name=None)
    return entry


# -- Keras -> minitf ------------------------------------------------------------------------------


def from_config(cfg: Any, custom_objects: dict, what: str, hook: Any = None, depth: int = 0,
                prefix: str = "", top: str | None = None) -> Any:
    """The functional model a Keras config describes. ``hook(layer, path, top)`` is called
    for each layer with weights right after it is made (before it is built), with its path in
    a ``.keras`` weights file and the name of the top-level layer holding it (so the caller
    can guard its weight shapes)."""
    from ..layers.core import InputLayer

    body = cfg.get("config") if isinstance(cfg, dict) else None
    entries = body.get("layers") if isinstance(body, dict) else None
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ValueError(f"{what}: the functional model config has no list of layers")
    if len(entries) > MAX_LAYERS:
        raise ValueError(f"{what}: the model lists {len(entries)} layers, more than "
                         f"{MAX_LAYERS}")
    model_name = body.get("name")
    where = f"{what}: model {model_name!r}"
    names = [_entry_name(e, where) for e in entries]
    dup = sorted(n for n, c in Counter(names).items() if c > 1)
    if dup:
        raise ValueError(f"{where}: layer name {dup[0]!r} is used more than once")
    paths = weights.keras_paths([e.get("class_name") if isinstance(e.get("class_name"), str)
                                 else "" for e in entries])
    layers: dict[str, Any] = {}
    for entry, name, path in zip(entries, names, paths):
        layers[name] = _make(entry, name, prefix + path, custom_objects, what, hook, depth,
                             top or name, where)
    tensors = _connect(entries, names, layers, where)
    inputs = _tensors_of(body.get("input_layers"), tensors, layers, "input_layers", where)
    outputs = _tensors_of(body.get("output_layers"), tensors, layers, "output_layers", where)
    for t in nest.flatten(inputs):
        if not isinstance(t._keras_history[0], InputLayer):
            raise ValueError(f"{where}: input_layers names {t._keras_history[0].name!r}, "
                             "which is not an InputLayer")
    trainable = body.get("trainable", True)
    try:
        return registry.model_class("Functional")(inputs, outputs, name=model_name,
                                                  trainable=bool(trainable))
    except ValueError as e:
        raise ValueError(f"{where}: {e}") from None


def model_from_config(cfg: Any, custom_objects: dict, what: str, hook: Any = None) -> Any:
    """A functional or Sequential model from its Keras config (``from_config``'s ``hook``)."""
    if isinstance(cfg, dict) and cfg.get("class_name") == "Sequential":
        return _sequential(cfg, custom_objects, what, hook, 0, "", None)
    return from_config(cfg, custom_objects, what, hook)


def has_nested_models(cfg: Any) -> bool:
    """Whether a Sequential config holds a model as a layer (then ``model_from_config``
    loads it)."""
    body = cfg.get("config") if isinstance(cfg, dict) else None
    items = body.get("layers") if isinstance(body, dict) else None
    return isinstance(items, list) and any(
        isinstance(e, dict) and e.get("class_name") in _MODELS for e in items)


_MODELS = ("Functional", "Model", "Sequential")
_OPS = ("Add", "Subtract", "Multiply")


def _make(entry: dict, name: str, path: str, custom_objects: dict, what: str, hook: Any,
          depth: int, owner: str, where: str) -> Any:
    """The layer (or nested model) of one entry, at ``path`` in a ``.keras`` weights file."""
    kind, module = entry.get("class_name"), entry.get("module")
    nodes = entry.get("inbound_nodes")
    positional = isinstance(nodes, list) and nodes and isinstance(nodes[0], dict) and \
        isinstance(nodes[0].get("args"), list) and len(nodes[0]["args"]) > 1
    if module is None and kind in _OPS and positional:
        module = "keras.src.ops.numpy"  # Keras' .h5 writes its ops without their module
    if isinstance(module, str) and module.startswith("keras.src.ops"):
        if kind not in _OPS or set(entry.get("config") or {}) - {"name"}:
            raise ValueError(f"{where}: layer {name!r} is Keras' op {module}.{kind}, which "
                             f"minitf does not load (it loads {', '.join(_OPS)}: x + y, x - y, "
                             "x * y)")
        from ..keras_tensor import op_layer

        layer = op_layer(kind, name)
    elif kind == "InputLayer":
        layer = _input_layer(entry, name, where)
    elif kind in _MODELS:
        if depth >= MAX_DEPTH:
            raise ValueError(f"{where}: models nested more than {MAX_DEPTH} deep")
        make = from_config if kind != "Sequential" else _sequential
        layer = make(entry, custom_objects, what, hook, depth + 1, path + "/", owner)
    else:
        layer = keras_config.layer_from_config(entry, custom_objects, what)
        if hook is not None:
            hook(layer, path, owner)
    if layer.name != name:
        raise ValueError(f"{where}: layer entry {name!r} configures a layer named "
                         f"{layer.name!r}")
    return layer


def _entry_name(entry: dict, where: str) -> str:
    cfg = entry.get("config") if isinstance(entry.get("config"), dict) else {}
    name = entry.get("name", cfg.get("name"))
    if not isinstance(name, str) or not name or len(name) > 256:
        raise ValueError(f"{where}: a layer entry has an invalid name {name!r}")
    return name


def _input_layer(entry: dict, name: str, where: str) -> Any:
    from ..layers.core import InputLayer

    cfg = entry.get("config") if isinstance(entry.get("config"), dict) else {}
    shape = cfg.get("batch_shape") or cfg.get("batch_input_shape")
    if not isinstance(shape, list) or not shape or not all(
            d is None or isinstance(d, int) and 0 < d < 2**31 for d in shape):
        raise ValueError(f"{where}: InputLayer {name!r} has an invalid batch_shape {shape!r}")
    dtype = cfg.get("dtype")
    if isinstance(dtype, dict):
        dtype = (dtype.get("config") or {}).get("name")
    if dtype not in (None, "float32", "int32", "int64", "uint8"):
        raise ValueError(f"{where}: InputLayer {name!r} has dtype {dtype!r}, which minitf "
                         "does not support")
    if cfg.get("sparse") or cfg.get("ragged") or cfg.get("optional"):
        raise ValueError(f"{where}: InputLayer {name!r} is sparse, ragged or optional, which "
                         "minitf does not support")
    return InputLayer(batch_shape=shape, dtype=dtype or "float32", name=name)


def _sequential(entry: dict, custom_objects: dict, what: str, hook: Any, depth: int,
                prefix: str, top: str | None) -> Any:
    """A Sequential model (nested: its weights sit at ``<prefix>layers/...``, and ``top`` is
    the top-level layer holding it)."""

    body = entry.get("config") if isinstance(entry.get("config"), dict) else {}
    items = body.get("layers")
    where = f"{what}: model {body.get('name')!r}"
    if not isinstance(items, list) or not all(isinstance(e, dict) for e in items):
        raise ValueError(f"{where}: the Sequential config has no list of layers")
    layers = [e for e in items if e.get("class_name") != "InputLayer"]
    if len(layers) > MAX_LAYERS:
        raise ValueError(f"{where}: the model lists {len(layers)} layers, more than "
                         f"{MAX_LAYERS}")
    made = []
    for e, path in zip(layers, weights.keras_paths([str(e.get("class_name")) for e in layers])):
        name = _entry_name(e, where)
        made.append(_make(e, name, prefix + path, custom_objects, what, hook, depth,
                          top or name, where))
    first = next((e for e in items if e.get("class_name") == "InputLayer"), None)
    shape = (first or {}).get("config", {}).get("batch_shape") or body.get("build_input_shape")
    head = [] if shape is None else [_input_layer(
        {"config": {"batch_shape": shape, "dtype": (first or {}).get("config", {}).get("dtype")}},
        f"{body.get('name')}_input", where)]
    return registry.model_class("Sequential")(head + made, name=body.get("name"))


def _connect(entries: list, names: list, layers: dict, where: str) -> dict:
    """Call the layers on each other as their ``inbound_nodes`` say; ``{(layer name, node
    index, tensor index): KerasTensor}``. The calls run in file order where they can (Keras
    allows a layer listed before the layers it reads): a topological sort of the calls, in
    time linear in their number; a call that reads one never made, or a cycle, is refused."""
    import heapq

    tensors: dict[tuple, Any] = {}
    calls: list[tuple[str, int, Any]] = []  # (layer name, its call number, argument refs)
    for entry, name in zip(entries, names):
        if entry.get("class_name") == "InputLayer":
            tensors[(name, 0, 0)] = layers[name].output
            continue
        nodes = entry.get("inbound_nodes") or []
        if not isinstance(nodes, list):
            raise ValueError(f"{where}: layer {name!r} has invalid inbound_nodes")
        calls += [(name, k, _node_args(node, name, layers, where)) for k, node in
                  enumerate(nodes)]
    made_by = {(name, k): i for i, (name, k, _) in enumerate(calls)}
    readers: list[list[int]] = [[] for _ in calls]
    waits = [0] * len(calls)
    for i, (name, k, args) in enumerate(calls):
        needs = {made_by[(name, k - 1)]} if k else set()  # a layer's calls in their order
        for ref in nest.flatten(args):
            if not isinstance(ref, _History):
                continue
            if ref.key[:2] in made_by:
                needs.add(made_by[ref.key[:2]])
            elif (ref.key[0], ref.key[1], 0) not in tensors:  # else an Input, ready now
                raise ValueError(f"{where}: layer {name!r} reads {_ref(ref)}, a call of layer "
                                 f"{ref.key[0]!r} that the model does not make")
        waits[i] = len(needs)
        for j in needs:
            readers[j].append(i)
    ready = [i for i, n in enumerate(waits) if n == 0]
    heapq.heapify(ready)
    done = 0
    while ready:
        i = heapq.heappop(ready)
        name, _, args = calls[i]
        try:
            resolved = nest.map_structure(lambda h: _lookup(h, tensors), args)
        except KeyError as e:
            raise ValueError(f"{where}: layer {name!r} reads {e.args[0][0]}"
                             f"[{e.args[0][1]}][{e.args[0][2]}], which does not exist") from None
        try:
            out = layers[name](resolved)
        except (ValueError, TypeError) as e:
            raise ValueError(f"{where}: calling layer {name!r} on its inbound node failed "
                             f"({e})") from None
        for t_index, t in enumerate(nest.flatten(out)):
            tensors[(name, calls[i][1], t_index)] = t
        done += 1
        for j in readers[i]:
            waits[j] -= 1
            if waits[j] == 0:
                heapq.heappush(ready, j)
    if done < len(calls):
        name, k, args = next(c for c, n in zip(calls, waits) if n)
        refs = ", ".join(_ref(r) for r in nest.flatten(args) if isinstance(r, _History))
        raise ValueError(f"{where}: layer {name!r} reads {refs}: the calls form a cycle")
    return tensors


def _ref(ref: Any) -> str:
    return f"{ref.key[0]}[{ref.key[1]}][{ref.key[2]}]"


class _History:
    """A ``(layer name, node index, tensor index)`` reference inside a node's arguments."""

    def __init__(self, ref: Any) -> None:
        self.key = (ref[0], ref[1], ref[2])


def _history(value: Any, name: str, layers: dict, where: str) -> _History:
    if not (isinstance(value, list | tuple) and len(value) >= 3 and isinstance(value[0], str)
            and all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v < MAX_LAYERS
                    for v in value[1:3])):
        raise ValueError(f"{where}: layer {name!r} has an invalid tensor reference {value!r}")
    if value[0] not in layers:
        raise ValueError(f"{where}: layer {name!r} reads from layer {value[0]!r}, which the "
                         "model does not have")
    return _History(value)


def _node_args(node: Any, name: str, layers: dict, where: str) -> Any:
    """The structure of tensor references a node calls its layer on."""
    if isinstance(node, list):  # Keras 2: [["dense", 0, 0, {}], ...]
        refs = [_history(v, name, layers, where) for v in node]
        if not refs:
            raise ValueError(f"{where}: layer {name!r} has an empty inbound node")
        return refs[0] if len(refs) == 1 else refs
    op = getattr(layers.get(name), "_keras_op", None) is not None
    if not isinstance(node, dict) or not isinstance(node.get("args"), list) \
            or len(node["args"]) != 1 and not (op and len(node["args"]) == 2):
        raise ValueError(f"{where}: layer {name!r} has an inbound node minitf cannot call "
                         f"(one positional argument expected): {str(node)[:200]}")
    kwargs = node.get("kwargs") or {}
    if not isinstance(kwargs, dict) or any(
            v is not None and not (k == "training" and isinstance(v, bool))
            for k, v in kwargs.items()):
        raise ValueError(f"{where}: layer {name!r} is called with keyword arguments "
                         f"{sorted(map(str, kwargs))}, which minitf does not support")

    def convert(value: Any) -> Any:
        if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
            cfg = value.get("config") if isinstance(value.get("config"), dict) else {}
            return _history(cfg.get("keras_history"), name, layers, where)
        if isinstance(value, list):
            return [convert(v) for v in value]
        if op and isinstance(value, int | float) and not isinstance(value, bool):
            return value  # x * 2.0
        raise ValueError(f"{where}: layer {name!r} has an argument minitf cannot read: "
                         f"{str(value)[:200]}")

    return [convert(v) for v in node["args"]] if op else convert(node["args"][0])


def _lookup(ref: Any, tensors: dict) -> Any:
    if isinstance(ref, _History):
        return tensors[ref.key]
    return ref


def _tensors_of(spec: Any, tensors: dict, layers: dict, key: str, where: str) -> Any:
    """``input_layers``/``output_layers``: one ``[name, node, index]``, a list or a dict."""
    def one(ref: Any) -> Any:
        if not (isinstance(ref, list) and len(ref) >= 3 and isinstance(ref[0], str)
                and isinstance(ref[1], int)):
            raise ValueError(f"{where}: {key} holds an invalid entry {ref!r}")
        node = ref[1]
        if type(layers.get(ref[0])).__name__ == "Functional" and node > 0:
            node -= 1  # Keras counts a nested functional model's calls from 1 here
        t = tensors.get((ref[0], node, ref[2]))
        if t is None:
            raise ValueError(f"{where}: {key} names {ref[:3]}, which the model does not make")
        return t

    if isinstance(spec, dict) and spec:
        return {k: one(v) for k, v in spec.items()}
    if isinstance(spec, list) and spec and isinstance(spec[0], str):
        return one(spec)
    if isinstance(spec, list) and spec:
        return [one(v) for v in spec]
    raise ValueError(f"{where}: {key} is missing or empty")
