"""TF1's initializers (``tf.compat.v1.*_initializer``) for ``get_variable``.

``init(shape, dtype=None, partition_info=None)`` returns a tensor: in a graph, the random ops are
graph ops, so each run of the variable's initializer draws anew, as in TF1. Defaults are TF1's
(``random_normal_initializer`` has ``stddev=1.0``, not Keras's 0.05).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import dtypes as _dtypes
from ..framework.registry import tf_export
from ..framework.tensor import Tensor
from . import array_ops, random_ops

_TRUNC_STDDEV = 0.87962566103423978  # stddev of a unit normal truncated to [-2, 2]


def fans(shape: tuple[int, ...]) -> tuple[float, float]:
    """``(fan_in, fan_out)`` of a weight shape (a kernel's receptive field multiplies both)."""
    if len(shape) == 0:
        return 1.0, 1.0
    if len(shape) == 1:
        return float(shape[0]), float(shape[0])
    receptive = math.prod(shape[:-2])
    return float(shape[-2] * receptive), float(shape[-1] * receptive)


class Initializer:
    """Base class; ``dtype`` is the default when ``__call__`` gets none."""

    def __init__(self, dtype: Any = _dtypes.float32) -> None:
        self.dtype = _dtypes.as_dtype(dtype)

    def __call__(self, shape: Any, dtype: Any = None, partition_info: Any = None) -> Tensor:
        d = _dtypes.as_dtype(dtype) if dtype is not None else self.dtype
        shape = (int(shape),) if isinstance(shape, int) else tuple(int(s) for s in shape)
        return self._make(shape, d)

    def _make(self, shape: tuple[int, ...], dtype: _dtypes.DType) -> Tensor:
        raise NotImplementedError

    def get_config(self) -> dict:
        return {}


def _floating(dtype: _dtypes.DType, who: str) -> None:
    if not dtype.is_floating:
        raise ValueError(f"{who} needs a floating point dtype, got {dtype.name}")


class Zeros(Initializer):
    """All zeros (``tf.compat.v1.zeros_initializer``)."""

    def _make(self, shape, dtype):
        return array_ops.zeros(shape, dtype=dtype)


class Ones(Initializer):
    """All ones (``tf.compat.v1.ones_initializer``)."""

    def _make(self, shape, dtype):
        return array_ops.ones(shape, dtype=dtype)


class Constant(Initializer):
    """A constant, broadcast to the shape (``tf.compat.v1.constant_initializer``)."""

    def __init__(self, value: Any = 0, dtype: Any = _dtypes.float32,
                 verify_shape: bool = False) -> None:
        super().__init__(dtype)
        self.value = np.asarray(value)

    def _make(self, shape, dtype):
        v = self.value
        if v.size not in (1, math.prod(shape)):
            raise TypeError(f"constant_initializer: {v.size} values do not fit shape "
                            f"{list(shape)}")
        full = np.broadcast_to(v, shape) if v.size == 1 else v.reshape(shape)
        return array_ops.constant(np.array(full, dtype=dtype.np))

    def get_config(self) -> dict:
        return {"value": self.value.tolist()}


class RandomNormal(Initializer):
    """N(mean, stddev**2) (``tf.compat.v1.random_normal_initializer``)."""

    def __init__(self, mean: float = 0.0, stddev: float = 1.0, seed: int | None = None,
                 dtype: Any = _dtypes.float32) -> None:
        super().__init__(dtype)
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def _make(self, shape, dtype):
        _floating(dtype, "random_normal_initializer")
        return random_ops.normal(shape, self.mean, self.stddev, dtype, self.seed)


class TruncatedNormal(RandomNormal):
    """N(mean, stddev**2) redrawn beyond 2 stddev
    (``tf.compat.v1.truncated_normal_initializer``)."""

    def _make(self, shape, dtype):
        _floating(dtype, "truncated_normal_initializer")
        return random_ops.truncated_normal(shape, self.mean, self.stddev, dtype, self.seed)


class RandomUniform(Initializer):
    """U[minval, maxval) (``tf.compat.v1.random_uniform_initializer``); integer dtypes need
    ``maxval``."""

    def __init__(self, minval: Any = 0, maxval: Any = None, seed: int | None = None,
                 dtype: Any = _dtypes.float32) -> None:
        super().__init__(dtype)
        self.minval, self.maxval, self.seed = minval, maxval, seed

    def _make(self, shape, dtype):
        return random_ops.uniform(shape, self.minval, self.maxval, dtype, self.seed)


class VarianceScaling(Initializer):
    """Scaled by fan-in/out (``tf.compat.v1.variance_scaling_initializer``); TF1's
    ``distribution="normal"`` means truncated normal."""

    def __init__(self, scale: float = 1.0, mode: str = "fan_in",
                 distribution: str = "truncated_normal", seed: int | None = None,
                 dtype: Any = _dtypes.float32) -> None:
        super().__init__(dtype)
        if scale <= 0:
            raise ValueError(f"`scale` must be positive, got {scale}")
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"`mode` must be fan_in, fan_out or fan_avg, got {mode!r}")
        if distribution not in ("normal", "truncated_normal", "untruncated_normal", "uniform"):
            raise ValueError(f"Invalid `distribution` argument: {distribution!r}")
        self.scale, self.mode, self.distribution, self.seed = scale, mode, distribution, seed

    def _make(self, shape, dtype):
        _floating(dtype, type(self).__name__)
        fan_in, fan_out = fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        var = self.scale / max(1.0, n)
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * var)
            return random_ops.uniform(shape, -limit, limit, dtype, self.seed)
        if self.distribution == "untruncated_normal":
            return random_ops.normal(shape, 0.0, math.sqrt(var), dtype, self.seed)
        return random_ops.truncated_normal(shape, 0.0, math.sqrt(var) / _TRUNC_STDDEV, dtype,
                                           self.seed)


class GlorotUniform(VarianceScaling):
    """``tf.compat.v1.glorot_uniform_initializer`` (Xavier uniform)."""

    def __init__(self, seed: int | None = None, dtype: Any = _dtypes.float32) -> None:
        super().__init__(1.0, "fan_avg", "uniform", seed, dtype)


class GlorotNormal(VarianceScaling):
    """``tf.compat.v1.glorot_normal_initializer`` (Xavier, truncated normal)."""

    def __init__(self, seed: int | None = None, dtype: Any = _dtypes.float32) -> None:
        super().__init__(1.0, "fan_avg", "truncated_normal", seed, dtype)


# TF1's public names (tf.compat.v1.* and, in TF1, tf.*)
zeros_initializer = tf_export("zeros_initializer")(Zeros)
ones_initializer = tf_export("ones_initializer")(Ones)
constant_initializer = tf_export("constant_initializer")(Constant)
random_normal_initializer = tf_export("random_normal_initializer")(RandomNormal)
truncated_normal_initializer = tf_export("truncated_normal_initializer")(TruncatedNormal)
random_uniform_initializer = tf_export("random_uniform_initializer")(RandomUniform)
variance_scaling_initializer = tf_export("variance_scaling_initializer")(VarianceScaling)
glorot_uniform_initializer = tf_export("glorot_uniform_initializer")(GlorotUniform)
glorot_normal_initializer = tf_export("glorot_normal_initializer")(GlorotNormal)
