"""Quantization-aware training: fake-quantized weights and activations, trained through the
straight-through estimator (the ``FakeQuantWithMinMaxVars*`` ops of ``minitf/ops/quant_ops``).

TF-MOT's default 8-bit scheme: Conv2D kernels per output channel and Dense kernels per
tensor, symmetric over the narrow range [-127, 127] of the current weights' max |w|; each
wrapped layer's output (after its activation) and the model input fake-quantized over a
moving average (decay ``ema_decay``) of the batch min/max, which inference then uses. Before
training the ranges are TF-MOT's [-6, 6]; the first training batch sets the averages.
``TFLiteConverter`` reads these ranges (``export_range``) instead of calibrating.
"""

from __future__ import annotations

from typing import Any

from ...keras.initializers import Constant
from ...keras.layers import Conv2D, Dropout, Flatten, MaxPooling2D
from ...keras.layers.base import Layer
from ...ops import array_ops, math_ops, quant_ops, reduction_ops
from .._wrapper import Wrapper, clone_layer, kernel_layer, map_sequential

PASSTHROUGH = (MaxPooling2D, Flatten, Dropout)  # their outputs stay on their input's grid


class _RangeTracker:
    """Moving-average min/max of a tensor, as non-trainable variables of ``owner``."""

    def __init__(self, owner: Layer, name: str, ema_decay: float) -> None:
        self.min = owner.add_weight(f"{name}_min", (), Constant(-6.0), trainable=False)
        self.max = owner.add_weight(f"{name}_max", (), Constant(6.0), trainable=False)
        self.count = owner.add_weight(f"{name}_count", (), "zeros", trainable=False)
        self.decay = float(ema_decay)

    def __call__(self, x: Any, training: bool | None) -> Any:
        if training:
            bmin = array_ops.stop_gradient(reduction_ops.reduce_min(x))
            bmax = array_ops.stop_gradient(reduction_ops.reduce_max(x))
            first = math_ops.equal(self.count, 0.0)
            d = self.decay
            mn = array_ops.where(first, bmin, d * self.min + (1 - d) * bmin)
            mx = array_ops.where(first, bmax, d * self.max + (1 - d) * bmax)
            self.min.assign(mn)
            self.max.assign(mx)
            self.count.assign_add(1.0)
        else:
            mn, mx = self.min, self.max
        return quant_ops.fake_quant_with_min_max_vars(x, mn, mx, num_bits=8)

    def value(self) -> tuple[float, float] | None:
        if float(self.count.numpy()) == 0:
            return None
        return float(self.min.numpy()), float(self.max.numpy())


class QuantizeLayer(Layer):
    """Fake-quantizes the model input (TF-MOT's ``QuantizeLayer``)."""

    def __init__(self, ema_decay: float = 0.999, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.ema_decay = ema_decay

    def build(self, input_shape: Any) -> None:
        self.range = _RangeTracker(self, "input", self.ema_decay)
        self.built = True

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        return self.range(inputs, training)

    def export_range(self) -> tuple[float, float] | None:
        return self.range.value()


class QuantizeAnnotate(Wrapper):
    """Marks a layer for :func:`quantize_apply`; computes exactly as the layer."""

    def __init__(self, layer: Any, quantize_config: Any = None, **kwargs: Any) -> None:
        super().__init__(layer, "quant_annotate", **kwargs)
        self.quantize_config = quantize_config

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        return self.layer.call(inputs)


class QuantizeWrapper(Wrapper):
    """A Dense/Conv2D with fake-quantized kernel and output."""

    def __init__(self, layer: Any, ema_decay: float = 0.999, **kwargs: Any) -> None:
        if not kernel_layer(layer):
            raise ValueError(f"quantize wraps Dense and Conv2D layers; '{layer.name}' is a "
                             f"{type(layer).__name__}")
        super().__init__(layer, "quant", **kwargs)
        self.ema_decay = ema_decay
        self.per_channel = isinstance(layer, Conv2D)

    def build_wrapper(self, input_shape: Any) -> None:
        self.range = _RangeTracker(self, "output", self.ema_decay)

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        k = self.layer.kernel
        axes = list(range(len(k.shape) - 1)) if self.per_channel else None
        amax = array_ops.stop_gradient(reduction_ops.reduce_max(math_ops.abs(k), axes))
        fq = quant_ops.fake_quant_with_min_max_vars_per_channel if self.per_channel else \
            quant_ops.fake_quant_with_min_max_vars
        y = self.call_with_kernel(inputs, fq(k, -amax, amax, num_bits=8, narrow_range=True))
        return self.range(y, training)

    def export_range(self) -> tuple[float, float] | None:
        return self.range.value()


def quantize_annotate_layer(to_annotate: Any, quantize_config: Any = None) -> QuantizeAnnotate:
    """Mark one layer for quantization (then build the model and call :func:`quantize_apply`)."""
    return QuantizeAnnotate(to_annotate, quantize_config)


def quantize_annotate_model(to_annotate: Any) -> Any:
    """Mark every Dense/Conv2D of a Sequential model (a clone)."""
    return map_sequential(to_annotate, lambda layer: QuantizeAnnotate(clone_layer(layer))
                          if kernel_layer(layer) else clone_layer(layer))


def quantize_apply(model: Any) -> Any:
    """A clone where each annotated layer is a :class:`QuantizeWrapper`, with a
    :class:`QuantizeLayer` wherever a run of quantized layers begins (pooling, Flatten and
    Dropout between quantized layers stay inside the run)."""
    from ...keras.models import Sequential

    if not any(isinstance(layer, QuantizeAnnotate) for layer in model.layers):
        raise ValueError("quantize_apply needs a model with quantize_annotate_layer layers")
    layers, quantized = [], False
    for layer in model.layers:
        if isinstance(layer, QuantizeAnnotate):
            if not quantized:
                layers.append(QuantizeLayer())
            layers.append(QuantizeWrapper(clone_layer(layer.layer)))
            quantized = True
        else:
            layers.append(clone_layer(layer))
            quantized = quantized and isinstance(layer, PASSTHROUGH)
    new = Sequential(name=model.name)
    for layer in layers:
        new._layers.append(layer)
    new.build(model.input_shape_)
    return new


def quantize_model(to_quantize: Any) -> Any:
    """``tfmot.quantization.keras.quantize_model``: every Dense/Conv2D quantization-aware."""
    return quantize_apply(quantize_annotate_model(to_quantize))
