"""What pruning and quantization wrappers share: a layer around a Dense/Conv2D layer whose
weights are the inner layer's plus its own, and cloning a Sequential model layer by layer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..keras.layers.base import Layer


class Wrapper(Layer):
    """A layer around ``layer``: builds it, exposes its weights first, then its own."""

    def __init__(self, layer: Layer, prefix: str, **kwargs: Any) -> None:
        if not isinstance(layer, Layer):
            raise TypeError(f"{type(self).__name__} wraps a Keras layer, got {layer!r}")
        kwargs.setdefault("name", f"{prefix}_{layer.name}")
        if layer._input_shape_arg is not None:
            kwargs.setdefault("input_shape", layer._input_shape_arg)
        super().__init__(**kwargs)
        self.layer = layer

    def build(self, input_shape: Any) -> None:
        if not self.layer.built:
            self.layer.build(input_shape)
            self.layer.built = True
            self.layer.input_shape_ = input_shape
        self.build_wrapper(input_shape)
        self.built = True

    def build_wrapper(self, input_shape: Any) -> None:
        """Create the wrapper's own variables (the inner layer is built)."""

    @property
    def weights(self) -> list:
        return self.layer.weights + list(self._weights)

    @property
    def trainable_weights(self) -> list:
        if not self.trainable:
            return []
        return self.layer.trainable_weights + [w for w in self._weights if w.trainable]

    @property
    def non_trainable_weights(self) -> list:
        train = {id(w) for w in self.trainable_weights}
        return [w for w in self.weights if id(w) not in train]

    trainable_variables = trainable_weights
    variables = weights

    def get_weights(self) -> list[np.ndarray]:
        return [np.array(w.numpy()) for w in self.weights]

    def set_weights(self, weights: list[Any]) -> None:
        ws = self.weights
        if len(weights) != len(ws):
            raise ValueError(f"Layer '{self.name}' expects {len(ws)} weight arrays, "
                             f"got {len(weights)}")
        for v, w in zip(ws, weights):
            v.assign(np.asarray(w).astype(v.dtype.np))

    def export_kernel(self) -> np.ndarray:
        """The kernel ``tf.lite`` converts (the inner layer's)."""
        return self.layer.kernel.numpy()

    def call_with_kernel(self, inputs: Any, kernel: Any) -> Any:
        """The inner layer's call with its kernel replaced by ``kernel`` (a tensor)."""
        original = self.layer.kernel
        self.layer.kernel = kernel
        try:
            return self.layer.call(inputs)
        finally:
            self.layer.kernel = original


def kernel_layer(layer: Any) -> bool:
    """Whether ``layer`` is a Dense or Conv2D (the layers pruning and QAT act on)."""
    from ..keras.layers import Conv2D, Dense

    return isinstance(layer, (Dense, Conv2D))


def clone_layer(layer: Layer) -> Layer:
    """A new layer of the same class and config with a copy of the weights."""
    if isinstance(layer, Wrapper):
        raise ValueError(f"layer '{layer.name}' is already wrapped ({type(layer).__name__})")
    try:
        new = type(layer).from_config(layer.get_config())
    except TypeError as e:
        raise NotImplementedError(f"cannot clone layer '{layer.name}' "
                                  f"({type(layer).__name__}) from its config: {e}") from None
    if layer.built and layer.input_shape_ is not None:
        new.build(layer.input_shape_)
        new.built = True
        new.input_shape_ = layer.input_shape_
        new.set_weights(layer.get_weights())
    return new


def map_sequential(model: Any, fn: Callable[[Layer], Layer]) -> Any:
    """A new Sequential model of ``fn(layer)`` for each layer, built for the same input."""
    from ..keras.models import Sequential

    if not isinstance(model, Sequential):
        raise NotImplementedError(f"minitf's model optimization works on Sequential models, got "
                                  f"{type(model).__name__}")
    shape = model.input_shape_
    if shape is None:
        raise ValueError("build the model (give the first layer input_shape=...) first")
    new = Sequential([fn(layer) for layer in model.layers], name=model.name)
    if new.input_shape_ is None:
        new.build(shape)
    return new
