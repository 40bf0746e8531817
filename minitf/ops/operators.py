"""Python operators on tensors and variables: ``a + b``, ``a @ b``, ``t[1:, ::2]``, ``-t``, ...

Installed on ``Tensor`` and ``Variable`` once the ops exist, so both modes and both kinds of
object share one definition, as in TF.
"""

from __future__ import annotations

from ..framework.tensor import Tensor
from ..framework.variables import Variable
from . import array_ops, complex_ops, math_ops


def _binary(fn, reverse=False):
    if reverse:
        return lambda self, other: fn(other, self)
    return lambda self, other: fn(self, other)


def _pow(x, y):
    return math_ops.pow(*math_ops._convert_operands(x, y))


_OPERATORS = {
    "__add__": _binary(math_ops._add_v2), "__radd__": _binary(math_ops._add_v2, True),
    "__sub__": _binary(math_ops.subtract), "__rsub__": _binary(math_ops.subtract, True),
    "__mul__": _binary(math_ops.multiply), "__rmul__": _binary(math_ops.multiply, True),
    "__truediv__": _binary(math_ops.divide), "__rtruediv__": _binary(math_ops.divide, True),
    "__floordiv__": _binary(math_ops.floordiv), "__rfloordiv__": _binary(math_ops.floordiv, True),
    "__mod__": _binary(math_ops.floormod), "__rmod__": _binary(math_ops.floormod, True),
    "__pow__": _binary(_pow), "__rpow__": _binary(_pow, True),
    "__matmul__": _binary(math_ops.matmul), "__rmatmul__": _binary(math_ops.matmul, True),
    "__lt__": _binary(math_ops.less), "__le__": _binary(math_ops.less_equal),
    "__gt__": _binary(math_ops.greater), "__ge__": _binary(math_ops.greater_equal),
    "__and__": _binary(math_ops.logical_and), "__rand__": _binary(math_ops.logical_and, True),
    "__or__": _binary(math_ops.logical_or), "__ror__": _binary(math_ops.logical_or, True),
    "__neg__": lambda self: math_ops.negative(self),
    "__pos__": lambda self: self,
    "__abs__": lambda self: complex_ops.abs(self),  # complex: ComplexAbs, as tf.abs
    "__invert__": lambda self: math_ops.logical_not(self),
    "__getitem__": lambda self, key: array_ops.getitem(self, key),
}


def _eq(self, other):
    """TF2's rule: ``==`` is element-wise for eager values; graph tensors (and graph
    variables) compare by identity and are hashable, so they can key a ``feed_dict``.
    Against None, strings or other objects Python's identity comparison applies."""
    if _is_graph_object(self) or not _tensor_like(other):
        return self is other if _is_graph_object(self) else NotImplemented
    return math_ops.equal(self, other)


def _ne(self, other):
    if _is_graph_object(self) or not _tensor_like(other):
        return self is not other if _is_graph_object(self) else NotImplemented
    return math_ops.not_equal(self, other)


def _hash(self):
    if _is_graph_object(self):
        return id(self)
    raise TypeError(f"{type(self).__name__} is unhashable (== compares element-wise). "
                    "Use x.ref() as a dict key instead.")


def _is_graph_object(x) -> bool:
    return x.graph is not None


def _tensor_like(x) -> bool:
    import numpy as np

    return isinstance(x, Tensor | Variable | np.ndarray | np.generic | int | float | bool
                      | complex | list | tuple)


def install() -> None:
    for cls in (Tensor, Variable):
        for name, fn in _OPERATORS.items():
            setattr(cls, name, fn)
        cls.__eq__ = _eq
        cls.__ne__ = _ne
        cls.__hash__ = _hash


install()
