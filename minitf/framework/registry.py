"""The op registry: every op is defined exactly once, here, and used by graph mode, eager mode
and both autodiff front ends (``tf.gradients`` and ``tf.GradientTape``).

An op definition has three parts:

* ``infer(shapes, dtypes, attrs)`` -> ``[(shape, dtype), ...]``: the static shape/dtype rule,
  run when the op is created (``None`` dims allowed). Raise :class:`ShapeError` with a plain
  sentence; the registry adds the op's type, name and input shapes.
* ``forward(rt, *arrays, **attrs)`` -> array or tuple of arrays: computes the outputs by calling
  kernels on ``rt.be``, the active backend (see ``minitf/backends/base.py``). ``rt`` is the
  runtime (eager, or a Session's run) and also reads/writes variables for stateful ops.
* ``gradient(op, *output_grads)`` -> one gradient (or ``None``) per input, **written in minitf
  ops**, so a gradient is itself a graph that can be drawn and differentiated again.
  ``op`` has ``.inputs``, ``.outputs`` and ``.attrs``; an output nobody depends on gets
  ``None`` as its gradient. ``gradient=None`` marks an op as not differentiable.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import InvalidArgumentError
from .tensor_shape import TensorShape, fmt


class ShapeError(ValueError):
    """Raised by shape rules; turned into an InvalidArgumentError naming the op."""


@dataclass(frozen=True)
class OpDef:
    type: str
    infer: Callable[..., Sequence[tuple[Any, Any]]]
    forward: Callable[..., Any]
    gradient: Callable[..., Sequence[Any]] | None = None
    num_outputs: int = 1
    stateful: bool = False  # reads/writes state or draws random numbers: never cached/folded
    doc: str = ""

    def check(self, name: str, shapes: Sequence[Any], dtypes: Sequence[Any], attrs: dict) -> list:
        """Run the shape rule; on failure raise an error naming the op, its inputs and place."""
        if any(getattr(s, "_unknown_rank", False) for s in shapes):
            return self._check_unknown_rank(name, shapes, dtypes, attrs)
        try:
            out = self.infer(shapes, dtypes, attrs)
        except ShapeError as e:
            raise InvalidArgumentError(describe(self.type, name, shapes, dtypes, str(e))) from None
        return [(TensorShape(s), d) for s, d in out]

    def _check_unknown_rank(self, name: str, shapes: Sequence[Any], dtypes: Sequence[Any],
                            attrs: dict) -> list:
        """An input of unknown rank (``tf.placeholder(tf.float32)``): element-wise ops give an
        output of unknown shape (the kernels check the real shapes when the graph runs).

        minitf differs from TF: other ops need their inputs' rank, so they refuse such an input
        here rather than guess it (their attributes, e.g. reduction axes, are fixed now).
        """
        elementwise = (getattr(self, "kernel", None) is not None
                       or self.infer.__qualname__.startswith("_elementwise_infer")
                       or self.type in _RANK_FREE)
        if not elementwise:
            raise InvalidArgumentError(describe(
                self.type, name, shapes, dtypes,
                "needs the rank of its inputs, but one has unknown rank (a tf.placeholder "
                "made without a shape): give it a shape, e.g. tf.placeholder(tf.float32, "
                "[None, 3])"))
        as_scalar = [TensorShape(()) if getattr(s, "_unknown_rank", False) else s
                     for s in shapes]
        try:
            out = self.infer(as_scalar, dtypes, attrs)  # the output dtypes, and dtype errors
        except ShapeError as e:
            raise InvalidArgumentError(describe(self.type, name, shapes, dtypes, str(e))) from None
        return [(TensorShape(None), d) for _, d in out]


_RANK_FREE = frozenset({"Identity", "StopGradient", "Cast"})  # rank-free, not element-wise


def describe(op_type: str, name: str, shapes: Sequence[Any], dtypes: Sequence[Any], msg: str) -> str:
    """``MatMul 'dense/MatMul': inner dimensions differ: [32,784] @ [128,10]`` style text."""
    where = f"{op_type} '{name}'" if name and name != op_type else op_type
    if all(fmt(s) in msg for s in shapes):  # the message already shows every input shape
        return f"{where}: {msg}"
    ins = ", ".join(f"{fmt(s)} {getattr(d, 'name', d)}" for s, d in zip(shapes, dtypes))
    return f"{where}: {msg} (inputs: {ins})" if ins else f"{where}: {msg}"


_REGISTRY: dict[str, OpDef] = {}


def register(opdef: OpDef) -> OpDef:
    if opdef.type in _REGISTRY:
        raise KeyError(f"op {opdef.type!r} is registered twice")
    _REGISTRY[opdef.type] = opdef
    return opdef


def defop(
    op_type: str,
    infer: Callable[..., Sequence[tuple[Any, Any]]],
    forward: Callable[..., Any],
    gradient: Callable[..., Sequence[Any]] | None = None,
    *,
    num_outputs: int = 1,
    stateful: bool = False,
    doc: str = "",
) -> OpDef:
    """Define and register an op (see the module docstring for the three parts)."""
    return register(OpDef(op_type, infer, forward, gradient, num_outputs, stateful, doc))


def get(op_type: str) -> OpDef:
    try:
        return _REGISTRY[op_type]
    except KeyError:
        raise KeyError(f"no op named {op_type!r} is registered") from None


def all_ops() -> dict[str, OpDef]:
    """A copy of the registry: op type -> definition (tests are generated from it)."""
    return dict(_REGISTRY)
