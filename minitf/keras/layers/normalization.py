"""``BatchNormalization``: normalise each channel by batch statistics while training and by
moving averages of them at inference, as Keras does."""

from __future__ import annotations

from typing import Any

from ...framework.api_export import keras_export
from ...framework.tensor_shape import TensorShape
from ...ops import math_ops, nn_ops
from .. import initializers, regularizers
from .base import Layer


@keras_export("keras.layers.BatchNormalization")
class BatchNormalization(Layer):
    """``gamma * (x - mean) / sqrt(var + epsilon) + beta`` over the last axis (``axis=-1``).

    ``training=True``: mean/var of the batch (over every axis but ``axis``), and the moving
    statistics move towards them: ``moving = moving * momentum + batch * (1 - momentum)``.
    Otherwise (inference, also ``training=None``): the moving statistics, unchanged. The
    moving variance tracks the batch's biased variance, as Keras 3 does.
    """

    def __init__(self, axis: int = -1, momentum: float = 0.99, epsilon: float = 1e-3,
                 center: bool = True, scale: bool = True, beta_initializer: Any = "zeros",
                 gamma_initializer: Any = "ones", moving_mean_initializer: Any = "zeros",
                 moving_variance_initializer: Any = "ones", beta_regularizer: Any = None,
                 gamma_regularizer: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"BatchNormalization momentum must be in [0, 1], got {momentum}")
        self.axis, self.momentum, self.epsilon = int(axis), float(momentum), float(epsilon)
        self.center, self.scale = center, scale
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)

    def build(self, input_shape: TensorShape) -> None:
        rank = len(input_shape)
        if not -rank <= self.axis < rank:
            raise ValueError(f"BatchNormalization '{self.name}': axis {self.axis} is out of "
                             f"range for inputs of shape {input_shape}")
        self._axis = self.axis % rank
        dim = input_shape[self._axis]
        if dim is None:
            raise ValueError(f"BatchNormalization '{self.name}' needs the size of axis "
                             f"{self.axis} to be known, got input shape {input_shape}")
        self._reduce = [a for a in range(rank) if a != self._axis]
        # broadcastable shape of the per-channel vectors
        self._bshape = [dim if a == self._axis else 1 for a in range(rank)]
        self.gamma = self.add_weight("gamma", (dim,), self.gamma_initializer,
                                     self.gamma_regularizer) if self.scale else None
        self.beta = self.add_weight("beta", (dim,), self.beta_initializer,
                                    self.beta_regularizer) if self.center else None
        self.moving_mean = self.add_weight("moving_mean", (dim,), self.moving_mean_initializer,
                                           trainable=False)
        self.moving_variance = self.add_weight("moving_variance", (dim,),
                                               self.moving_variance_initializer, trainable=False)
        self.built = True

    def _channel(self, v: Any) -> Any:
        from ...ops import array_ops

        if self._axis == len(self._bshape) - 1:
            return v  # already broadcasts along the last axis
        return array_ops.reshape(v, self._bshape)

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        if training:
            mean, var = nn_ops.moments(inputs, self._reduce)
            keep = self.momentum
            self.moving_mean.assign(self.moving_mean * keep + mean * (1.0 - keep))
            self.moving_variance.assign(self.moving_variance * keep + var * (1.0 - keep))
        else:
            mean, var = self.moving_mean, self.moving_variance
        inv = math_ops.rsqrt(var + self.epsilon)
        if self.gamma is not None:
            inv = inv * self.gamma
        shift = -mean * inv
        if self.beta is not None:
            shift = shift + self.beta
        # x * inv + shift: one multiply-add per element instead of four passes
        return inputs * self._channel(inv) + self._channel(shift)

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum,
                "epsilon": self.epsilon, "center": self.center, "scale": self.scale}
