"""Tensors: ``Tensor`` is a symbolic edge in a Graph (TF1); ``EagerTensor`` holds a value (TF2).

Both share every method and operator, so the same student code runs in either mode. Values
are never stored on graph tensors: a Session keeps them, so two sessions can share a graph.
Arithmetic operators are attached in ``minitf/ops/operators.py`` once the ops exist.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .. import dtypes as _dtypes
from . import context as _ctx
from .api_export import tf_export
from .tensor_shape import TensorShape

if TYPE_CHECKING:
    from .graph import Graph, Operation


@tf_export("Tensor")
class Tensor:
    """A symbolic tensor: output ``value_index`` of graph operation ``op``.

    Get its value with ``sess.run(t)`` (or ``t.eval()`` inside ``with tf.Session():``).
    """

    __array_priority__ = 100  # make ndarray + Tensor call Tensor.__radd__

    def __init__(self, op: Operation | None, value_index: int, shape: Any, dtype: Any) -> None:
        self.op = op
        self.value_index = value_index
        self._shape = TensorShape(shape)
        self._dtype = _dtypes.as_dtype(dtype)

    # -- static information -------------------------------------------------------------------
    @property
    def shape(self) -> TensorShape:
        return self._shape

    def get_shape(self) -> TensorShape:
        return self._shape

    def set_shape(self, shape: Any) -> None:
        """Refine the static shape (e.g. fill in a ``None`` you know)."""
        self._shape = self._shape.merge_with(shape)

    @property
    def dtype(self) -> _dtypes.DType:
        return self._dtype

    @property
    def ndim(self) -> int:
        return len(self._shape)

    @property
    def graph(self) -> Graph | None:
        return self.op.graph if self.op is not None else None

    @property
    def name(self) -> str:
        return f"{self.op.name}:{self.value_index}"

    @property
    def device(self) -> str:
        """Where the op producing this tensor runs (see ``minitf/framework/device.py``)."""
        where = getattr(self.op, "_device", None)  # set only when a GPU may be in play
        return f"/job:localhost/replica:0/task:0/device:{where or 'CPU'}:0"

    def consumers(self) -> list[Operation]:
        """The graph operations that take this tensor as an input."""
        return [op for op in self.graph.get_operations() if any(t is self for t in op.inputs)]

    def ref(self) -> _TensorRef:
        """A hashable reference (tensors compare element-wise, so they are not hashable)."""
        return _TensorRef(self)

    # -- values --------------------------------------------------------------------------------
    def eval(self, feed_dict: dict | None = None, session: Any = None) -> np.ndarray:
        """Run this tensor in ``session`` (default: the session of the enclosing ``with``)."""
        sess = session or _ctx.default_session()
        if sess is None:
            raise ValueError(
                f"Tensor '{self.name}' needs a session: use sess.run(t), or t.eval() inside "
                "`with tf.Session() as sess:`"
            )
        return sess.run(self, feed_dict=feed_dict)

    def numpy(self) -> np.ndarray:
        raise ValueError(
            f"Tensor '{self.name}' is symbolic (built in a graph): it has no value until a "
            "Session runs it. Use sess.run(t) or t.eval() inside `with tf.Session():`."
        )

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self.numpy()  # raises the message above

    def __bool__(self) -> bool:
        raise TypeError(
            f"Using the symbolic tensor '{self.name}' as a Python bool is not allowed in graph "
            "mode: the value is not known yet. Use tf.where / tf.cond-style ops instead."
        )

    def __iter__(self):
        n = self._shape[0] if self._shape else None
        if n is None:
            raise TypeError(f"Cannot iterate over tensor '{self.name}' of shape {self._shape}")
        return (self[i] for i in range(n))  # t[i]: StridedSlice (minitf/ops/operators.py)

    def __len__(self) -> int:
        if not self._shape or self._shape[0] is None:
            raise TypeError(f"len() of tensor '{self.name}' with shape {self._shape} is unknown")
        return self._shape[0]

    def __repr__(self) -> str:
        return f"<tf.Tensor '{self.name}' shape={self._shape} dtype={self._dtype.name}>"


@tf_export("EagerTensor")
class EagerTensor(Tensor):
    """A tensor with a value, produced by running ops eagerly (TF2's default)."""

    def __init__(self, value: np.ndarray, dtype: Any = None) -> None:
        # ``value`` must already be an ndarray of a supported dtype; convert_to_tensor checks.
        self.op = None
        self.value_index = 0
        self._value = value
        self._shape = TensorShape(value.shape)
        self._dtype = _dtypes.as_dtype(dtype if dtype is not None else value.dtype)

    @property
    def name(self) -> str:
        raise AttributeError("Tensor.name is meaningless when eager execution is enabled.")

    @property
    def graph(self) -> None:
        return None

    def numpy(self) -> np.ndarray:
        """The value as a NumPy array (a copy: changing it leaves the tensor as it was)."""
        return self._value.copy()

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        v = self._value
        return v if dtype is None else v.astype(dtype, copy=False)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __float__(self) -> float:
        return float(self._value)

    def __int__(self) -> int:
        return int(self._value)

    def __index__(self) -> int:
        return int(self._value)

    def __len__(self) -> int:
        if not self._shape:
            raise TypeError("len() of a scalar (rank-0) tensor")
        return self._shape[0]

    def __iter__(self):
        if not self._shape:
            raise TypeError("Cannot iterate over a scalar tensor")
        return (EagerTensor(v) for v in self._value)

    def __format__(self, spec: str) -> str:
        return format(self._value.item(), spec) if self._value.ndim == 0 else str(self)

    def eval(self, feed_dict: dict | None = None, session: Any = None) -> np.ndarray:
        return self._value

    def consumers(self) -> list:
        return []

    def __repr__(self) -> str:
        v = self._value
        # TF: numpy=1.5; str of the NumPy scalar keeps float32's short form (0.1, not 0.1000000015)
        shown = str(v[()]) if v.ndim == 0 else np.array_repr(v)
        return f"<tf.Tensor: shape={self._shape}, dtype={self._dtype.name}, numpy={shown}>"

    def __str__(self) -> str:
        # !s: format() of a 0-d array goes through a Python float and prints float32 too long
        return f"tf.Tensor({self._value!s}, shape={self._shape}, dtype={self._dtype.name})"


class _TensorRef:
    """Hashable handle on a tensor, compared by identity (``t.ref()``)."""

    __slots__ = ("_t",)

    def __init__(self, t: Tensor) -> None:
        self._t = t

    def deref(self) -> Tensor:
        return self._t

    def __hash__(self) -> int:
        return id(self._t)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _TensorRef) and other._t is self._t


def is_symbolic(x: Any) -> bool:
    return isinstance(x, Tensor) and not isinstance(x, EagerTensor)
