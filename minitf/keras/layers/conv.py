"""``Conv2D``: a 2-D convolution layer on channels-last (NHWC) images."""

from __future__ import annotations

from typing import Any

from ...framework.api_export import keras_export
from ...framework.tensor_shape import TensorShape
from ...ops import conv_ops, math_ops
from .. import activations
from .core import KernelLayer


def pair(value: Any, what: str) -> tuple[int, int]:
    """An int or a pair of ints as ``(h, w)``, checked positive."""
    vals = (value, value) if isinstance(value, int) else tuple(int(v) for v in value)
    if len(vals) != 2 or min(vals) <= 0:
        raise ValueError(f"{what} must be a positive int or a pair of them, got {value!r}")
    return vals


def padding_arg(padding: str) -> str:
    """Keras' ``'valid'``/``'same'`` as the op's ``'VALID'``/``'SAME'``."""
    if str(padding).lower() not in ("valid", "same"):
        raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")
    return str(padding).upper()


def check_channels_last(data_format: Any, layer: str) -> None:
    if data_format not in (None, "channels_last"):
        raise ValueError(f"{layer} supports data_format='channels_last' only, got "
                         f"{data_format!r}")


@keras_export("keras.layers.Conv2D", "keras.layers.Convolution2D")
class Conv2D(KernelLayer):
    """``activation(conv2d(inputs, kernel) + bias)`` with ``kernel`` [kh, kw, in, filters]."""

    def __init__(self, filters: int, kernel_size: Any, strides: Any = (1, 1),
                 padding: str = "valid", data_format: str | None = None, dilation_rate: Any = (1, 1),
                 activation: Any = None, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, bias_regularizer: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if int(filters) <= 0:
            raise ValueError(f"Conv2D filters must be a positive integer, got {filters}")
        check_channels_last(data_format, "Conv2D")
        self.filters = int(filters)
        self.kernel_size = pair(kernel_size, "kernel_size")
        self.strides = pair(strides, "strides")
        self.dilation_rate = pair(dilation_rate, "dilation_rate")
        self.padding = padding_arg(padding)
        self._set_kernel_options(activation, use_bias, kernel_initializer, bias_initializer,
                                 kernel_regularizer, bias_regularizer)

    def build(self, input_shape: TensorShape) -> None:
        if len(input_shape) != 4 or input_shape[-1] is None:
            raise ValueError(f"Conv2D '{self.name}' needs inputs (batch, height, width, channels) "
                             f"with known channels, got input shape {input_shape}")
        shape = (*self.kernel_size, input_shape[-1], self.filters)
        self.kernel = self.add_weight("kernel", shape, self.kernel_initializer,
                                      self.kernel_regularizer)
        self.bias = self.add_weight("bias", (self.filters,), self.bias_initializer,
                                    self.bias_regularizer) if self.use_bias else None
        self.built = True

    def call(self, inputs: Any) -> Any:
        inputs = self._float_input(inputs)
        if self.bias is not None and self.activation in (activations.relu, activations.linear):
            # one fused op: bias and ReLU applied while each block of the output is in cache
            act = "relu" if self.activation is activations.relu else "linear"
            return conv_ops.conv2d_bias_activation(inputs, self.kernel, self.bias, self.strides,
                                                   self.padding, self.dilation_rate, act)
        y = conv_ops.conv2d(inputs, self.kernel, self.strides, self.padding,
                            dilations=self.dilation_rate)
        if self.bias is not None:
            y = math_ops.add(y, self.bias)
        return self.activation(y)

    def get_config(self) -> dict:
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": list(self.kernel_size), "strides": list(self.strides),
                "padding": self.padding.lower(), "dilation_rate": list(self.dilation_rate)}
