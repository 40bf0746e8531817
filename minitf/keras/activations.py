"""``tf.keras.activations``: activation functions by name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import nn
from ..ops import math_ops


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
    for name, f in _BY_NAME.items():
        if f is fn:
            return name
    return getattr(fn, "__name__", "custom")
