"""A ``tf.function`` call as one op on the tape, so that a tape outside it can differentiate it.

TensorFlow records an eager call of a traced function on the active tapes as a single
``StatefulPartitionedCall`` op; its gradient is another traced function, the backward graph
of the forward one. minitf does the same:

* :class:`GraphFunction` is a graph with fed inputs and fetched outputs, run by a Session: a
  function of its inputs and of the variables the graph reads (its *captures*).
* :func:`call` runs one and records the call on the tapes that watch an input or a variable
  (variables count as inputs of the op, after the tensors).
* The op's gradient runs :meth:`GraphFunction.backward`: ``tf.gradients`` of the outputs with
  respect to the inputs and variables, built once into the *same* graph with one placeholder
  per output gradient. That backward function is called with :func:`call` too, so outer tapes
  record it and second derivatives work (its own backward is built the same way).

Where minitf differs from TF: the backward run recomputes the forward part it needs (TF keeps
the forward's intermediate values), and it reads the variables' values at gradient time.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from . import context as _ctx
from .backprop import gradients
from .execute import convert_to_tensor, execute
from .graph import Graph
from .registry import defop
from .tape import EagerOp
from .tensor import EagerTensor, Tensor

__all__ = ["GraphFunction", "call", "no_tapes"]


class GraphFunction:
    """Graph tensors ``inputs`` (fed) -> ``outputs`` (fetched), reading ``variables``."""

    def __init__(self, graph: Graph, inputs: Sequence[Tensor], outputs: Sequence[Tensor],
                 session: Any, variables: Sequence[Any] | None = None) -> None:
        self.graph = graph
        self.inputs = list(inputs)
        self.outputs = list(outputs)
        self.session = session
        if variables is None:  # every variable the graph reads, once, in graph order
            seen: dict[int, Any] = {}
            for op in graph.get_operations():
                if op.type == "ReadVariableOp":
                    seen.setdefault(id(op.attrs["var"]), op.attrs["var"])
            variables = list(seen.values())
        self.variables = list(variables)
        # seeded outputs -> (backward function, the op inputs it gives gradients for)
        self._backward: dict[tuple[int, ...], tuple[GraphFunction, list[int]]] = {}

    def run(self, arrays: Sequence[np.ndarray]) -> list[np.ndarray]:
        return self.session.run(self.outputs, dict(zip(self.inputs, arrays)))

    def backward(self, seeded: tuple[int, ...]) -> tuple[GraphFunction, list[int]]:
        """The function (inputs..., gradients of the ``seeded`` outputs...) -> the gradients
        of the inputs and variables those outputs depend on, and where they go among the
        inputs and variables. Built once per ``seeded`` into this graph, so an input that
        only the unseeded outputs depend on gets None, as when the body runs eagerly."""
        hit = self._backward.get(seeded)
        if hit is None:
            g = self.graph
            with no_tapes(), g.as_default(), g.name_scope("backward"):
                dys = [execute("Placeholder", [], {"shape": self.outputs[i].shape,
                                                   "dtype": self.outputs[i].dtype},
                               name="grad_y") for i in seeded]
                grads = gradients([self.outputs[i] for i in seeded],
                                  self.inputs + self.variables, grad_ys=dys)
            slots = [k for k, gr in enumerate(grads) if gr is not None]
            bw = GraphFunction(g, self.inputs + dys, [grads[k] for k in slots], self.session,
                               self.variables)
            hit = self._backward[seeded] = (bw, slots)
        return hit


@contextlib.contextmanager
def no_tapes() -> Iterator[None]:
    """Hide this thread's tapes: ops built here (a traced graph) are not on any outer tape,
    as TF's FuncGraph keeps its ops off the tapes of the caller."""
    saved = _ctx.local.tapes
    _ctx.local.tapes = []
    try:
        yield
    finally:
        _ctx.local.tapes = saved


def call(fn: GraphFunction, inputs: Sequence[Any]) -> list[EagerTensor]:
    """Run ``fn`` eagerly on ``inputs`` and record it on the watching tapes as one op."""
    tensors = [x if isinstance(x, EagerTensor) else convert_to_tensor(x) for x in inputs]
    values = fn.run([t._value for t in tensors])
    outs = [EagerTensor(np.asarray(v), o.dtype) for v, o in zip(values, fn.outputs)]
    record_call(fn, tensors, outs)
    return outs


def record_call(fn: GraphFunction, tensors: Sequence[EagerTensor],
                outs: Sequence[EagerTensor]) -> None:
    """Put the call of ``fn`` (already run: ``tensors`` -> ``outs``) on the watching tapes."""
    tapes = _ctx.local.tapes
    if not tapes or not outs:
        return
    inputs = [*tensors, *fn.variables]
    n = len(tensors)
    for tape in tapes:
        # each input asked on its own: every trainable variable the function reads is
        # watched, as when its body runs eagerly
        if tape._recording and any([tape._wants([x]) for x in inputs]):
            # a variable this tape does not watch is no input of its op (no gradient to it)
            ins = inputs[:n] + [v if id(v) in tape._live else _UNWATCHED for v in inputs[n:]]
            tape._ops.append(EagerOp(_CALL, ins, list(outs), {"f": fn}))
            tape._live.update(id(o) for o in outs)


_UNWATCHED = object()  # stands for an unwatched variable among a recorded call's inputs


def _infer(shapes: list, dtypes: list, attrs: dict) -> list:
    return [(o.shape, o.dtype) for o in attrs["f"].outputs]


def _forward(rt: Any, *arrays: Any, f: GraphFunction) -> Any:
    # its number of outputs is the function's: only call() runs it, never execute()
    raise NotImplementedError("StatefulPartitionedCall is run by tf.function calls "
                              "(framework/function_call.call), not by execute()")


def _gradient(op: Any, *dys: Any) -> list:
    f: GraphFunction = op.attrs["f"]
    result: list[Any] = [None] * len(op.inputs)
    seeded = tuple(i for i, dy in enumerate(dys)
                   if dy is not None and f.outputs[i].dtype.is_differentiable)
    if not seeded:  # only integer outputs are seeded: no gradient, as in TF
        return result
    bw, slots = f.backward(seeded)
    if bw.outputs:
        n = len(f.inputs)
        for k, g in zip(slots, call(bw, [*op.inputs[:n], *[dys[i] for i in seeded]])):
            result[k] = g
    return result


_CALL = defop(
    "StatefulPartitionedCall", _infer, _forward, _gradient, stateful=True,
    doc="A call of a traced function (attr ``f``, a GraphFunction), recorded as one op on "
        "the tape; its gradient calls the function's backward graph.",
)
