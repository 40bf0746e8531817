"""Adagrad: per-element learning rates shrinking with the sum of squared gradients."""

from __future__ import annotations

from typing import Any

from ...framework.api_export import keras_export
from ...ops import optimizer_ops
from .optimizer import Optimizer


@keras_export("keras.optimizers.Adagrad")
class Adagrad(Optimizer):
    """``accum += g^2; var -= lr * g / sqrt(accum + epsilon)``, ``accum`` starting at
    ``initial_accumulator_value``."""

    def __init__(self, learning_rate: Any = 0.001, initial_accumulator_value: float = 0.1,
                 epsilon: float = 1e-7, weight_decay: float | None = None,
                 clipnorm: float | None = None, clipvalue: float | None = None,
                 global_clipnorm: float | None = None, name: str = "adagrad",
                 **kwargs: Any) -> None:
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm,
                         name, **kwargs)
        self.initial_accumulator_value = float(initial_accumulator_value)
        self.epsilon = float(epsilon)

    def _slot_specs(self, var: Any) -> list[tuple[str, float]]:
        return [("accumulator", self.initial_accumulator_value)]

    def _update_step(self, grad: Any, var: Any, lr: Any, step: Any) -> Any:
        return optimizer_ops.apply_adagrad(var, self._slots[id(var)]["accumulator"], grad, lr,
                                           self.epsilon)

    def get_config(self) -> dict:
        return {**super().get_config(),
                "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}
