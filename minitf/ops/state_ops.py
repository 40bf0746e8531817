"""Variable reads and writes. The runtime (eager, or a Session run) decides where values live."""

from __future__ import annotations

from typing import Any

from ..framework.registry import ShapeError, defop, tf_export
from ..framework.tensor_shape import fmt


def _read_infer(shapes, dtypes, attrs):
    return [(attrs["shape"], attrs["dtype"])]


def _assign_infer(shapes, dtypes, attrs):
    var = attrs["var"]
    if dtypes[0] != var.dtype:
        raise ShapeError(f"value is {dtypes[0].name} but variable '{var.name}' is {var.dtype.name}")
    if not var.shape.is_compatible_with(shapes[0]):
        raise ShapeError(f"value has shape {fmt(shapes[0])} but variable '{var.name}' has shape "
                         f"{fmt(var.shape)}")
    return [(var.shape, var.dtype)]


def _assign(rt, value, var):
    value = value.astype(var.dtype.np, copy=False).reshape(var.shape)
    rt.write(var, value)
    return value


def _assign_add(rt, delta, var):
    new = rt.be.binary("add", rt.read(var), delta, var.dtype.np)
    rt.write(var, new)
    return new


def _assign_sub(rt, delta, var):
    new = rt.be.binary("subtract", rt.read(var), delta, var.dtype.np)
    rt.write(var, new)
    return new


defop("ReadVariableOp", _read_infer, lambda rt, var, shape, dtype: rt.read(var),
      lambda op, g: [g], stateful=True, doc="The current value of a variable.", device="kernels")
defop("AssignVariableOp", _assign_infer, _assign, None, stateful=True,
      doc="Store a new value in a variable; outputs the value.", device="forward")
defop("AssignAddVariableOp", _assign_infer, _assign_add, None, stateful=True,
      doc="variable += delta; outputs the new value.", device="kernels")
defop("AssignSubVariableOp", _assign_infer, _assign_sub, None, stateful=True,
      doc="variable -= delta; outputs the new value.", device="kernels")


# -- TF1's function forms: tf.assign(ref, value) is ref.assign(value) -----------------------------


@tf_export("assign")
def assign(ref: Any, value: Any, validate_shape: Any = None, use_locking: Any = None,
           name: str | None = None) -> Any:
    """``ref = value`` (TF1's ``tf.assign``); in a graph, an op that does it when run."""
    return ref.assign(value, name=name)


@tf_export("assign_add")
def assign_add(ref: Any, value: Any, use_locking: Any = None, name: str | None = None) -> Any:
    """``ref += value`` (TF1's ``tf.assign_add``)."""
    return ref.assign_add(value, name=name)


@tf_export("assign_sub")
def assign_sub(ref: Any, value: Any, use_locking: Any = None, name: str | None = None) -> Any:
    """``ref -= value`` (TF1's ``tf.assign_sub``)."""
    return ref.assign_sub(value, name=name)
