"""Saving and loading models without pickle.

A model file (``.keras``, and also for ``.h5`` names: minitf writes its own container, not
HDF5) is a zip archive holding

* ``config.json``  - the architecture: layer class names (looked up in a fixed table, so a
  file can never name code to run) and their settings;
* ``weights.npz``  - the weights, in order, read back with ``allow_pickle=False``;
* ``optimizer.npz`` and ``optimizer.json`` - the optimizer's settings and slot variables;
* ``rng.json``     - minitf's random-generator state, so resumed training continues exactly.

A corrupt or hostile file raises ``ValueError`` naming the problem; nothing in it is executed.
"""

from __future__ import annotations

import io
import json
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

FORMAT = "minitf-model"
VERSION = 1


def _layer_classes() -> dict[str, type]:
    from . import layers

    return {name: getattr(layers, name) for name in dir(layers)
            if isinstance(getattr(layers, name), type)}


def _npz_bytes(arrays: list[np.ndarray]) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **{f"arr_{i:04d}": a for i, a in enumerate(arrays)})
    return buf.getvalue()


def _read_npz(data: bytes, what: str) -> list[np.ndarray]:
    """The arrays of an ``.npz`` archive, in name order; never unpickles anything."""
    return [a for _, a in sorted(read_npz_dict(data, what).items())]


def read_npz_dict(data: bytes, what: str) -> dict[str, np.ndarray]:
    """``{name: array}`` of an ``.npz`` archive read with ``allow_pickle=False``; anything
    else (a pickle, object arrays, a bare ``.npy``, a corrupt zip) raises ``ValueError``."""
    try:
        z = np.load(io.BytesIO(data), allow_pickle=False)
        if not isinstance(z, np.lib.npyio.NpzFile):
            raise ValueError("expected an .npz archive, found a single array")
        with z:
            return {k: z[k] for k in z.files}
    except ValueError as e:
        raise ValueError(f"{what} is not a plain array archive ({e}); refusing to load it") from e
    except (OSError, EOFError, KeyError, zipfile.BadZipFile) as e:
        raise ValueError(f"{what} is corrupt: {e}") from e


def _open(path: str | Path) -> zipfile.ZipFile:
    try:
        z = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise
    except (zipfile.BadZipFile, OSError) as e:
        raise ValueError(f"{path} is not a minitf model file (expected a zip container "
                         f"written by model.save): {e}") from None
    check_members(z, path)
    return z


def check_members(z: zipfile.ZipFile, path: Any) -> None:
    """Decompress every member once and check its CRC; damage raises ``ValueError``."""
    try:
        bad = z.testzip()
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError) as e:
        z.close()
        raise ValueError(f"{path} is corrupt: {e}") from None
    if bad is not None:
        z.close()
        raise ValueError(f"{path} is corrupt: member {bad} fails its CRC check")


def _json(z: zipfile.ZipFile, name: str, path: Any) -> Any:
    try:
        return json.loads(z.read(name).decode("utf-8"))
    except KeyError:
        raise ValueError(f"{path} has no {name}: not a minitf model file") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{path}: {name} is corrupt ({e})") from None


# -- models ---------------------------------------------------------------------------------------


def model_config(model: Any) -> dict:
    from .models import Sequential

    if not isinstance(model, Sequential):
        raise NotImplementedError(
            "minitf can save the architecture of Sequential models; for a subclassed Model "
            "use model.save_weights(path) and rebuild the model in code")
    layers = []
    for layer in model.layers:
        cfg = layer.get_config()
        for key, value in cfg.items():
            if not _is_plain(value):
                raise ValueError(f"Layer '{layer.name}' setting {key}={value!r} cannot be saved "
                                 "(custom objects are not serialised); use save_weights")
        layers.append({"class_name": type(layer).__name__, "config": cfg})
    return {"format": FORMAT, "version": VERSION, "class_name": "Sequential",
            "name": model.name, "input_shape": list(model.input_shape_[1:])
            if model.input_shape_ is not None else None, "layers": layers}


def save_model(model: Any, path: str | Path, include_optimizer: bool = True) -> None:
    """Write architecture, weights, optimizer state and RNG state to ``path``."""
    from ..ops.random_ops import get_state

    path = Path(path)
    if path.suffix not in (".keras", ".h5"):
        raise ValueError(f"model.save needs a '.keras' (or '.h5') file name, got {path.name!r}; "
                         "for a directory use tf.saved_model.save")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("config.json", json.dumps(model_config(model), indent=1))
        z.writestr("weights.npz", _npz_bytes(model.get_weights()))
        if include_optimizer and model.optimizer is not None:
            _write_optimizer(z, model)
        z.writestr("rng.json", json.dumps(get_state(), default=int))
    tmp.replace(path)  # never leave a half-written file under the real name


def _write_optimizer(z: zipfile.ZipFile, model: Any) -> None:
    from . import losses as losses_module

    opt = model.optimizer
    z.writestr("optimizer.json", json.dumps({
        "class_name": type(opt).__name__, "config": _plain(opt.get_config()),
        "loss": _loss_name(model.compiled_loss, losses_module),
        "metrics": [m if isinstance(m, str) else getattr(m, "name", None)
                    for m in model._metric_specs]}))
    z.writestr("optimizer.npz", _npz_bytes([np.asarray(v.numpy()) for v in opt.variables()]))


def _loss_name(loss: Any, losses_module: Any) -> Any:
    if loss is None:
        return None
    cfg = getattr(loss, "get_config", lambda: {})()
    return {"class_name": type(loss).__name__, "config": _plain(cfg)}


def _is_plain(value: Any) -> bool:
    """Whether ``value`` is JSON data: numbers, strings, None, and lists/dicts of them."""
    if isinstance(value, str | int | float | bool | type(None)):
        return True
    if isinstance(value, list | tuple):
        return all(_is_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_plain(v) for k, v in value.items())
    return False


def _plain(cfg: dict) -> dict:
    """Keep JSON-able settings only (a schedule object is stored by its config)."""
    out = {}
    for k, v in cfg.items():
        if isinstance(v, np.generic):
            out[k] = v.item()
        elif _is_plain(v):
            out[k] = v
        elif hasattr(v, "get_config"):
            out[k] = {"class_name": type(v).__name__, "config": _plain(v.get_config())}
    return out


def load_model(path: str | Path, compile: bool = True) -> Any:  # noqa: A002 - Keras' name
    """Rebuild a model saved by ``model.save``; predictions match the saved model exactly."""
    z = _open(path)
    with z:
        cfg = _json(z, "config.json", path)
        if cfg.get("format") != FORMAT or cfg.get("class_name") != "Sequential":
            raise ValueError(f"{path} is not a minitf model file (format {cfg.get('format')!r})")
        names = set(z.namelist())
        if "weights.npz" not in names:
            raise ValueError(f"{path} has no weights.npz: not a minitf model file")
        try:
            model = _build_model(cfg, path)
            model.set_weights(_read_npz(z.read("weights.npz"), f"{path}:weights.npz"))
            if compile and "optimizer.json" in names:
                _restore_optimizer(z, model, path)
            if "rng.json" in names:
                from ..ops.random_ops import set_state

                set_state(_json(z, "rng.json", path))
        except (TypeError, KeyError, AttributeError, IndexError) as e:
            # a config with the wrong structure or arguments: say so, with the file's name
            raise ValueError(f"{path} holds an invalid model description "
                             f"({type(e).__name__}: {e}); refusing to load it") from None
        except ValueError as e:
            if str(path) in str(e):
                raise
            raise ValueError(f"{path}: {e}; refusing to load it") from None
    return model


def _build_model(cfg: dict, path: Any) -> Any:
    """The Sequential model ``cfg`` describes; layer classes come from a fixed table."""
    from .models import Sequential

    classes = _layer_classes()
    layers = []
    for spec in cfg["layers"]:
        cls = classes.get(spec.get("class_name"))
        if cls is None:
            raise ValueError(f"{path} names an unknown layer class "
                             f"{spec.get('class_name')!r}; refusing to load it")
        config = spec.get("config", {})
        if not isinstance(config, dict) or not all(isinstance(k, str) and k.isidentifier()
                                                   and not k.startswith("_") for k in config):
            raise ValueError(f"{path}: layer {spec.get('class_name')!r} has invalid settings "
                             f"{config!r}; refusing to load it")
        layers.append(cls.from_config(dict(config)))
    model = Sequential(layers, name=cfg.get("name"))
    if not model.built and cfg.get("input_shape") is not None:
        model.build((None, *cfg["input_shape"]))
    return model


def _restore_optimizer(z: zipfile.ZipFile, model: Any, path: Any) -> None:
    from . import losses, optimizers

    info = _json(z, "optimizer.json", path)
    opt = optimizers.get({"class_name": info["class_name"], "config": info["config"]})
    loss = None
    if info.get("loss"):
        loss = losses.get({"class_name": info["loss"]["class_name"],
                           "config": info["loss"]["config"]})
    model.compile(optimizer=opt, loss=loss, metrics=[m for m in info.get("metrics", []) if m])
    slots = _read_npz(z.read("optimizer.npz"), f"{path}:optimizer.npz")
    if slots:
        if len(slots) > len(opt.variables()):  # saved after training began: slots exist
            opt.build(model.trainable_variables)
        variables = opt.variables()
        if len(variables) != len(slots):
            raise ValueError(f"{path}: optimizer state has {len(slots)} arrays, the optimizer "
                             f"expects {len(variables)}")
        for v, a in zip(variables, slots):
            v.assign(a.astype(v.dtype.np))


# -- weights only ---------------------------------------------------------------------------------


def save_weights(model: Any, path: str | Path) -> None:
    """Weights only, as a plain ``.npz`` (for ``.weights.h5`` names too)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(_npz_bytes(model.get_weights()))
    tmp.replace(path)


def load_weights(model: Any, path: str | Path) -> None:
    weights = _read_npz(Path(path).read_bytes(), str(path))
    if not model.weights:
        raise ValueError("Build the model (call it on data or model.build) before load_weights")
    model.set_weights(weights)
