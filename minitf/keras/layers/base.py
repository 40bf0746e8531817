"""``Layer``: weights plus a ``call``. Built on first use, when the input shape is known."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...framework.api_export import keras_export
from ...framework.execute import convert_to_tensor
from ...framework.function import init_scope
from ...framework.graph import name_scope
from ...framework.tensor_shape import TensorShape
from ...framework.variables import Variable
from ...ops.math_ops import cast
from .. import backend, initializers, regularizers
from ..keras_tensor import is_symbolic, symbolic_call

_BUILTIN: dict[str, type] = {}
"""minitf's own layer classes by name (nested configs such as ``RNN(cell)`` name them);
a user's subclass is not here: loading one needs ``custom_objects``."""


def builtin_layer_class(name: str) -> type | None:
    return _BUILTIN.get(name)


@keras_export("keras.layers.Layer")
class Layer:
    """Base class of every layer: subclasses implement ``build(input_shape)`` and ``call``."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__module__.startswith("minitf.keras.layers") and not cls.__name__.startswith("_"):
            _BUILTIN[cls.__name__] = cls

    def __init__(self, trainable: bool = True, name: str | None = None, dtype: Any = None,
                 input_shape: Any = None, input_dim: int | None = None, **kwargs: Any) -> None:
        if kwargs.pop("batch_input_shape", None) is not None:
            raise TypeError("batch_input_shape is not supported; use input_shape")
        if kwargs:
            raise TypeError(f"{type(self).__name__} got unexpected arguments: {sorted(kwargs)}")
        self.name = name or backend.unique_layer_name(backend.snake_case(type(self).__name__))
        self.trainable = trainable
        self.built = False
        self._weights: list[Variable] = []
        self._losses_fns: list[Any] = []
        if input_dim is not None and input_shape is None:
            input_shape = (input_dim,)
        self._input_shape_arg = tuple(input_shape) if input_shape is not None else None
        self.input_shape_: TensorShape | None = None
        self.output_shape_: TensorShape | None = None

    # -- weights ------------------------------------------------------------------------------------
    def add_weight(self, name: str, shape: Any, initializer: Any = "glorot_uniform",
                   regularizer: Any = None, trainable: bool = True, dtype: Any = "float32") -> Variable:
        """Create a variable owned by this layer (always eager, even while tracing a graph)."""
        init = initializers.get(initializer)
        with init_scope(), name_scope(self.name):
            v = Variable(init(tuple(shape), dtype=dtype), trainable=trainable, name=name)
        self._weights.append(v)
        reg = regularizers.get(regularizer)
        if reg is not None:
            self._losses_fns.append(lambda v=v, reg=reg: reg(v))
        return v

    @property
    def weights(self) -> list[Variable]:
        return list(self._weights)

    @property
    def trainable_weights(self) -> list[Variable]:
        return [w for w in self._weights if w.trainable] if self.trainable else []

    @property
    def non_trainable_weights(self) -> list[Variable]:
        if not self.trainable:
            return list(self._weights)
        return [w for w in self._weights if not w.trainable]

    trainable_variables = trainable_weights
    variables = weights

    @property
    def losses(self) -> list[Any]:
        """Regularization losses, computed now (inside a traced step they become ops)."""
        return [fn() for fn in self._losses_fns]

    def get_weights(self) -> list[np.ndarray]:
        return [np.array(w.numpy()) for w in self._weights]

    def set_weights(self, weights: list[Any]) -> None:
        if len(weights) != len(self._weights):
            raise ValueError(f"Layer '{self.name}' expects {len(self._weights)} weight arrays, "
                             f"got {len(weights)}")
        for v, w in zip(self._weights, weights):
            w = np.asarray(w)
            if tuple(v.shape) != w.shape:
                raise ValueError(f"Layer '{self.name}' weight '{v.name}' has shape {v.shape}, "
                                 f"got {w.shape}")
            v.assign(w.astype(v.dtype.np))

    def count_params(self) -> int:
        return int(sum(np.prod(w.shape) for w in self._weights))

    # -- calling -------------------------------------------------------------------------------------
    def build(self, input_shape: TensorShape) -> None:
        self.built = True

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        return inputs

    def __call__(self, inputs: Any, training: bool | None = None, **kwargs: Any) -> Any:
        if is_symbolic(inputs):  # the functional API: record a node, return KerasTensors
            return symbolic_call(self, lambda x, **kw: self.__call__(x, training, **kw),
                                 inputs, kwargs)
        if isinstance(inputs, list | tuple) and any(hasattr(x, "shape") for x in inputs):
            # a list of tensors (a merge layer's inputs; Python numbers in it broadcast);
            # nested Python numbers alone are one tensor
            inputs = [layer_input(x) for x in inputs]
            shape: Any = [x.shape for x in inputs]
        else:
            inputs = layer_input(inputs)
            shape = inputs.shape
        if not self.built:
            if not isinstance(inputs, list):
                self._check_input(shape)
            self.build(shape)
            self.built = True
            self.input_shape_ = shape
        with name_scope(self.name):
            out = self.call(inputs, training=training, **kwargs) if _takes_training(self) else \
                self.call(inputs, **kwargs)
        if self.output_shape_ is None and hasattr(out, "shape"):
            self.output_shape_ = out.shape
        return out

    def _check_input(self, shape: TensorShape) -> None:
        if self._input_shape_arg is not None and not TensorShape(
                (None, *self._input_shape_arg)).is_compatible_with(shape):
            raise ValueError(f"Layer '{self.name}' expects inputs of shape "
                             f"(None, {', '.join(map(str, self._input_shape_arg))}), got {shape}")

    def compute_output_shape(self, input_shape: Any) -> TensorShape:
        """Found by running the layer on a placeholder in a scratch graph."""
        from ...framework.graph import Graph
        from ...ops.array_ops import placeholder

        with Graph().as_default():
            out = self(placeholder("float32", input_shape))
        return out.shape

    def get_config(self) -> dict:
        cfg = {"name": self.name, "trainable": self.trainable}
        if self._input_shape_arg is not None:
            cfg["input_shape"] = list(self._input_shape_arg)
        return cfg

    @classmethod
    def from_config(cls, config: dict) -> Layer:
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def layer_input(inputs: Any) -> Any:
    """``inputs`` as a tensor, floats as float32 (Keras' autocast: ``x / 255.0`` is float64)."""
    inputs = convert_to_tensor(inputs)
    if inputs.dtype.is_floating and inputs.dtype != "float32":
        inputs = cast(inputs, "float32")
    return inputs


def _takes_training(layer: Layer) -> bool:
    import inspect

    cls = type(layer)
    cached = cls.__dict__.get("_takes_training_cache")
    if cached is None:
        cached = "training" in inspect.signature(layer.call).parameters
        cls._takes_training_cache = cached
    return cached
