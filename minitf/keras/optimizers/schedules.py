"""Learning-rate schedules: ``schedule(step) -> learning rate``, built from minitf ops.

Because the value is computed with ops from the optimizer's ``iterations`` variable, a
schedule keeps working inside a traced training step: each replay reads the current step.
"""

from __future__ import annotations

import math
from typing import Any

from ... import dtypes
from ...framework.execute import convert_to_tensor
from ...framework.tensor import Tensor
from ...ops import array_ops, math_ops
from ..object_registration import resolve


class LearningRateSchedule:
    """Base class: subclasses define ``__call__(step)`` and ``get_config()``."""

    def __call__(self, step: Any) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} must define __call__(step)")

    def get_config(self) -> dict:
        raise NotImplementedError(f"{type(self).__name__} must define get_config()")

    @classmethod
    def from_config(cls, config: dict) -> LearningRateSchedule:
        return cls(**config)


def _step(step: Any) -> Tensor:
    """The step as a float32 tensor (from an int variable, a tensor or a Python number)."""
    return math_ops.cast(convert_to_tensor(step), dtypes.float32)


def _progress(step: Any, decay_steps: float, staircase: bool) -> Tensor:
    p = _step(step) / float(decay_steps)
    return math_ops.floor(p) if staircase else p


class ExponentialDecay(LearningRateSchedule):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)`` (floored if staircase)."""

    def __init__(self, initial_learning_rate: float, decay_steps: int, decay_rate: float,
                 staircase: bool = False, name: str = "ExponentialDecay") -> None:
        if decay_steps <= 0:
            raise ValueError(f"decay_steps must be > 0, got {decay_steps}")
        self.initial_learning_rate = float(initial_learning_rate)
        self.decay_steps = decay_steps
        self.decay_rate = float(decay_rate)
        self.staircase = bool(staircase)
        self.name = name

    def __call__(self, step: Any) -> Tensor:
        p = _progress(step, self.decay_steps, self.staircase)
        return self.initial_learning_rate * math_ops.pow(self.decay_rate, p)

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


class InverseTimeDecay(LearningRateSchedule):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)``."""

    def __init__(self, initial_learning_rate: float, decay_steps: int, decay_rate: float,
                 staircase: bool = False, name: str = "InverseTimeDecay") -> None:
        if decay_steps <= 0:
            raise ValueError(f"decay_steps must be > 0, got {decay_steps}")
        self.initial_learning_rate = float(initial_learning_rate)
        self.decay_steps = decay_steps
        self.decay_rate = float(decay_rate)
        self.staircase = bool(staircase)
        self.name = name

    def __call__(self, step: Any) -> Tensor:
        p = _progress(step, self.decay_steps, self.staircase)
        return self.initial_learning_rate / (1.0 + self.decay_rate * p)

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


class CosineDecay(LearningRateSchedule):
    """Cosine decay from ``initial_learning_rate`` to ``alpha * initial_learning_rate`` over
    ``decay_steps`` steps, constant afterwards."""

    def __init__(self, initial_learning_rate: float, decay_steps: int, alpha: float = 0.0,
                 name: str = "CosineDecay") -> None:
        if decay_steps <= 0:
            raise ValueError(f"decay_steps must be > 0, got {decay_steps}")
        self.initial_learning_rate = float(initial_learning_rate)
        self.decay_steps = decay_steps
        self.alpha = float(alpha)
        self.name = name

    def __call__(self, step: Any) -> Tensor:
        p = math_ops.minimum(_step(step), float(self.decay_steps)) / float(self.decay_steps)
        cosine = 0.5 * (1.0 + math_ops.cos(math.pi * p))
        return self.initial_learning_rate * ((1.0 - self.alpha) * cosine + self.alpha)

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "alpha": self.alpha, "name": self.name}


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[0]`` while ``step <= boundaries[0]``, ``values[1]`` while
    ``step <= boundaries[1]``, ..., ``values[-1]`` after the last boundary."""

    def __init__(self, boundaries: list, values: list, name: str = "PiecewiseConstant") -> None:
        if len(values) != len(boundaries) + 1:
            raise ValueError("The length of values must be one more than the length of "
                             f"boundaries, got {len(values)} values and {len(boundaries)} "
                             "boundaries")
        self.boundaries = list(boundaries)
        self.values = list(values)
        self.name = name

    def __call__(self, step: Any) -> Tensor:
        s = math_ops.cast(convert_to_tensor(step), dtypes.float64)
        out = convert_to_tensor(float(self.values[-1]), dtype=dtypes.float32)
        for b, v in zip(reversed(self.boundaries), reversed(self.values[:-1])):
            out = array_ops.where(math_ops.less_equal(s, float(b)), float(v), out)
        return out

    def get_config(self) -> dict:
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


_SCHEDULES = {c.__name__: c for c in (ExponentialDecay, InverseTimeDecay, CosineDecay,
                                      PiecewiseConstantDecay)}


def serialize(schedule: LearningRateSchedule) -> dict:
    """``{"class_name": ..., "config": ...}`` for a schedule."""
    return {"class_name": type(schedule).__name__, "config": schedule.get_config()}


def deserialize(config: dict, custom_objects: dict | None = None) -> LearningRateSchedule:
    """The schedule described by ``serialize``'s output."""
    classes = {**_SCHEDULES, **resolve(custom_objects)}
    name = config["class_name"]
    if name not in classes:
        raise ValueError(f"Unknown learning rate schedule: {name!r}")
    return classes[name].from_config(config["config"])
