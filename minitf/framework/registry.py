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

The definition also carries what the rest of minitf derives from it (keyword arguments of
:func:`defop`, all optional):

* ``kernel``: the ``kernel_table`` entry of an element-wise op (its forward calls
  ``rt.be.unary``/``binary`` with that name), a conversion kernel for complex <-> real ops;
* ``device``: where it may run: ``"host"`` (the CPU only, the default), ``"kernels"`` (its
  forward uses nothing but backend kernels and reshapes, so it runs unchanged on device
  arrays) or ``"forward"`` (it has a device version of its forward in
  ``backends/cuda/placement.py``); ``device_inputs=n`` moves only the first ``n`` inputs to
  the device (the rest, scalar hyper-parameters read with ``float()``, stay on the host);
  an element-wise op runs on the host for complex operands when its kernel has no CUDA
  complex form (``kernel_table.NO_CUDA_COMPLEX``);
* ``api``: its public names, e.g. ``("sigmoid", "math.sigmoid", "nn.sigmoid")`` for
  ``tf.sigmoid``, ``tf.math.sigmoid``, ``tf.nn.sigmoid``. The function bound to them is the
  one decorated with :func:`op_export`; public functions that are not one op (composites
  such as ``tf.clip_by_value``) declare their names with :func:`tf_export`, as classes
  such as ``tf.Session`` do (``api_export.py``: one table for ops, framework and Keras). The
  namespace modules (``minitf/__init__.py``, ``math.py``, ``nn.py``, ...) are filled from
  :func:`exports`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .api_export import F, exports, lookup, tf_export, unexport  # noqa: F401 - exports, lookup: re-exported
from .errors import InvalidArgumentError
from .tensor_shape import TensorShape, fmt

DEVICE_KINDS = ("host", "kernels", "forward")
"""``OpDef.device`` values: CPU only; forward runs unchanged on device arrays; a device forward."""


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
    kernel: str | None = None  # element-wise: the kernel_table name its forward calls
    device: str = "host"  # "host", "kernels" or "forward" (see the module docstring)
    device_inputs: int | None = None  # on a device: how many leading inputs go there
    api: tuple[str, ...] = ()  # public names: "sigmoid", "math.sigmoid", ...

    def __post_init__(self) -> None:
        if self.device not in DEVICE_KINDS:
            raise ValueError(f"op {self.type!r}: device must be one of {DEVICE_KINDS}, "
                             f"not {self.device!r}")

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
    kernel: str | None = None,
    device: str = "host",
    device_inputs: int | None = None,
    api: Sequence[str] = (),
) -> OpDef:
    """Define and register an op (see the module docstring for the parts and the metadata)."""
    return register(OpDef(op_type, infer, forward, gradient, num_outputs, stateful, doc,
                          kernel, device, device_inputs, tuple(api)))


def get(op_type: str) -> OpDef:
    try:
        return _REGISTRY[op_type]
    except KeyError:
        raise KeyError(f"no op named {op_type!r} is registered") from None


def all_ops() -> dict[str, OpDef]:
    """A copy of the registry: op type -> definition (tests are generated from it)."""
    return dict(_REGISTRY)


def device_ops(kind: str) -> frozenset[str]:
    """The types of the registered ops whose ``device`` is ``kind``."""
    return frozenset(t for t, d in _REGISTRY.items() if d.device == kind)


# -- public names (declared through api_export: the same table as classes and Keras) ---------


def op_export(op_type: str, *aliases: str) -> Callable[[F], F]:
    """Bind the public function of op ``op_type`` to the names in its ``api`` (plus
    ``aliases``, names that are not the op's own, e.g. TF1 spellings)."""
    return tf_export(*get(op_type).api, *aliases)


def unregister(op_type: str) -> None:
    """Remove an op and the public names bound to it (for tests that add throw-away ops)."""
    unexport(*_REGISTRY.pop(op_type).api)
