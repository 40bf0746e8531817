"""Stochastic gradient descent, optionally with (Nesterov) momentum."""

from __future__ import annotations

from typing import Any

from ...framework.api_export import keras_export
from ...ops import optimizer_ops
from .optimizer import Optimizer


@keras_export("keras.optimizers.SGD")
class SGD(Optimizer):
    """``var -= lr * grad``; with ``momentum``: ``m = momentum*m - lr*grad; var += m``
    (Nesterov: ``var += momentum*m - lr*grad``), as Keras does."""

    def __init__(self, learning_rate: Any = 0.01, momentum: float = 0.0, nesterov: bool = False,
                 weight_decay: float | None = None, clipnorm: float | None = None,
                 clipvalue: float | None = None, global_clipnorm: float | None = None,
                 name: str = "SGD", **kwargs: Any) -> None:
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm,
                         name, **kwargs)
        if not 0 <= momentum <= 1:
            raise ValueError(f"`momentum` must be a float between [0, 1], got {momentum}")
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)

    def _slot_specs(self, var: Any) -> list[tuple[str, float]]:
        return [("momentum", 0.0)] if self.momentum else []

    def _update_step(self, grad: Any, var: Any, lr: Any, step: Any) -> Any:
        if self.momentum:
            accum = self._slots[id(var)]["momentum"]
            return optimizer_ops.apply_momentum(var, accum, grad, lr, self.momentum,
                                                self.nesterov)
        return optimizer_ops.apply_gradient_descent(var, grad, lr)

    def get_config(self) -> dict:
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}
