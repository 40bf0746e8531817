"""Pooling layers on channels-last images: max, average and global average."""

from __future__ import annotations

from typing import Any

from ...framework.api_export import keras_export
from ...ops import conv_ops, reduction_ops
from .base import Layer
from .conv import check_channels_last, padding_arg, pair


class _Pooling2D(Layer):
    _pool = staticmethod(conv_ops.max_pool2d)

    def __init__(self, pool_size: Any = (2, 2), strides: Any = None, padding: str = "valid",
                 data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        check_channels_last(data_format, type(self).__name__)
        self.pool_size = pair(pool_size, "pool_size")
        self.strides = self.pool_size if strides is None else pair(strides, "strides")
        self.padding = padding_arg(padding)

    def call(self, inputs: Any) -> Any:
        return self._pool(inputs, self.pool_size, self.strides, self.padding)

    def get_config(self) -> dict:
        return {**super().get_config(), "pool_size": list(self.pool_size),
                "strides": list(self.strides), "padding": self.padding.lower()}


@keras_export("keras.layers.MaxPooling2D", "keras.layers.MaxPool2D")
class MaxPooling2D(_Pooling2D):
    """The largest value in each ``pool_size`` window (strides default to ``pool_size``)."""

    _pool = staticmethod(conv_ops.max_pool2d)


@keras_export("keras.layers.AveragePooling2D", "keras.layers.AvgPool2D")
class AveragePooling2D(_Pooling2D):
    """The mean of each ``pool_size`` window (strides default to ``pool_size``)."""

    _pool = staticmethod(conv_ops.avg_pool2d)


@keras_export("keras.layers.GlobalAveragePooling2D", "keras.layers.GlobalAvgPool2D")
class GlobalAveragePooling2D(Layer):
    """The mean over height and width: (N, H, W, C) -> (N, C)."""

    def __init__(self, data_format: str | None = None, keepdims: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        check_channels_last(data_format, "GlobalAveragePooling2D")
        self.keepdims = keepdims

    def call(self, inputs: Any) -> Any:
        if len(inputs.shape) != 4:
            raise ValueError(f"GlobalAveragePooling2D '{self.name}' needs 4-D inputs, got "
                             f"{inputs.shape}")
        return reduction_ops.reduce_mean(inputs, [1, 2], keepdims=self.keepdims)

    def get_config(self) -> dict:
        return {**super().get_config(), "keepdims": self.keepdims}


MaxPool2D = MaxPooling2D
AvgPool2D = AveragePooling2D
GlobalAvgPool2D = GlobalAveragePooling2D
