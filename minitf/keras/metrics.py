"""``tf.keras.metrics``: running averages of quantities such as accuracy, over many batches.

A metric's state lives in eager, non-trainable variables changed with ``assign_add``, so
``update_state`` works eagerly and inside a traced training step (where the assignments
become ops that every replay runs). ``result()`` reads the state; ``reset_state()`` zeroes it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .. import dtypes
from ..framework.execute import convert_to_tensor
from ..framework.function import init_scope
from ..framework.graph import active_graph
from ..framework.tensor import Tensor
from ..framework.variables import Variable
from ..ops import array_ops, math_ops, reduction_ops
from ..ops.control_ops import group
from . import losses as losses_module
from .backend import snake_case
from .losses import squeeze_or_expand_to_same_rank
from .object_registration import resolve as _custom_objects

# -- per-sample metric functions -------------------------------------------------------------------


def accuracy(y_true: Any, y_pred: Any) -> Tensor:
    """1.0 where ``y_true == y_pred`` else 0.0, element-wise."""
    y_true, y_pred = losses_module._float_pair(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return math_ops.cast(math_ops.equal(y_true, y_pred), dtypes.float32)


def binary_accuracy(y_true: Any, y_pred: Any, threshold: float = 0.5) -> Tensor:
    """1.0 where ``(y_pred > threshold) == y_true`` else 0.0, element-wise."""
    y_true, y_pred = losses_module._float_pair(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    hit = math_ops.cast(math_ops.greater(y_pred, float(threshold)), y_true.dtype)
    return math_ops.cast(math_ops.equal(y_true, hit), dtypes.float32)


def categorical_accuracy(y_true: Any, y_pred: Any) -> Tensor:
    """1.0 where ``argmax(y_true) == argmax(y_pred)`` (one-hot labels), per sample."""
    same = math_ops.equal(reduction_ops.argmax(y_true, axis=-1),
                          reduction_ops.argmax(y_pred, axis=-1))
    return math_ops.cast(same, dtypes.float32)


def sparse_categorical_accuracy(y_true: Any, y_pred: Any) -> Tensor:
    """1.0 where ``y_true == argmax(y_pred)`` (integer labels), per sample."""
    y_pred = convert_to_tensor(y_pred)
    y_true = convert_to_tensor(y_true)
    if len(y_true.shape) == len(y_pred.shape) and y_true.shape[-1] == 1:
        y_true = array_ops.squeeze(y_true, -1)
    guess = math_ops.cast(reduction_ops.argmax(y_pred, axis=-1), y_true.dtype)
    return math_ops.cast(math_ops.equal(y_true, guess), dtypes.float32)


# -- the base class --------------------------------------------------------------------------------


class Metric:
    """Base class: subclasses create state with ``add_weight`` and define ``update_state``
    and ``result``. Calling a metric updates it and returns the result."""

    def __init__(self, name: str | None = None, dtype: Any = None) -> None:
        self.name = name or snake_case(type(self).__name__)
        self.dtype = dtypes.as_dtype(dtype if dtype is not None else "float32")
        self._variables: list[Variable] = []

    def add_weight(self, name: str, shape: Sequence[int] = (), initializer: Any = "zeros",
                   dtype: Any = None) -> Variable:
        """A state variable (eager, non-trainable) starting at zero."""
        d = dtypes.as_dtype(dtype if dtype is not None else self.dtype)
        with init_scope():
            v = Variable(np.zeros(tuple(shape), d.np), trainable=False,
                         name=f"{self.name}/{name}")
        self._variables.append(v)
        return v

    @property
    def variables(self) -> list[Variable]:
        return list(self._variables)

    def update_state(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    def result(self) -> Tensor:
        raise NotImplementedError

    def reset_state(self) -> Any:
        """Set every state variable back to zero (an op when a graph is being built)."""
        ops = [v.assign(np.zeros(tuple(v.shape), v.dtype.np)) for v in self._variables]
        return group(*ops) if active_graph() is not None else None

    reset_states = reset_state  # tf.keras 2 name

    def __call__(self, *args: Any, **kwargs: Any) -> Tensor:
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype.name}

    @classmethod
    def from_config(cls, config: dict) -> Metric:
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}>"


def _updates(*ops: Any) -> Any:
    """What ``update_state`` returns: ``None`` eagerly, an op in a graph."""
    graph_ops = [o for o in ops if o is not None and not isinstance(o, Variable)]
    return group(*graph_ops) if graph_ops else None


class Sum(Metric):
    """The (weighted) sum of every value seen."""

    def __init__(self, name: str = "sum", dtype: Any = None) -> None:
        super().__init__(name, dtype)
        self.total = self.add_weight("total")

    def update_state(self, values: Any, sample_weight: Any = None) -> Any:
        values = _cast(values, self.dtype)
        if sample_weight is not None:
            values = values * _cast(sample_weight, self.dtype)
        return _updates(self.total.assign_add(reduction_ops.reduce_sum(values)))

    def result(self) -> Tensor:
        return array_ops.identity(self.total)


class Mean(Metric):
    """The (weighted) mean of the per-sample values seen (values with more than one axis
    are first averaged over the non-batch axes, as in Keras)."""

    def __init__(self, name: str = "mean", dtype: Any = None) -> None:
        super().__init__(name, dtype)
        self.total = self.add_weight("total")
        self.count = self.add_weight("count")

    def update_state(self, values: Any, sample_weight: Any = None) -> Any:
        values = _cast(values, self.dtype)
        if sample_weight is not None:
            sw = _cast(sample_weight, self.dtype)
            values, sw = squeeze_or_expand_to_same_rank(values, sw)
            sw = sw * array_ops.ones_like(values)
            values = values * sw
        else:
            sw = None
        rank = len(values.shape)
        if rank > 1:
            axes = list(range(1, rank))
            values = reduction_ops.reduce_mean(values, axis=axes)
            sw = None if sw is None else reduction_ops.reduce_mean(sw, axis=axes)
        if sw is not None:
            n = reduction_ops.reduce_sum(sw)
        elif rank:
            n = math_ops.cast(array_ops.size(values), self.dtype)
        else:
            n = 1.0
        return _updates(self.total.assign_add(reduction_ops.reduce_sum(values)),
                        self.count.assign_add(convert_to_tensor(n, dtype_hint=self.dtype)))

    def result(self) -> Tensor:
        count = math_ops.cast(self.count, self.dtype)
        safe = array_ops.where(math_ops.equal(count, 0.0), 1.0, count)
        return math_ops.divide(self.total, safe)


def _cast(x: Any, dtype: dtypes.DType) -> Tensor:
    x = convert_to_tensor(x, dtype_hint=dtype)
    return x if x.dtype == dtype else math_ops.cast(x, dtype)


class MeanMetricWrapper(Mean):
    """The mean of ``fn(y_true, y_pred, **kwargs)`` over every sample seen."""

    def __init__(self, fn: Callable, name: str | None = None, dtype: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(name or getattr(fn, "__name__", "mean"), dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Any:
        y_true, y_pred = convert_to_tensor(y_true), convert_to_tensor(y_pred)
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        return super().update_state(values, sample_weight)

    def get_config(self) -> dict:
        return {**super().get_config(), **self._fn_kwargs}


def _wrapper(cls_name: str, fn: Callable, default_name: str, doc: str,
             params: dict[str, Any] | None = None) -> type:
    params = params or {}

    def __init__(self: MeanMetricWrapper, *args: Any, name: str = default_name,
                 dtype: Any = None, **kwargs: Any) -> None:
        options = dict(params)
        options.update(zip(params, args))
        for key, value in kwargs.items():
            if key not in params:
                raise TypeError(f"{cls_name}() got an unexpected keyword argument {key!r}")
            options[key] = value
        MeanMetricWrapper.__init__(self, fn, name, dtype, **options)

    return type(cls_name, (MeanMetricWrapper,), {"__init__": __init__, "__doc__": doc})


Accuracy = _wrapper("Accuracy", accuracy, "accuracy",
                    "How often predictions equal labels exactly.")
BinaryAccuracy = _wrapper("BinaryAccuracy", binary_accuracy, "binary_accuracy",
                          "How often ``y_pred > threshold`` matches 0/1 labels.",
                          {"threshold": 0.5})
CategoricalAccuracy = _wrapper("CategoricalAccuracy", categorical_accuracy,
                               "categorical_accuracy",
                               "How often the arg-max class matches one-hot labels.")
SparseCategoricalAccuracy = _wrapper("SparseCategoricalAccuracy", sparse_categorical_accuracy,
                                     "sparse_categorical_accuracy",
                                     "How often the arg-max class matches integer labels.")
MeanSquaredError = _wrapper("MeanSquaredError", losses_module.mean_squared_error,
                            "mean_squared_error", "The mean of squared errors.")
MeanAbsoluteError = _wrapper("MeanAbsoluteError", losses_module.mean_absolute_error,
                             "mean_absolute_error", "The mean of absolute errors.")
BinaryCrossentropy = _wrapper("BinaryCrossentropy", losses_module.binary_crossentropy,
                              "binary_crossentropy", "The mean binary cross-entropy.",
                              {"from_logits": False, "label_smoothing": 0.0})
CategoricalCrossentropy = _wrapper(
    "CategoricalCrossentropy", losses_module.categorical_crossentropy,
    "categorical_crossentropy", "The mean categorical cross-entropy.",
    {"from_logits": False, "label_smoothing": 0.0})
SparseCategoricalCrossentropy = _wrapper(
    "SparseCategoricalCrossentropy", losses_module.sparse_categorical_crossentropy,
    "sparse_categorical_crossentropy", "The mean sparse categorical cross-entropy.",
    {"from_logits": False})

_CLASSES: dict[str, type] = {c.__name__: c for c in (
    Mean, Sum, Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
    MeanSquaredError, MeanAbsoluteError, BinaryCrossentropy, CategoricalCrossentropy,
    SparseCategoricalCrossentropy)}
_BY_NAME: dict[str, type] = {
    "accuracy": Accuracy, "acc": Accuracy, "binary_accuracy": BinaryAccuracy,
    "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "mean_squared_error": MeanSquaredError, "mse": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError, "mae": MeanAbsoluteError,
    "binary_crossentropy": BinaryCrossentropy, "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
}


def serialize(metric: Metric) -> dict:
    return {"class_name": type(metric).__name__, "config": metric.get_config()}


def deserialize(config: dict, custom_objects: dict | None = None) -> Metric:
    classes = {**_CLASSES, **_custom_objects(custom_objects)}
    name = config["class_name"]
    if name not in classes:
        raise ValueError(f"Unknown metric: {name!r}")
    return classes[name].from_config(config.get("config", {}))


def get(identifier: Any) -> Metric:
    """A new ``Metric`` from a name ('mse', 'binary_accuracy', ..., named after the string
    as ``model.compile`` does), a config dict, a Metric (returned as is) or a per-sample
    function ``fn(y_true, y_pred)`` (averaged with ``MeanMetricWrapper``). For
    'accuracy'/'acc' use ``resolve_accuracy``, which picks the right kind."""
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        if identifier in _CLASSES:
            return _CLASSES[identifier]()
        cls = _BY_NAME.get(identifier)
        if cls is None:
            raise ValueError(f"Could not interpret metric identifier: {identifier!r} (known: "
                             f"{', '.join(sorted(_BY_NAME))})")
        return cls(name=identifier)
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if callable(identifier):
        return MeanMetricWrapper(identifier)
    raise ValueError(f"Could not interpret metric identifier: {identifier!r}")


def _loss_kind(loss: Any) -> str | None:
    """'binary', 'categorical' or 'sparse' when ``loss`` is one of the cross-entropies."""
    fn = getattr(loss, "fn", loss)
    if isinstance(fn, str):
        fn = losses_module._FUNCTIONS.get(fn, fn)
    return {losses_module.binary_crossentropy: "binary",
            losses_module.categorical_crossentropy: "categorical",
            losses_module.sparse_categorical_crossentropy: "sparse"}.get(fn)


def resolve_accuracy(loss: Any, y_true_shape: Sequence[Any], y_pred_shape: Sequence[Any],
                     name: str = "accuracy") -> Metric:
    """The accuracy metric Keras picks for the string 'accuracy': binary, categorical or
    sparse categorical, from the loss when it is a cross-entropy, else from the shapes
    (last prediction axis of size 1: binary; labels of lower rank, or a trailing label axis
    of size 1 against several classes: sparse; otherwise categorical)."""
    kind = _loss_kind(loss)
    if kind is None:
        t_rank, p_rank = len(y_true_shape), len(y_pred_shape)
        t_last = y_true_shape[-1] if t_rank else None
        p_last = y_pred_shape[-1] if p_rank else None
        if p_last == 1:
            kind = "binary"
        elif t_rank < p_rank or (t_last == 1 and p_last != 1):
            kind = "sparse"
        else:
            kind = "categorical"
    cls = {"binary": BinaryAccuracy, "categorical": CategoricalAccuracy,
           "sparse": SparseCategoricalAccuracy}[kind]
    return cls(name=name)
