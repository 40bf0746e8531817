"""``tf.keras.losses``: loss classes (with reduction and sample weights) and loss functions.

A loss function ``fn(y_true, y_pred)`` returns one value per sample (the mean over the last
axis). A ``Loss`` object weights those values and reduces them to a scalar
(``'sum_over_batch_size'``: their mean, by default). Cross-entropies are computed stably:
from logits with the fused ops of ``tf.nn``; from probabilities by clipping to
``[1e-7, 1 - 1e-7]``, or, when the probabilities come straight from a softmax/sigmoid op of a
graph, from that op's logits (as Keras does).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import dtypes
from ..framework.execute import convert_to_tensor
from ..framework.tensor import Tensor
from ..ops import array_ops, math_ops, nn_ops, reduction_ops
from .backend import epsilon, snake_case
from .object_registration import resolve as _custom_objects

REDUCTIONS = ("sum_over_batch_size", "sum", "none", "mean", "mean_with_sample_weight", "auto")

# -- helpers ---------------------------------------------------------------------------------------


def _float_pair(y_true: Any, y_pred: Any) -> tuple[Tensor, Tensor]:
    """``y_pred`` as a float tensor and ``y_true`` cast to its dtype."""
    y_pred = convert_to_tensor(y_pred)
    if not y_pred.dtype.is_floating:
        y_pred = math_ops.cast(y_pred, dtypes.float32)
    y_true = convert_to_tensor(y_true, dtype_hint=y_pred.dtype)
    if y_true.dtype != y_pred.dtype:
        y_true = math_ops.cast(y_true, y_pred.dtype)
    return y_true, y_pred


def squeeze_or_expand_to_same_rank(x1: Tensor, x2: Tensor) -> tuple[Tensor, Tensor]:
    """Make ranks equal when they differ by one through a trailing size-1 axis (Keras' rule:
    a rank-1 partner is expanded, otherwise the size-1 axis is squeezed)."""
    r1, r2 = len(x1.shape), len(x2.shape)
    if r1 == r2 + 1 and x1.shape[-1] == 1:
        return (x1, array_ops.expand_dims(x2, -1)) if r2 == 1 else (array_ops.squeeze(x1, -1), x2)
    if r2 == r1 + 1 and x2.shape[-1] == 1:
        return (array_ops.expand_dims(x1, -1), x2) if r1 == 1 else (x1, array_ops.squeeze(x2, -1))
    return x1, x2


def _logits_of(y_pred: Tensor, op_type: str) -> Tensor | None:
    """The input of ``y_pred``'s producing op when that op is ``op_type`` (graph mode)."""
    logits = getattr(y_pred, "_keras_logits", None)
    if logits is not None:
        return logits
    op = getattr(y_pred, "op", None)
    if op is not None and op.type == op_type:
        return op.inputs[0]
    return None


def _clip_probs(p: Tensor) -> Tensor:
    eps = epsilon()
    return array_ops.clip_by_value(p, eps, 1.0 - eps)


# -- loss functions (one value per sample) ---------------------------------------------------------


def mean_squared_error(y_true: Any, y_pred: Any) -> Tensor:
    """``mean((y_pred - y_true)^2, axis=-1)``."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(*_float_pair(y_true, y_pred))
    return reduction_ops.reduce_mean(math_ops.squared_difference(y_pred, y_true), axis=-1)


def mean_absolute_error(y_true: Any, y_pred: Any) -> Tensor:
    """``mean(|y_pred - y_true|, axis=-1)``."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(*_float_pair(y_true, y_pred))
    return reduction_ops.reduce_mean(math_ops.abs(y_pred - y_true), axis=-1)


def binary_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False,
                        label_smoothing: float = 0.0, axis: int = -1) -> Tensor:
    """Mean over ``axis`` of ``-(y log p + (1 - y) log(1 - p))``, computed stably."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(*_float_pair(y_true, y_pred))
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    logits = y_pred if from_logits else _logits_of(y_pred, "Sigmoid")
    if logits is not None:
        per_elem = math_ops.sigmoid_cross_entropy_with_logits(labels=y_true, logits=logits)
    else:
        p = _clip_probs(y_pred)
        per_elem = math_ops.negative(y_true * math_ops.log(p)
                                     + (1.0 - y_true) * math_ops.log(1.0 - p))
    return reduction_ops.reduce_mean(per_elem, axis=axis)


def categorical_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False,
                             label_smoothing: float = 0.0, axis: int = -1) -> Tensor:
    """``-sum(y_true * log softmax)`` over ``axis`` (one-hot or soft labels)."""
    y_true, y_pred = _float_pair(y_true, y_pred)
    if label_smoothing:
        n = y_pred.shape[axis]
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / float(n)
    logits = y_pred if from_logits else _logits_of(y_pred, "Softmax")
    if logits is not None and axis in (-1, len(y_pred.shape) - 1):
        return nn_ops.softmax_cross_entropy_with_logits(labels=y_true, logits=logits)
    if from_logits:
        return nn_ops.softmax_cross_entropy_with_logits(labels=y_true, logits=y_pred, axis=axis)
    p = y_pred / reduction_ops.reduce_sum(y_pred, axis=axis, keepdims=True)
    return math_ops.negative(reduction_ops.reduce_sum(y_true * math_ops.log(_clip_probs(p)),
                                                      axis=axis))


def sparse_categorical_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False,
                                    axis: int = -1) -> Tensor:
    """Cross-entropy with integer class ids ``y_true`` (shape ``[batch]`` or ``[batch, 1]``)."""
    if axis not in (-1, len(convert_to_tensor(y_pred).shape) - 1):
        raise NotImplementedError("minitf's sparse_categorical_crossentropy supports axis=-1")
    y_pred = convert_to_tensor(y_pred)
    y_true = convert_to_tensor(y_true)
    if len(y_true.shape) == len(y_pred.shape) and y_true.shape[-1] == 1:
        y_true = array_ops.squeeze(y_true, -1)
    if not y_true.dtype.is_integer:
        y_true = math_ops.cast(y_true, dtypes.int32)
    logits = y_pred if from_logits else _logits_of(y_pred, "Softmax")
    if logits is None:  # probabilities: log p are logits whose softmax is p (renormalized)
        logits = math_ops.log(_clip_probs(y_pred))
    return nn_ops.sparse_softmax_cross_entropy_with_logits(labels=y_true, logits=logits)


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
bce = binary_crossentropy

# -- Loss objects ----------------------------------------------------------------------------------


def _weight(losses: Tensor, sample_weight: Any) -> Tensor:
    sw = convert_to_tensor(sample_weight, dtype_hint=losses.dtype)
    if sw.dtype != losses.dtype:
        sw = math_ops.cast(sw, losses.dtype)
    while len(sw.shape) > len(losses.shape) and sw.shape[-1] == 1:
        sw = array_ops.squeeze(sw, -1)
    while len(sw.shape) < len(losses.shape):
        sw = array_ops.expand_dims(sw, -1)
    return losses * sw


def reduce_weighted_loss(losses: Tensor, reduction: str | None, sample_weight: Any = None
                         ) -> Tensor:
    """Weight per-sample ``losses`` and reduce them as ``reduction`` says."""
    if sample_weight is not None:
        weighted = _weight(losses, sample_weight)
    else:
        weighted = losses
    if reduction in (None, "none"):
        return weighted
    total = reduction_ops.reduce_sum(weighted)
    if reduction == "sum":
        return total
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        w = _weight(array_ops.ones_like(losses), sample_weight)
        return total / math_ops.maximum(reduction_ops.reduce_sum(w), epsilon())
    n = math_ops.cast(array_ops.size(weighted), weighted.dtype)
    return total / n


class Loss:
    """Base class: subclasses define ``call(y_true, y_pred)`` returning per-sample losses;
    ``loss(y_true, y_pred, sample_weight=None)`` weights and reduces them."""

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str | None = None,
                 dtype: Any = None) -> None:
        if reduction not in (*REDUCTIONS, None):
            raise ValueError(f"Invalid reduction {reduction!r}; expected one of {REDUCTIONS} "
                             "or None")
        self.reduction = "sum_over_batch_size" if reduction == "auto" else reduction
        self.name = name or snake_case(type(self).__name__)
        self.dtype = dtype

    def call(self, y_true: Any, y_pred: Any) -> Tensor:
        raise NotImplementedError

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Tensor:
        losses = self.call(y_true, y_pred)
        return reduce_weighted_loss(losses, self.reduction, sample_weight)

    def get_config(self) -> dict:
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config: dict) -> Loss:
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} reduction={self.reduction!r}>"


class LossFunctionWrapper(Loss):
    """A ``Loss`` from a per-sample function ``fn(y_true, y_pred, **kwargs)``."""

    def __init__(self, fn: Callable, reduction: str | None = "sum_over_batch_size",
                 name: str | None = None, **kwargs: Any) -> None:
        super().__init__(reduction, name or getattr(fn, "__name__", "loss"))
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true: Any, y_pred: Any) -> Tensor:
        return self.fn(convert_to_tensor(y_true), convert_to_tensor(y_pred), **self._fn_kwargs)

    def get_config(self) -> dict:
        return {**super().get_config(), **self._fn_kwargs}


def _wrapper_class(cls_name: str, fn: Callable, default_name: str, doc: str,
                   params: dict[str, Any]) -> type:
    """A LossFunctionWrapper subclass whose keyword arguments are ``params`` (with defaults)."""

    def __init__(self: LossFunctionWrapper, *args: Any, reduction: str | None =
                 "sum_over_batch_size", name: str = default_name, **kwargs: Any) -> None:
        options = dict(params)
        for key, value in zip(params, args):
            options[key] = value
        for key, value in kwargs.items():
            if key not in params:
                raise TypeError(f"{cls_name}() got an unexpected keyword argument {key!r}")
            options[key] = value
        LossFunctionWrapper.__init__(self, fn, reduction, name, **options)

    return type(cls_name, (LossFunctionWrapper,), {"__init__": __init__, "__doc__": doc})


MeanSquaredError = _wrapper_class("MeanSquaredError", mean_squared_error,
                                  "mean_squared_error", "Mean of squared errors.", {})
MeanAbsoluteError = _wrapper_class("MeanAbsoluteError", mean_absolute_error,
                                   "mean_absolute_error", "Mean of absolute errors.", {})
BinaryCrossentropy = _wrapper_class(
    "BinaryCrossentropy", binary_crossentropy, "binary_crossentropy",
    "Binary cross-entropy of 0/1 labels against probabilities (or logits).",
    {"from_logits": False, "label_smoothing": 0.0, "axis": -1})
CategoricalCrossentropy = _wrapper_class(
    "CategoricalCrossentropy", categorical_crossentropy, "categorical_crossentropy",
    "Cross-entropy of one-hot (or soft) labels against probabilities (or logits).",
    {"from_logits": False, "label_smoothing": 0.0, "axis": -1})
SparseCategoricalCrossentropy = _wrapper_class(
    "SparseCategoricalCrossentropy", sparse_categorical_crossentropy,
    "sparse_categorical_crossentropy",
    "Cross-entropy of integer class ids against probabilities (or logits).",
    {"from_logits": False, "axis": -1})

_FUNCTIONS: dict[str, Callable] = {
    "mean_squared_error": mean_squared_error, "mse": mean_squared_error,
    "mean_absolute_error": mean_absolute_error, "mae": mean_absolute_error,
    "binary_crossentropy": binary_crossentropy, "bce": binary_crossentropy,
    "categorical_crossentropy": categorical_crossentropy,
    "sparse_categorical_crossentropy": sparse_categorical_crossentropy,
}
_CLASSES: dict[str, type] = {c.__name__: c for c in (
    MeanSquaredError, MeanAbsoluteError, BinaryCrossentropy, CategoricalCrossentropy,
    SparseCategoricalCrossentropy)}
_FN_TO_CLASS = {mean_squared_error: MeanSquaredError, mean_absolute_error: MeanAbsoluteError,
                binary_crossentropy: BinaryCrossentropy,
                categorical_crossentropy: CategoricalCrossentropy,
                sparse_categorical_crossentropy: SparseCategoricalCrossentropy}


def serialize(loss: Loss) -> dict:
    return {"class_name": type(loss).__name__, "config": loss.get_config()}


def deserialize(config: dict, custom_objects: dict | None = None) -> Loss:
    classes = {**_CLASSES, **_custom_objects(custom_objects)}
    name = config["class_name"]
    if name not in classes:
        raise ValueError(f"Unknown loss: {name!r}")
    return classes[name].from_config(config.get("config", {}))


def get(identifier: Any) -> Loss:
    """A ``Loss`` object from a name ('mse', 'mae', 'binary_crossentropy',
    'categorical_crossentropy', 'sparse_categorical_crossentropy', or a class name), a
    config dict, a Loss (returned as is) or a per-sample function (wrapped, so the result
    is always reduced to a scalar, as ``model.compile`` needs)."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str):
        if identifier in _CLASSES:
            return _CLASSES[identifier]()
        fn = _FUNCTIONS.get(identifier)
        if fn is None:
            raise ValueError(f"Could not interpret loss identifier: {identifier!r} (known: "
                             f"{', '.join(sorted(_FUNCTIONS))})")
        return _FN_TO_CLASS[fn](name=identifier)
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if callable(identifier):
        cls = _FN_TO_CLASS.get(identifier)
        return cls() if cls is not None else LossFunctionWrapper(identifier)
    raise ValueError(f"Could not interpret loss identifier: {identifier!r}")
