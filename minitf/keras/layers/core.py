"""Dense, Flatten, Dropout, Activation and the Input marker."""

from __future__ import annotations

from typing import Any

import numpy as np

from ... import nn
from ...framework.api_export import keras_export
from ...framework.tensor_shape import TensorShape
from ...ops import array_ops, math_ops
from .. import activations, initializers, regularizers
from .base import Layer


class KernelLayer(Layer):
    """A layer with a kernel, an optional bias and an activation: the options (and their
    saved config) that Dense and Conv2D share."""

    def _set_kernel_options(self, activation: Any, use_bias: bool, kernel_initializer: Any,
                            bias_initializer: Any, kernel_regularizer: Any,
                            bias_regularizer: Any) -> None:
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)

    def _float_input(self, inputs: Any) -> Any:
        """Integer inputs (uint8 images) cast to the kernel's float dtype, as Keras's ops
        promote int x float32 to float32."""
        return inputs if inputs.dtype.is_floating else math_ops.cast(inputs, self.kernel.dtype)

    def get_config(self) -> dict:
        return {**super().get_config(),
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                "kernel_initializer": _serialize(self.kernel_initializer, initializers),
                "bias_initializer": _serialize(self.bias_initializer, initializers),
                "kernel_regularizer": _serialize(self.kernel_regularizer, regularizers),
                "bias_regularizer": _serialize(self.bias_regularizer, regularizers)}


@keras_export("keras.layers.Dense")
class Dense(KernelLayer):
    """``activation(inputs @ kernel + bias)`` on the last axis."""

    def __init__(self, units: int, activation: Any = None, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, bias_regularizer: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if int(units) <= 0:
            raise ValueError(f"Dense units must be a positive integer, got {units}")
        self.units = int(units)
        self._set_kernel_options(activation, use_bias, kernel_initializer, bias_initializer,
                                 kernel_regularizer, bias_regularizer)

    def build(self, input_shape: TensorShape) -> None:
        last = input_shape[-1] if len(input_shape) else None
        if last is None:
            raise ValueError(f"Dense '{self.name}' needs the last input dimension to be known, "
                             f"got input shape {input_shape}")
        self.kernel = self.add_weight("kernel", (last, self.units), self.kernel_initializer,
                                      self.kernel_regularizer)
        self.bias = self.add_weight("bias", (self.units,), self.bias_initializer,
                                    self.bias_regularizer) if self.use_bias else None
        self.built = True

    def call(self, inputs: Any) -> Any:
        y = math_ops.matmul(self._float_input(inputs), self.kernel)
        if self.bias is not None:
            y = math_ops.add(y, self.bias)
        return self.activation(y)

    def get_config(self) -> dict:
        return {**super().get_config(), "units": self.units}


def _serialize(obj: Any, module: Any) -> Any:
    """``{"class_name", "config"}`` for a built-in initializer or regularizer; None stays None
    and a custom callable is returned as is (saving then reports it cannot be stored)."""
    if obj is None or not hasattr(obj, "get_config"):
        return obj
    return module.serialize(obj)


@keras_export("keras.layers.Flatten")
class Flatten(Layer):
    """Keep the batch axis, flatten the rest: (N, 28, 28) -> (N, 784)."""

    def call(self, inputs: Any) -> Any:
        rest = inputs.shape[1:]
        if any(d is None for d in rest):
            raise ValueError(f"Flatten '{self.name}' needs known non-batch dimensions, got "
                             f"{inputs.shape}")
        return array_ops.reshape(inputs, [-1, int(np.prod(rest, dtype=np.int64))])


@keras_export("keras.layers.Dropout")
class Dropout(Layer):
    """Zero a fraction ``rate`` of inputs while training (scaled by 1/(1-rate)); identity
    at inference."""

    def __init__(self, rate: float, noise_shape: Any = None, seed: int | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not 0 <= rate < 1:
            raise ValueError(f"Dropout rate must be in [0, 1), got {rate}")
        self.rate, self.noise_shape, self.seed = float(rate), noise_shape, seed

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        if not training or self.rate == 0:
            return inputs
        return nn.dropout(inputs, self.rate, seed=self.seed)

    def get_config(self) -> dict:
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


@keras_export("keras.layers.Activation")
class Activation(Layer):
    def __init__(self, activation: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def call(self, inputs: Any) -> Any:
        return self.activation(inputs)

    def get_config(self) -> dict:
        return {**super().get_config(), "activation": activations.serialize(self.activation)}


@keras_export("keras.layers.InputLayer")
class InputLayer(Layer):
    """The entry of a model: its ``output`` is the symbolic input (``tf.keras.Input`` returns
    it); in a Sequential model it declares the input shape (without the batch axis)."""

    def __init__(self, input_shape: Any = None, shape: Any = None, dtype: Any = None,
                 name: str | None = None, batch_size: int | None = None,
                 batch_shape: Any = None, sparse: Any = None, optional: bool = False,
                 **kwargs: Any) -> None:
        from ..keras_tensor import KerasTensor, Node

        shape = shape if shape is not None else input_shape
        if shape is None and batch_shape is not None:
            batch_size, shape = batch_shape[0], batch_shape[1:]
        if shape is None:
            raise ValueError("InputLayer needs a shape, e.g. InputLayer(shape=(784,))")
        if sparse or optional:
            raise ValueError("minitf's InputLayer supports neither sparse nor optional inputs")
        shape = tuple(shape)
        if not all(d is None or isinstance(d, int | np.integer) and d > 0 for d in shape):
            raise ValueError(f"InputLayer shape must hold positive integers or None, got {shape}")
        super().__init__(name=name, input_shape=shape, **kwargs)
        self.dtype = dtype or "float32"
        self.batch_shape = (batch_size, *shape)
        self.output = KerasTensor(self.batch_shape, self.dtype, name=self.name)
        Node(self, (), {}, self.output)
        self.built = True

    def get_config(self) -> dict:
        return {"batch_shape": list(self.batch_shape), "dtype": str(self.dtype),
                "sparse": False, "name": self.name}

    @classmethod
    def from_config(cls, config: dict) -> InputLayer:
        cfg = dict(config)
        cfg.pop("trainable", None)
        return cls(**cfg)


@keras_export("keras.Input", "keras.layers.Input")
def Input(shape: Any = None, batch_size: int | None = None, dtype: Any = None,  # noqa: N802
          name: str | None = None, batch_shape: Any = None, **kwargs: Any) -> Any:
    """``tf.keras.Input(shape=(784,))``: a symbolic input (a ``KerasTensor``, batch axis
    ``None``) for ``tf.keras.Model(inputs, outputs)``, or the first entry of a Sequential."""
    return InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, name=name,
                      batch_shape=batch_shape, **kwargs).output
