"""``tf.keras.regularizers``: penalties on weights, added to the training loss.

``reg(w)`` returns a scalar tensor built from ops, so it is differentiated with the loss
(and traced with it inside ``model.fit``).
"""

from __future__ import annotations

from typing import Any

from ..framework.execute import convert_to_tensor
from ..framework.tensor import Tensor
from ..ops import math_ops, reduction_ops
from .object_registration import resolve as _custom_objects


class Regularizer:
    """Base class: ``__call__(x)`` returns a scalar penalty."""

    def __call__(self, x: Any) -> Tensor:
        raise NotImplementedError

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict) -> Regularizer:
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class L1L2(Regularizer):
    """``l1 * sum(|x|) + l2 * sum(x^2)``."""

    def __init__(self, l1: float = 0.0, l2: float = 0.0) -> None:
        self.l1, self.l2 = float(l1), float(l2)

    def __call__(self, x: Any) -> Tensor:
        x = convert_to_tensor(x)
        terms = []
        if self.l1:
            terms.append(self.l1 * reduction_ops.reduce_sum(math_ops.abs(x)))
        if self.l2:
            terms.append(self.l2 * reduction_ops.reduce_sum(math_ops.square(x)))
        if not terms:
            return convert_to_tensor(0.0, dtype=x.dtype)
        return terms[0] if len(terms) == 1 else terms[0] + terms[1]

    def get_config(self) -> dict:
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    """``l1 * sum(|x|)``."""

    def __init__(self, l1: float = 0.01) -> None:
        super().__init__(l1=l1)

    def get_config(self) -> dict:
        return {"l1": self.l1}


class L2(L1L2):
    """``l2 * sum(x^2)`` (no factor 1/2, as in Keras)."""

    def __init__(self, l2: float = 0.01) -> None:
        super().__init__(l2=l2)

    def get_config(self) -> dict:
        return {"l2": self.l2}


l1 = L1
l2 = L2


def l1_l2(l1: float = 0.01, l2: float = 0.01) -> L1L2:
    """``L1L2(l1, l2)`` with tf.keras' defaults (0.01 each)."""
    return L1L2(l1=l1, l2=l2)


_BY_NAME: dict[str, Any] = {"L1": L1, "L2": L2, "L1L2": L1L2, "l1": L1, "l2": L2,
                            "l1_l2": l1_l2}


def serialize(regularizer: Regularizer) -> dict:
    return {"class_name": type(regularizer).__name__, "config": regularizer.get_config()}


def deserialize(config: dict, custom_objects: dict | None = None) -> Regularizer:
    classes = {"L1": L1, "L2": L2, "L1L2": L1L2, **_custom_objects(custom_objects)}
    name = config["class_name"]
    if name not in classes:
        raise ValueError(f"Unknown regularizer: {name!r}")
    return classes[name].from_config(config.get("config", {}))


def get(identifier: Any) -> Any:
    """A regularizer from a name ('l1', 'l2', 'l1_l2'), a config dict, an instance or any
    callable; ``None`` gives ``None``."""
    if identifier is None or isinstance(identifier, Regularizer):
        return identifier
    if isinstance(identifier, str):
        make = _BY_NAME.get(identifier)
        if make is None:
            raise ValueError(f"Could not interpret regularizer identifier: {identifier!r}")
        return make()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret regularizer identifier: {identifier!r}")
