"""Model configs in Keras 3's JSON schema, both ways: minitf layers -> Keras' class names and
settings, and Keras' configs -> minitf layers (built with shapes checked against the file's
weights before anything is allocated)."""

from __future__ import annotations

import inspect
from typing import Any

from . import registry

# optimizer settings Keras writes that minitf does not take, at the values that change nothing
# (Keras 2's files add decay=0.0, jit_compile and is_legacy_optimizer, none of which changes
# the numbers)
_OPTIMIZER_DEFAULTS = {"use_ema": False, "ema_momentum": 0.99, "amsgrad": False,
                       "centered": False, "decay": 0.0, "jit_compile": True,
                       "is_legacy_optimizer": False}
_INPUT_KEYS = ("batch_input_shape", "input_shape", "batch_size")  # Keras 2: shape on a layer
_MODULES = {"initializer": "keras.initializers", "regularizer": "keras.regularizers"}


def _module_of(key: str) -> str | None:
    return next((m for suffix, m in _MODULES.items() if key.endswith(suffix)), None)


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, dict):  # a NumPy scalar
        return value.item()
    return value


# -- minitf -> Keras ------------------------------------------------------------------------------


def layer_config(layer: Any, legacy: bool = False) -> dict:
    """``{"class_name", "config", ...}`` of one layer as Keras writes it."""
    spec = registry.by_minitf_class(type(layer))
    cfg = layer.get_config()
    out: dict[str, Any] = {"name": layer.name, "trainable": bool(layer.trainable),
                           "dtype": "float32"}
    if spec is None and type(layer).__module__.startswith("minitf."):
        raise ValueError(f"Layer '{layer.name}': minitf's {type(layer).__name__} has no Keras 3 "
                         "file mapping (minitf/keras/saving/registry.py), so a model file with "
                         "it could not be loaded again; use model.save_weights(...) instead")
    if spec is None:  # a custom layer: its own config, found again through custom_objects
        out.update({k: v for k, v in cfg.items() if k != "input_shape"})
    else:
        for key in spec.keys:
            if key in cfg:
                out[key] = _keras_value(key, cfg[key])
        out.update(spec.fixed)
        for key, attr in spec.nested.items():  # Keras writes these with modules, even in .h5
            out[key] = layer_config(getattr(layer, attr))
    for key, value in out.items():
        if not _is_plain(value):
            raise ValueError(f"Layer '{layer.name}' setting {key}={value!r} cannot be saved "
                             "(not JSON data); pass a serializable object or use save_weights")
    entry = {"class_name": spec.keras_class if spec else type(layer).__name__,
             "config": _jsonable(out)}
    if not legacy:
        entry["module"] = "keras.layers" if spec else type(layer).__module__
        entry["registered_name"] = None if spec else \
            getattr(type(layer), "_registered_name", type(layer).__name__)
        shape = layer.input_shape_
        if shape is not None:  # a merge layer's is a list of shapes
            entry["build_config"] = {"input_shape": [list(s.as_list()) for s in shape]
                                     if isinstance(shape, list) else list(shape.as_list())}
    return entry


def _keras_value(key: str, value: Any) -> Any:
    module = _module_of(key)
    if module and isinstance(value, dict) and "class_name" in value:
        return {"module": module, "class_name": value["class_name"],
                "config": _jsonable(value.get("config", {})), "registered_name": None}
    return _jsonable(value)


def _is_plain(value: Any) -> bool:
    if isinstance(value, str | int | float | bool | type(None)):
        return True
    if isinstance(value, list | tuple):
        return all(_is_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_plain(v) for k, v in value.items())
    return False


def sequential_config(model: Any, legacy: bool = False, entry: Any = layer_config) -> dict:
    """Keras 3's config of a Sequential model (``legacy``: the ``.h5`` flavour, no modules);
    ``entry(layer, legacy)`` writes each layer (``functional_config.entry_config`` writes a
    nested model too)."""
    if type(model).__name__ != "Sequential" or not hasattr(model, "_input_declared"):
        raise NotImplementedError(
            "minitf saves the architecture of Sequential and functional models; for a "
            "subclassed Model use "
            "model.save_weights(path) and rebuild the model in code")
    if model.input_shape_ is None:
        raise ValueError(f"Model '{model.name}' is not built: call it on data or "
                         "model.build(input_shape) before saving")
    shape = list(model.input_shape_.as_list())
    inp = {"class_name": "InputLayer", "config": {
        "batch_shape": shape, "dtype": "float32", "sparse": False, "name": "input_layer"}}
    if not legacy:
        inp.update(module="keras.layers", registered_name=None)
    layers = [inp] + [entry(layer, legacy) for layer in model.layers]
    cfg = {"class_name": "Sequential", "config": {
        "name": model.name, "trainable": bool(model.trainable), "dtype": "float32",
        "layers": layers, "build_input_shape": shape}}
    if not legacy:
        cfg.update(module="keras", registered_name=None, build_config={"input_shape": shape})
    return cfg


def compile_config(model: Any, legacy: bool = False) -> dict | None:
    """The optimizer, loss and metrics ``model.compile`` was given, in Keras' schema."""
    from .. import optimizers

    if model.optimizer is None:
        return None
    opt = optimizers.serialize(model.optimizer)
    opt_cfg = {k: _keras_value("x", v) for k, v in opt["config"].items()}
    lr = opt_cfg.get("learning_rate")
    if isinstance(lr, dict):
        opt_cfg["learning_rate"] = {"module": "keras.optimizers.schedules", **lr,
                                    "registered_name": None}
    optimizer = {"class_name": opt["class_name"], "config": opt_cfg}
    if not legacy:
        optimizer.update(module="keras.optimizers", registered_name=None)
    outputs = getattr(model, "_output_losses", None)
    if outputs is not None:  # per output, keyed by output name (Keras reads dicts back)
        loss: Any = {n: _loss_config(fn) for n, fn in zip(outputs.names, outputs.losses)}
        weights: Any = dict(zip(outputs.names, outputs.weights))
        metrics: Any = {n: [m if isinstance(m, str) else getattr(m, "name", None) for m in ms]
                        for n, ms in zip(outputs.names, outputs.metric_specs) if ms} or None
    else:
        loss, weights = _loss_config(model.compiled_loss), None
        metrics = [m if isinstance(m, str) else getattr(m, "name", None)
                   for m in model._metric_specs] or None
    out = {"loss": loss, "loss_weights": weights, "metrics": metrics,
           "weighted_metrics": None, "run_eagerly": False, "steps_per_execution": 1,
           "jit_compile": False}
    out["optimizer_config" if legacy else "optimizer"] = optimizer
    return out


def _loss_config(loss: Any) -> Any:
    """Keras' alias ('mse') when the loss has its default settings, otherwise the class and
    the settings that differ from the defaults (Keras' defaults are the same; keys minitf has
    and Keras lacks, like the crossentropies' axis=-1, are then never written)."""
    from .. import losses

    if loss is None:
        return None
    cfg = loss.get_config()
    try:
        default = type(loss)().get_config()
    except TypeError:  # a loss class with required arguments: write everything
        default = {}
    changed = {k: v for k, v in cfg.items() if k != "name" and default.get(k, object()) != v}
    name = cfg.get("name")
    if not changed and isinstance(name, str) and name in losses._FUNCTIONS:
        return name
    return {"module": "keras.losses", "class_name": type(loss).__name__,
            "config": _jsonable({"name": name, **changed}), "registered_name": None}


# -- Keras -> minitf ------------------------------------------------------------------------------


def _lookup(name: Any, custom_objects: dict, what: str, kind: str) -> Any:
    if isinstance(name, str) and name in custom_objects:
        return custom_objects[name]
    raise ValueError(f"{what} names an unknown {kind} class {name!r}; minitf runs no code from "
                     "files: pass it in custom_objects={...} if you trust it")


def _keyword_args(cls: Any, config: dict, what: str, defaults: dict,
                  params: set[str] | None = None) -> dict:
    """The part of ``config`` that ``cls(...)`` takes (``params``, or found from the
    signatures); a dropped setting must be None, False or in ``defaults`` (a setting minitf
    does not have must not change the numbers)."""
    params = set(params or ())
    for klass in [] if params else getattr(cls, "__mro__", [cls]):
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        sig = inspect.signature(init)
        params |= {p for p in sig.parameters if p != "self"}
        if not any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values()):
            break
    out = {}
    for key, value in config.items():
        if key in params:
            out[key] = value
        elif value not in (None, False) and defaults.get(key, object()) != value:
            raise ValueError(f"{what}: setting {key}={value!r} of {getattr(cls, '__name__', cls)}"
                             " is not supported by minitf; refusing to load it")
    return out


def _object(value: Any, key: str, custom_objects: dict, what: str) -> Any:
    """An initializer or regularizer from Keras' ``{"class_name", "config"}``."""
    from .. import initializers, regularizers

    if not isinstance(value, dict):
        return value
    module = initializers if key.endswith("initializer") else regularizers
    name, cfg = value.get("class_name"), value.get("config") or {}
    if not isinstance(cfg, dict):
        raise ValueError(f"{what}: {key} has an invalid config {cfg!r}")
    if name in custom_objects:
        return custom_objects[name].from_config(cfg)
    try:
        obj = module.get(name if isinstance(name, str) else "")
    except (ValueError, TypeError, KeyError):
        raise ValueError(f"{what}: {key} names an unknown class {name!r}; pass it in "
                         "custom_objects if you trust it") from None
    cls = obj if isinstance(obj, type) else type(obj)
    return cls(**_keyword_args(cls, cfg, f"{what}: {key}", {}))


def layer_from_config(entry: Any, custom_objects: dict, what: str, depth: int = 0) -> Any:
    """A minitf layer from one Keras layer entry; classes come from the registry or
    ``custom_objects`` only (``depth``: how deep inside wrappers, at most 4)."""
    from .. import layers

    if not isinstance(entry, dict) or not isinstance(entry.get("config"), dict):
        raise ValueError(f"{what}: a layer entry is not a {{class_name, config}} object")
    name, cfg = entry.get("class_name"), entry["config"]
    where = f"{what}: layer {cfg.get('name', name)!r}"
    if not all(isinstance(k, str) and k.isidentifier() and not k.startswith("_") for k in cfg):
        raise ValueError(f"{where} has invalid setting names {sorted(map(str, cfg))}")
    custom = custom_objects.get(name) or custom_objects.get(entry.get("registered_name"))
    if custom is not None:
        kwargs = {k: v for k, v in cfg.items() if k != "dtype"}
        try:
            return custom.from_config(kwargs)
        except TypeError as e:
            raise ValueError(f"{where}: {e}") from None
    spec = registry.by_keras_class(name) if isinstance(name, str) else None
    if spec is None:
        _lookup(name, custom_objects, what, "layer")
    kwargs: dict[str, Any] = {}
    for key, value in cfg.items():
        if key in spec.nested:  # a layer inside the layer (Bidirectional's, RNN's cell)
            if depth >= 4:
                raise ValueError(f"{where}: layers nested more than 4 deep")
            kwargs[key] = None if value is None else layer_from_config(
                value, custom_objects, f"{where}: {key}", depth + 1)
        elif key in ("name", "trainable"):
            kwargs[key] = value
        elif key in _INPUT_KEYS:
            continue  # model_layers took the input shape from it
        elif key == "axis" and isinstance(value, list) and len(value) == 1:
            kwargs[key] = value[0]  # Keras 2's BatchNormalization writes axis=[3]
        elif key in spec.keys:
            if key == "activation":
                value = _activation(value, custom_objects, where)
            elif _module_of(key):
                value = _object(value, key, custom_objects, where)
            kwargs[key] = value
        elif key == "dtype":
            _check_dtype(value, where)
        elif key not in ("build_config",) and value not in (None, False) \
                and spec.fixed.get(key, object()) != value:
            raise ValueError(f"{where}: setting {key}={value!r} of {name} is not supported by "
                             "minitf; refusing to load it")
    cls = getattr(layers, spec.minitf_class)
    try:
        return cls(**kwargs)
    except TypeError as e:
        raise ValueError(f"{where}: {e}") from None


def _activation(value: Any, custom_objects: dict, where: str) -> Any:
    """A built-in activation's name, or a function passed in ``custom_objects``."""
    from .. import activations

    if isinstance(value, dict):  # Keras writes a custom function as {"class_name": name, ...}
        value = value.get("config") if isinstance(value.get("config"), str) else \
            value.get("class_name")
    if isinstance(value, str) and value in custom_objects:
        return custom_objects[value]
    if not isinstance(value, str | None):
        raise ValueError(f"{where}: invalid activation {value!r}")
    try:
        activations.get(value)
    except ValueError as e:
        raise ValueError(f"{where}: {e} (a custom activation needs custom_objects)") from None
    return value


def _check_dtype(value: Any, where: str) -> None:
    name = value.get("config", {}).get("name") if isinstance(value, dict) else value
    if name not in (None, "float32"):
        raise ValueError(f"{where}: dtype {name!r} is not supported by minitf (float32 only)")


def model_layers(cfg: Any, custom_objects: dict, what: str) -> tuple[str, list, list, Any, str]:
    """``(model name, layer entries, weight-path entries, input batch shape, input dtype)`` of
    a Keras Sequential model config (functional ones: ``functional_config``)."""
    if not isinstance(cfg, dict) or not isinstance(cfg.get("config"), dict):
        raise ValueError(f"{what}: the model config is not a {{class_name, config}} object")
    kind, body = cfg.get("class_name"), cfg["config"]
    entries = body.get("layers")
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ValueError(f"{what}: the model config has no list of layers")
    inputs = [e for e in entries if e.get("class_name") == "InputLayer"]
    shape = body.get("build_input_shape")
    first = inputs[0] if inputs else (entries[0] if entries else {})
    first_cfg = first.get("config") if isinstance(first.get("config"), dict) else {}
    shape = first_cfg.get("batch_shape") or first_cfg.get("batch_input_shape") or shape
    if kind != "Sequential":
        raise ValueError(f"{what}: model class {kind!r} is not one minitf can load (Sequential "
                         "or Functional)")
    paths = [e for e in entries if e.get("class_name") != "InputLayer"]
    if len(inputs) > 1:
        raise ValueError(f"{what}: the model has {len(inputs)} inputs; minitf loads one")
    dtype = first_cfg.get("dtype") if first.get("class_name") == "InputLayer" else None
    if dtype not in ("int32", "int64", "uint8"):  # integer ids (Embedding) stay integers
        dtype = "float32"
    return body.get("name"), [e for e in entries if e.get("class_name") != "InputLayer"], \
        paths, shape, dtype


def optimizer_from_config(cfg: Any, custom_objects: dict, what: str) -> Any:
    from .. import optimizers
    from ..optimizers import schedules

    if isinstance(cfg, str):
        return optimizers.get(cfg)
    if not isinstance(cfg, dict) or not isinstance(cfg.get("config", {}), dict):
        raise ValueError(f"{what}: invalid optimizer config {cfg!r}")
    name = cfg.get("class_name")
    cls = custom_objects.get(name)
    if cls is None:
        try:
            cls = type(optimizers.get(name if isinstance(name, str) else ""))
        except ValueError:
            _lookup(name, custom_objects, what, "optimizer")
    config = dict(cfg.get("config", {}))
    lr = config.get("learning_rate")
    if isinstance(lr, dict):
        config["learning_rate"] = schedules.deserialize(
            {"class_name": lr.get("class_name"), "config": lr.get("config", {})}, custom_objects)
    return cls(**_keyword_args(cls, config, f"{what}: optimizer", _OPTIMIZER_DEFAULTS))


def loss_from_config(cfg: Any, custom_objects: dict, what: str) -> Any:
    from .. import losses

    if cfg is None or isinstance(cfg, str):
        if isinstance(cfg, str) and cfg in custom_objects:
            return custom_objects[cfg]
        return losses.get(cfg) if cfg is not None else None
    if not isinstance(cfg, dict):
        raise ValueError(f"{what}: invalid loss {cfg!r}")
    name = cfg.get("class_name")
    cls = custom_objects.get(name) or losses._CLASSES.get(name)
    if cls is None:
        _lookup(name, custom_objects, what, "loss")
    try:  # a loss takes the settings its get_config lists (the wrappers take **kwargs)
        params = set(cls().get_config())
    except TypeError:
        params = None
    return cls(**_keyword_args(cls, cfg.get("config") or {}, f"{what}: loss",
                               {"reduction": "sum_over_batch_size"}, params))
