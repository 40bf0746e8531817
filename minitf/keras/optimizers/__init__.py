"""``tf.keras.optimizers``: SGD, Adam, Adagrad, RMSprop and learning-rate schedules."""

from __future__ import annotations

from typing import Any

from ..object_registration import resolve as _custom_objects
from . import schedules
from .adagrad import Adagrad
from .adam import Adam
from .optimizer import Optimizer, clip_by_global_norm, clip_by_norm
from .rmsprop import RMSprop
from .sgd import SGD

_CLASSES = {"sgd": SGD, "adam": Adam, "adagrad": Adagrad, "rmsprop": RMSprop}

__all__ = ["SGD", "Adagrad", "Adam", "Optimizer", "RMSprop", "clip_by_global_norm",
           "clip_by_norm", "deserialize", "get", "schedules", "serialize"]


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
