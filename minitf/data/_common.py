"""Constants and value conversions shared by the dataset classes."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..framework.execute import _np_value
from ..framework.graph import executing_eagerly
from ..framework.tensor import EagerTensor, Tensor
from . import _nest

AUTOTUNE = -1  # ``tf.data.AUTOTUNE``: accepted wherever TF takes it, and ignored
INFINITE = -1  # ``tf.data.INFINITE_CARDINALITY``
UNKNOWN = -2  # ``tf.data.UNKNOWN_CARDINALITY``


def to_array(value: Any) -> np.ndarray:
    """A tensor, Variable, array or Python value as an ndarray of a minitf dtype."""
    if isinstance(value, Tensor) and not isinstance(value, EagerTensor):
        raise TypeError("tf.data needs values, not symbolic graph tensors; build datasets "
                        "and map functions in eager mode")
    if hasattr(value, "numpy") and not isinstance(value, np.ndarray | np.generic):
        value = value.numpy()
    return _np_value(value, None)


def to_tensor(value: np.ndarray) -> Tensor:
    """An ndarray as a tensor: an EagerTensor, or a constant inside a graph being built."""
    if executing_eagerly():
        return EagerTensor(np.asarray(value))
    from ..ops.array_ops import constant

    return constant(value)


def tensors(element: Any) -> Any:
    """An element of ndarrays as the same structure of tensors."""
    return _nest.map_structure(to_tensor, element)


def arrays(value: Any) -> Any:
    """A user function's result as a structure of ndarrays (a top-level list becomes a tuple)."""
    if isinstance(value, list):
        value = tuple(value)
    return _nest.map_structure(to_array, value)


def call(fn: Any, element: Any) -> Any:
    """``fn`` applied to an element as TF does: a plain tuple is unpacked into arguments."""
    args = tensors(element)
    return fn(*args) if type(args) is tuple else fn(args)


def known(n: int) -> bool:
    """Whether a cardinality is a finite, known count."""
    return n >= 0
