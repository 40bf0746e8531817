"""``tf.keras.saving``: model and weight files in Keras 3's formats, loaded without pickle.

* ``.keras``: Keras 3's zip of ``config.json`` (Keras' class names and settings, compile
  config), ``metadata.json`` and ``model.weights.h5`` (HDF5, Keras' weight paths, optimizer
  state), plus minitf's ``minitf_rng.json`` (the random state, so resumed training continues
  exactly; Keras ignores it).
* ``.h5``: Keras' legacy HDF5 layout (a ``model_config`` attribute, ``model_weights`` groups).
* ``.weights.h5``: Keras 3's weights file (layers and optimizer), from ``save_weights``.

Files saved here load in Keras 3 and Keras' files load here, with the same predictions, for the
layers in ``registry``. Loading runs no code from the file: classes come from a fixed table or
``custom_objects``; sizes, shapes and nesting are checked before anything is allocated
(``limits``); a bad file is a ``ValueError`` naming the file and what is wrong.
h5py is imported only when a file is read or written.
"""

from __future__ import annotations

import contextlib
import io
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ..object_registration import (  # noqa: F401  (tf.keras.saving's names)
    custom_object_scope,
    get_custom_objects,
    register_keras_serializable,
)
from ..object_registration import resolve as _custom
from . import functional_config, keras_config, limits, registry, weights
from .limits import read_npz_dict  # noqa: F401  (checkpoints use it)
from .registry import LayerSpec, register, register_model  # noqa: F401

KERAS_VERSION = "3.10.0"  # the format version written; Keras 3.x reads it
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_KERAS_MEMBERS = {"config.json", "metadata.json", "model.weights.h5", "minitf_rng.json"}


def serialize_keras_object(obj: Any) -> dict:
    """A layer's ``{"module", "class_name", "config", "registered_name"}`` as Keras writes it."""
    return keras_config.layer_config(obj)


def deserialize_keras_object(config: dict, custom_objects: dict | None = None) -> Any:
    """A layer from ``serialize_keras_object``'s output; classes come from minitf's table or
    ``custom_objects`` (and the registered ones), never from the config's module path."""
    return keras_config.layer_from_config(config, _custom(custom_objects), "config")


def _h5py() -> Any:
    try:
        import h5py
    except ImportError:  # pragma: no cover - h5py is a dependency of the course extra
        raise ImportError("Reading and writing .keras/.h5 files needs h5py: "
                          "pip install h5py (or minitf[course])") from None
    return h5py


def _rng_state() -> str:
    from ...ops.random_ops import get_state

    return json.dumps(get_state(), default=int)


def _set_rng(state: Any, what: str) -> None:
    from ...ops.random_ops import set_state

    try:
        set_state(state)
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(f"{what}: invalid random-generator state ({e})") from None


def check_rng_state(state: Any, what: str) -> None:
    """Raise ``ValueError`` unless ``state`` is what ``random_ops.get_state`` returns (nothing
    is changed: restores check everything before assigning)."""
    try:
        for s in [state["bit_generator"], *[r for _, _, r in state.get("op_generators", [])]]:
            np.random.default_rng().bit_generator.state = s
        int(state["seed"]) if state["seed"] is not None else None
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise ValueError(f"{what}: invalid random-generator state ({e!r})") from None


def _class_names(model: Any) -> list[str]:
    return [registry.keras_class_name(layer) for layer in model.layers]


def _atomic(path: Path, write: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    try:
        write(tmp)
        tmp.replace(path)  # never leave a half-written file under the real name
    finally:
        tmp.unlink(missing_ok=True)


# -- saving ------------------------------------------------------------------------------------------


def save_model(model: Any, filepath: str | Path, overwrite: bool = True,
               include_optimizer: bool = True) -> None:
    """Write ``model`` to a ``.keras`` (Keras 3) or ``.h5`` (legacy HDF5) file."""
    path = Path(filepath)
    if path.suffix not in (".keras", ".h5"):
        raise ValueError(f"model.save needs a '.keras' (or '.h5') file name, got {path.name!r}; "
                         "for a directory use tf.saved_model.save")
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists and overwrite=False")
    optimizer = model.optimizer if include_optimizer else None
    if path.suffix == ".h5":
        _atomic(path, lambda tmp: _save_h5(model, tmp, optimizer))
        return
    cfg = functional_config.model_config(model)
    compiled = keras_config.compile_config(model) if optimizer is not None else None
    if compiled is not None:
        cfg["compile_config"] = compiled
    buf = io.BytesIO()
    with _h5py().File(buf, "w") as f:
        weights.write_keras_weights(f, _class_names(model), model.layers, optimizer, model.name)
    meta = {"keras_version": KERAS_VERSION, "date_saved": time.strftime("%Y-%m-%d@%H:%M:%S"),
            "saved_by": "minitf"}

    def write(tmp: Path) -> None:
        import zipfile

        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("metadata.json", json.dumps(meta))
            z.writestr("config.json", json.dumps(cfg))
            z.writestr("model.weights.h5", buf.getvalue())
            z.writestr("minitf_rng.json", _rng_state())

    _atomic(path, write)


def _leaf(v: Any) -> str:
    return v.name.split(":")[0].split("/")[-1]


def _save_h5(model: Any, tmp: Path, optimizer: Any) -> None:
    cfg = functional_config.model_config(model, legacy=True)
    with _h5py().File(tmp, "w") as f:
        f.attrs["keras_version"] = KERAS_VERSION
        f.attrs["backend"] = "minitf"
        f.attrs["model_config"] = json.dumps(cfg)
        if optimizer is not None:
            f.attrs["training_config"] = json.dumps(keras_config.compile_config(model, True))
        _write_legacy_weights(f.create_group("model_weights"), model)
        if optimizer is not None and optimizer.variables:
            g = f.create_group("optimizer_weights")
            names = [f"{optimizer.name}/{i}_{_leaf(v)}" for i, v in enumerate(optimizer.variables)]
            g.attrs["weight_names"] = [n.encode() for n in names]
            for n, v in zip(names, optimizer.variables):
                g.create_dataset(n, data=np.asarray(v.numpy()))
        f.attrs["minitf_rng_state"] = _rng_state()


def _write_legacy_weights(g: Any, model: Any) -> None:
    g.attrs["keras_version"] = KERAS_VERSION
    g.attrs["backend"] = "minitf"
    g.attrs["layer_names"] = [layer.name.encode() for layer in model.layers]
    for layer in model.layers:
        spec = registry.by_minitf_class(type(layer))
        variables = legacy_weights(layer)
        if registry.model_children(layer) is not None:  # a nested model: 'sub/dense/kernel'
            leaves = [v.name.split(":")[0] for v in variables]
        elif spec and spec.nested:  # a wrapper: 'forward_layer/cell/kernel', ... stay distinct
            leaves = [f"{sub}/{_leaf(v)}" for sub, owner in weights.weight_groups(layer)
                      for v in owner.weights]
        elif spec and spec.h5_names:
            leaves = list(spec.h5_names)
        else:
            leaves = [_leaf(v) for v in layer.weights]
        names = [f"{model.name}/{layer.name}/{leaf}" for leaf in leaves]
        lg = g.create_group(layer.name)
        lg.attrs["weight_names"] = [n.encode() for n in names]
        for n, v in zip(names, variables):
            lg.create_dataset(n, data=np.asarray(v.numpy()))
    g.create_group("top_level_model_weights").attrs["weight_names"] = np.array([], dtype="S1")


def save_weights(model: Any, filepath: str | Path, overwrite: bool = True) -> None:
    """Keras 3's ``.weights.h5`` (layers and optimizer); a plain ``.h5`` name gets the legacy
    layout."""
    path = Path(filepath)
    if not path.name.endswith(".h5"):
        raise ValueError(f"save_weights needs a file name ending in '.weights.h5', got "
                         f"{path.name!r}")
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists and overwrite=False")
    if not model.weights:
        raise ValueError("Build the model (call it on data or model.build) before save_weights")

    def write(tmp: Path) -> None:
        with _h5py().File(tmp, "w") as f:
            if path.name.endswith(".weights.h5"):
                weights.write_keras_weights(f, _class_names(model), model.layers,
                                            model.optimizer if getattr(model, "optimizer", None)
                                            and model.optimizer.variables else None, model.name)
            else:
                _write_legacy_weights(f, model)

    _atomic(path, write)


# -- loading -----------------------------------------------------------------------------------------


def _h5_file(data_or_path: Any, what: str) -> Any:
    try:
        return _h5py().File(data_or_path, "r")
    except (OSError, ValueError) as e:
        raise ValueError(f"{what} is not a readable HDF5 file ({e})") from None


@contextlib.contextmanager
def _h5_errors(what: str) -> Iterator[None]:
    """A damaged HDF5 file fails inside h5py (OSError, KeyError, RuntimeError, ...): say so
    as a ValueError naming the file."""
    try:
        yield
    except ValueError:
        raise
    except (OSError, KeyError, RuntimeError, TypeError, AttributeError, IndexError,
            UnicodeDecodeError) as e:
        raise ValueError(f"{what} is corrupt or not a Keras file ({type(e).__name__}: {e}); "
                         "refusing to load it") from None


def load_model(filepath: str | Path, custom_objects: dict | None = None,
               compile: bool = True, safe_mode: bool = True) -> Any:  # noqa: A002 - Keras' name
    """A model from a ``.keras`` or ``.h5`` file written by minitf or Keras 3.

    ``custom_objects``: ``{class name: class}`` for layers, losses, optimizers, initializers
    the file names that are not built in; nothing else is ever looked up. ``safe_mode`` is
    accepted for Keras' signature; minitf never deserializes code (Lambda layers are refused).
    """
    path = Path(filepath)
    with open(path, "rb") as fh:  # FileNotFoundError passes through, as in Keras
        head = fh.read(8)
    custom = _custom(custom_objects)
    if head == _HDF5_MAGIC:
        return _load_h5(path, custom, compile)
    if head[:2] != b"PK":
        raise ValueError(f"{path} is not a minitf model file: neither a .keras zip nor HDF5")
    z = limits.open_zip(path, "minitf model file (.keras zip)")
    with z:
        names = set(z.namelist())
        if "weights.npz" in names:
            raise ValueError(f"{path} was written by an older minitf (weights.npz), before "
                             "minitf wrote Keras 3's format: open it with that version and "
                             "save it again with this one")
        unknown = sorted(n for n in names if n not in _KERAS_MEMBERS
                         and not n.startswith("assets/"))
        if unknown:
            raise ValueError(f"{path}: unexpected zip member {unknown[0]!r}; refusing to load it")
        if "config.json" not in names:
            raise ValueError(f"{path} has no config.json: not a Keras model file")
        cfg = limits.loads_json(limits.read_member(z, "config.json", path, limits.MAX_JSON_BYTES),
                                f"{path}: config.json")
        if "model.weights.h5" not in names:
            raise ValueError(f"{path} has no model.weights.h5: not a Keras model file")
        data = limits.read_member(z, "model.weights.h5", path)
        rng = limits.loads_json(limits.read_member(z, "minitf_rng.json", path,
                                                   limits.MAX_JSON_BYTES),
                                f"{path}: minitf_rng.json") if "minitf_rng.json" in names else None
    what = f"{path}: model.weights.h5"
    with _h5_errors(what), _h5_file(io.BytesIO(data), what) as f:
        return _finish(cfg, custom, compile, what, _KerasLayout(f, what),
                       lambda: weights.optimizer_datasets(f, what), rng, str(path))


class _KerasLayout:
    """Weights in Keras 3's layout (``layers/dense/vars/0``), in the open h5py file ``f``."""

    legacy = False

    def __init__(self, f: Any, what: str) -> None:
        self.f, self.what = f, what

    def stored_of(self, classes: list, layers: list) -> list:
        return weights.read_keras_layout(self.f, classes, layers, self.what)

    def leaf(self, path: str, layer: Any) -> list:
        """The datasets of one layer at ``path`` (``layers/functional/layers/dense``)."""
        return weights.read_keras_layout(self.f, [""], [layer], self.what, [path])[0]


class _LegacyLayout:
    """Weights in Keras' legacy ``.h5`` layout: ``model_weights/<layer name>`` with its
    ``weight_names`` (a nested model's weights all sit in its top-level group)."""

    legacy = True

    def __init__(self, group: Any, cfg: Any, custom: dict, what: str) -> None:
        self.group, self.cfg, self.custom, self.what = group, cfg, custom, what

    def stored_of(self, classes: list, layers: list) -> list:
        entries = keras_config.model_layers(self.cfg, self.custom, self.what)[2]
        return [self.top(e.get("config", {}).get("name")) for e in entries]

    def top(self, name: Any) -> list:
        return _legacy_datasets(self.group, name, self.what)


def _finish(cfg: Any, custom: dict, compile: bool, what: str, layout: Any,  # noqa: A002
            optimizer_of: Any, rng: Any, path: str, compile_cfg: Any = None) -> Any:
    """Build, check and fill the model a config describes; nothing is assigned until every
    array was read and checked."""
    try:
        functional = isinstance(cfg, dict) and cfg.get("class_name") in ("Functional", "Model") \
            or functional_config.has_nested_models(cfg)  # a Sequential holding a model
        model, pairs = (_build_functional if functional else _build_sequential)(
            cfg, custom, what, layout, path)
        cc = compile_cfg if compile_cfg is not None else cfg.get("compile_config")
        if compile and isinstance(cc, dict) and cc.get("optimizer") is not None:
            pairs.append(_compile(model, cc, custom, what, optimizer_of()))
        if rng is not None:
            check_rng_state(rng, path)
    except (TypeError, KeyError, AttributeError, IndexError, OverflowError,
            ZeroDivisionError, RecursionError) as e:
        raise ValueError(f"{path} holds an invalid model description "
                         f"({type(e).__name__}: {e}); refusing to load it") from None
    except ValueError as e:
        if path in str(e):
            raise
        raise ValueError(f"{path}: {e}; refusing to load it") from None
    for variables, arrays in pairs:
        weights.assign_all(variables, arrays)
    if rng is not None:
        _set_rng(rng, path)
    return model


def _build_functional(cfg: Any, custom: dict, what: str, layout: Any, path: str) -> tuple:
    """A functional model (or a Sequential holding models), each layer's weight shapes
    guarded by the file's as it is built; ``(model, [(variables, arrays)])``."""
    guards, leaves, tops = weights.Guards(what), [], {}

    def hook(layer: Any, keras_path: str, top: str) -> None:
        if layout.legacy:  # one list per top-level layer, shared by a nested model's layers
            if top not in tops:
                tops[top] = [tuple(ds.shape) for ds in layout.top(top)]
            guards.add(layer, tops[top], any_order="/layers/" in keras_path)
        else:
            stored = layout.leaf(keras_path, layer)
            guards.add(layer, [tuple(ds.shape) for ds in stored])
            leaves.append((layer, stored))

    try:
        model = functional_config.model_from_config(cfg, custom, path, hook)
    finally:
        guards.remove()
    if layout.legacy:
        pairs = []
        for layer in model.layers:
            variables = legacy_weights(layer)
            stored = layout.top(layer.name)
            if variables or stored:
                pairs.append((variables, weights.read_checked(variables, stored, what,
                                                              f"layer '{layer.name}'")))
        return model, pairs
    return model, [(layer.weights, weights.read_checked(layer.weights, stored, what,
                                                        f"layer '{layer.name}'"))
                   for layer, stored in leaves]


def _build_sequential(cfg: Any, custom: dict, what: str, layout: Any, path: str) -> tuple:
    """A Sequential model (or a Keras functional chain written as one: model_layers)."""
    name, entries, path_entries, shape, dtype = keras_config.model_layers(cfg, custom, path)
    layers = [keras_config.layer_from_config(e, custom, path) for e in entries]
    built = iter(layers)
    path_layers = [None if e.get("class_name") == "InputLayer" else next(built)
                   for e in path_entries]
    stored_all = layout.stored_of([e.get("class_name") for e in path_entries], path_layers)
    stored = [s for e, s in zip(path_entries, stored_all) if e.get("class_name") != "InputLayer"]
    if not isinstance(shape, list) or not all(d is None or isinstance(d, int) and 0 < d < 2**31
                                              for d in shape):
        raise ValueError(f"{path}: the model's input shape {shape!r} is invalid")
    with weights.shapes_checked(layers, stored, what):
        model = registry.model_class("Sequential")(layers, name=name)
        if not model.built or model.input_shape_ is None:
            _build(model, shape, dtype)
    pairs = [(layer.weights, weights.read_checked(layer.weights, s, what,
                                                  f"layer '{layer.name}'"))
             for layer, s in zip(layers, stored)]
    return model, pairs


def legacy_weights(layer: Any) -> list:
    """A layer's weights in the legacy ``.h5`` order: a nested model's trainable weights,
    then its others (Keras' order); any other layer's in its own order."""
    if registry.model_children(layer) is None:
        return layer.weights
    return layer.trainable_weights + layer.non_trainable_weights


def _build(model: Any, shape: list, dtype: str) -> None:
    """``model.build``, with the input's dtype (an Embedding's integer ids stay integers)."""
    from ...framework.graph import Graph
    from ...ops.array_ops import placeholder

    with Graph().as_default():
        model(placeholder(dtype, tuple(shape)))
    model.built = True


def _compile(model: Any, cc: dict, custom: dict, what: str, datasets: list) -> tuple:
    opt = keras_config.optimizer_from_config(cc["optimizer"], custom, what)
    loss = _per_output(cc.get("loss"),
                       lambda c: keras_config.loss_from_config(c, custom, what))
    weights_ = _per_output(cc.get("loss_weights"), lambda w: _weight(w, what))
    metrics = _per_output(cc.get("metrics"), lambda ms: [m for m in ms or [] if isinstance(
        m, str)] if isinstance(ms, list) else ms if isinstance(ms, str) else None)
    model.compile(optimizer=opt, loss=loss, metrics=metrics, loss_weights=weights_)
    if len(datasets) > len(opt.variables):  # saved after training began: slots exist
        opt.build(model.trainable_variables)
    if not datasets:
        return [], []
    return opt.variables, weights.read_checked(list(opt.variables), datasets, what, "the optimizer")


def _per_output(value: Any, read: Any) -> Any:
    """A compile setting that may be per output (a dict by output name, or a list)."""
    if isinstance(value, dict) and "class_name" not in value:
        return {str(k): read(v) for k, v in value.items()}
    if isinstance(value, list) and value and all(isinstance(v, list | dict | type(None))
                                                 for v in value):
        return [read(v) for v in value]
    return read(value)


def _weight(value: Any, what: str) -> Any:
    if value is None or isinstance(value, int | float) and not isinstance(value, bool):
        return value
    raise ValueError(f"{what}: invalid loss weight {value!r}")


def _load_h5(path: Path, custom: dict, compile: bool) -> Any:  # noqa: A002
    what = str(path)
    with _h5_errors(what), _h5_file(path, what) as f:
        if "model_config" not in f.attrs:
            raise ValueError(f"{path} has no model_config attribute: a weights file, not a "
                             "model (use model.load_weights)")
        cfg = limits.loads_json(_text(f.attrs["model_config"]), f"{path}: model_config")
        training = limits.loads_json(_text(f.attrs["training_config"]),
                                     f"{path}: training_config") \
            if "training_config" in f.attrs else None
        rng = limits.loads_json(_text(f.attrs["minitf_rng_state"]), f"{path}: rng state") \
            if "minitf_rng_state" in f.attrs else None
        group = f.get("model_weights")
        if group is None:
            raise ValueError(f"{path} has no model_weights group")

        def optimizer_of() -> list:
            g = f.get("optimizer_weights")
            if g is None:
                return []
            return [_checked(g, n, what) for n in _names(g.attrs.get("weight_names", []))]

        cc = None
        if isinstance(training, dict) and training.get("optimizer_config") is not None:
            cc = {**training, "optimizer": training["optimizer_config"]}
        return _finish(cfg, custom, compile, what, _LegacyLayout(group, cfg, custom, what),
                       optimizer_of, rng, what, compile_cfg=cc or {})


def _text(value: Any) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode("utf-8")


def _names(values: Any) -> list[str]:
    return [v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in values]


def _checked(g: Any, name: str, what: str) -> Any:
    ds = g.get(name)
    if ds is None or not hasattr(ds, "shape"):
        raise ValueError(f"{what}: weight {name!r} listed in {g.name} is missing")
    limits.check_dataset(ds, what)
    return ds


def _legacy_datasets(group: Any, layer_name: Any, what: str) -> list:
    if not isinstance(layer_name, str) or layer_name not in group:
        return []
    g = group[layer_name]
    return [_checked(g, n, what) for n in _names(g.attrs.get("weight_names", []))]


def load_weights(model: Any, filepath: str | Path, skip_mismatch: bool = False) -> None:
    """Load a ``.weights.h5`` (Keras 3) or legacy ``.h5`` weights file into ``model``: every
    array is read and checked before any weight changes, so a mismatch changes nothing
    (``skip_mismatch=True``: layers that do not match keep their weights, as in Keras)."""
    path = Path(filepath)
    if not model.weights:
        raise ValueError("Build the model (call it on data or model.build) before load_weights")
    with open(path, "rb") as fh:
        head = fh.read(8)
    if head != _HDF5_MAGIC:
        raise ValueError(f"{path} is not an HDF5 weights file; refusing to load it")
    what = str(path)
    with _h5_errors(what), _h5_file(path, what) as f:
        group = f["model_weights"] if "model_weights" in f else f
        if "layer_names" in group.attrs:  # the legacy layout: layers with weights, in order
            with_weights = [layer for layer in model.layers if layer.weights]
            names = [n for n in _names(group.attrs["layer_names"])
                     if _legacy_datasets(group, n, what)]
            if len(names) != len(with_weights):
                raise ValueError(f"{what}: the file has weights for {len(names)} layers, the "
                                 f"model has {len(with_weights)} layers with weights")
            pairs = [(legacy_weights(layer), weights.read_checked(
                legacy_weights(layer), _legacy_datasets(group, n, what), what,
                f"layer '{layer.name}'"))
                for layer, n in zip(with_weights, names)]
        else:
            stored = weights.read_keras_layout(f, _class_names(model), model.layers, what)
            pairs = []
            for layer, s in zip(model.layers, stored):
                try:
                    pairs.append((layer.weights, weights.read_checked(
                        layer.weights, s, what, f"layer '{layer.name}'")))
                except ValueError:
                    if not skip_mismatch:  # Keras' option: leave mismatched layers as they are
                        raise
            opt = getattr(model, "optimizer", None)
            datasets = weights.optimizer_datasets(f, what)
            if opt is not None and datasets and len(datasets) == len(opt.variables):
                pairs.append((opt.variables, weights.read_checked(
                    list(opt.variables), datasets, what, "the optimizer")))
    for variables, arrays in pairs:
        weights.assign_all(variables, arrays)
