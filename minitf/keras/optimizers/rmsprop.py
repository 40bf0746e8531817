"""RMSprop: divide the gradient by a running root-mean-square of recent gradients."""

from __future__ import annotations

from typing import Any

from ...framework.api_export import keras_export
from ...ops import optimizer_ops
from .optimizer import Optimizer


@keras_export("keras.optimizers.RMSprop")
class RMSprop(Optimizer):
    """``ms = rho*ms + (1-rho)*g^2``; ``inc = lr*g / sqrt(ms + epsilon)`` (centered:
    ``sqrt(ms - mg^2 + epsilon)`` with ``mg`` the running mean gradient); with ``momentum``:
    ``mom = momentum*mom + inc; var -= mom``, else ``var -= inc``."""

    def __init__(self, learning_rate: Any = 0.001, rho: float = 0.9, momentum: float = 0.0,
                 epsilon: float = 1e-7, centered: bool = False,
                 weight_decay: float | None = None, clipnorm: float | None = None,
                 clipvalue: float | None = None, global_clipnorm: float | None = None,
                 name: str = "rmsprop", **kwargs: Any) -> None:
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm,
                         name, **kwargs)
        self.rho = float(rho)
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.centered = bool(centered)

    def _slot_specs(self, var: Any) -> list[tuple[str, float]]:
        specs = [("velocity", 0.0)]
        if self.momentum > 0:
            specs.append(("momentum", 0.0))
        if self.centered:
            specs.append(("average_gradient", 0.0))
        return specs

    def _update_step(self, grad: Any, var: Any, lr: Any, step: Any) -> Any:
        s = self._slots[id(var)]
        return optimizer_ops.apply_rmsprop(var, s["velocity"], s.get("momentum"), grad, lr,
                                           self.rho, self.momentum, self.epsilon,
                                           mg=s.get("average_gradient"))

    def get_config(self) -> dict:
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum,
                "epsilon": self.epsilon, "centered": self.centered}
