"""``tf.keras.activations``: activation functions by name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import nn
from ..ops import math_ops
from .object_registration import resolve as _custom_objects


def linear(x: Any) -> Any:
    return x


def relu(x: Any, alpha: float = 0.0, max_value: float | None = None) -> Any:
    if alpha or max_value is not None:
        y = nn.leaky_relu(x, alpha) if alpha else nn.relu(x)
        return math_ops.minimum(y, max_value) if max_value is not None else y
    return nn.relu(x)


def softmax(x: Any, axis: int = -1) -> Any:
    return nn.softmax(x, axis=axis)


sigmoid = nn.sigmoid
tanh = nn.tanh
elu = nn.elu
softplus = nn.softplus
relu6 = nn.relu6
leaky_relu = nn.leaky_relu
log_softmax = nn.log_softmax
exponential = math_ops.exp

_BY_NAME: dict[str, Callable] = {
    "linear": linear, "relu": relu, "softmax": softmax, "sigmoid": sigmoid, "tanh": tanh,
    "elu": elu, "softplus": softplus, "relu6": relu6, "leaky_relu": leaky_relu,
    "log_softmax": log_softmax, "exponential": exponential,
}


def get(identifier: str | Callable | None) -> Callable:
    """An activation function from its name, a callable, or None (linear)."""
    if identifier is None:
        return linear
    if callable(identifier):
        return identifier
    try:
        return _BY_NAME[identifier]
    except KeyError:
        raise ValueError(f"Unknown activation {identifier!r}; choose one of "
                         f"{', '.join(sorted(_BY_NAME))}") from None


def serialize(fn: Callable) -> str:
    """A built-in activation's name, else the function's registered or own name."""
    for name, f in _BY_NAME.items():
        if f is fn:
            return name
    return getattr(fn, "_registered_name", getattr(fn, "__name__", "custom"))


def deserialize(name: Any, custom_objects: dict | None = None) -> Callable:
    """The activation ``serialize`` named: from ``custom_objects``, the registered functions
    (``register_keras_serializable``, ``custom_object_scope``) or the built-in ones. Keras 3's
    ``{"class_name": "function", "config": name}`` form is read too."""
    if isinstance(name, dict):
        name = name.get("config") if isinstance(name.get("config"), str) else \
            name.get("class_name")
    custom = _custom_objects(custom_objects)
    if isinstance(name, str) and name in custom:
        return custom[name]
    if not isinstance(name, str):
        raise ValueError(f"an activation is named by a string, got {name!r}")
    return get(name)
