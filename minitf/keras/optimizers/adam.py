"""Adam (Kingma & Ba), with Keras' bias correction and epsilon placement."""

from __future__ import annotations

from typing import Any

from ...framework.api_export import keras_export
from ...ops import optimizer_ops
from .optimizer import Optimizer


@keras_export("keras.optimizers.Adam")
class Adam(Optimizer):
    """``m += (g - m)(1 - beta_1)``, ``v += (g^2 - v)(1 - beta_2)``,
    ``var -= lr*sqrt(1 - beta_2^t)/(1 - beta_1^t) * m / (sqrt(v) + epsilon)``."""

    _uses_step = True

    def __init__(self, learning_rate: Any = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, amsgrad: bool = False,
                 weight_decay: float | None = None, clipnorm: float | None = None,
                 clipvalue: float | None = None, global_clipnorm: float | None = None,
                 name: str = "adam", **kwargs: Any) -> None:
        if amsgrad:
            raise NotImplementedError("minitf's Adam does not support amsgrad=True")
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm,
                         name, **kwargs)
        self.beta_1 = float(beta_1)
        self.beta_2 = float(beta_2)
        self.epsilon = float(epsilon)
        self.amsgrad = False

    def _slot_specs(self, var: Any) -> list[tuple[str, float]]:
        return [("momentum", 0.0), ("velocity", 0.0)]

    def _update_step(self, grad: Any, var: Any, lr: Any, step: Any) -> Any:
        s = self._slots[id(var)]
        return optimizer_ops.apply_adam(var, s["momentum"], s["velocity"], grad, lr,
                                        self.beta_1, self.beta_2, self.epsilon, step)

    def get_config(self) -> dict:
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon, "amsgrad": self.amsgrad}
