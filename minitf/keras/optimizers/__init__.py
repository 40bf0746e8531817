"""``tf.keras.optimizers``: SGD, Adam, Adagrad, RMSprop and learning-rate schedules."""

from __future__ import annotations

from typing import Any

from ...framework.api_export import exports as _exports
from ..object_registration import resolve as _custom_objects
from . import adagrad, adam, rmsprop, schedules, sgd  # noqa: F401 - they declare the optimizers
from .optimizer import Optimizer

_DECLARED = _exports("keras.optimizers")  # Adam, SGD, ..., clip_by_norm (``keras_export``)
globals().update(_DECLARED)
_CLASSES = {name.lower(): obj for name, obj in _DECLARED.items()
            if isinstance(obj, type) and issubclass(obj, Optimizer) and obj is not Optimizer}

__all__ = sorted([*_DECLARED, "deserialize", "get", "schedules", "serialize"])


def serialize(optimizer: Optimizer) -> dict:
    """``{"class_name": ..., "config": ...}`` describing ``optimizer``."""
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}


def deserialize(config: dict, custom_objects: dict | None = None) -> Optimizer:
    """A new optimizer from ``serialize``'s output."""
    custom = _custom_objects(custom_objects)
    classes = {**{c.__name__: c for c in _CLASSES.values()}, **custom}
    name = config["class_name"]
    cls = classes.get(name) or _CLASSES.get(name.lower())
    if cls is None:
        raise ValueError(f"Unknown optimizer: {name!r}")
    return cls.from_config(config.get("config", {}), custom)


def get(identifier: Any) -> Optimizer:
    """An optimizer from a name ('sgd', 'adam', 'adagrad', 'rmsprop'), a config dict or an
    instance (returned as is)."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        cls = _CLASSES.get(identifier.lower())
        if cls is None:
            raise ValueError(f"Could not interpret optimizer identifier: {identifier!r} "
                             f"(known: {', '.join(_CLASSES)})")
        return cls()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    raise ValueError(f"Could not interpret optimizer identifier: {identifier!r}")
