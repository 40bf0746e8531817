"""Reverse-mode autodiff, shared by ``tf.gradients`` (graph) and ``tf.GradientTape`` (eager).

Both front ends hand :func:`backprop` a list of operations in the order they ran (a graph's
creation order, or the tape's recording order). It walks them backwards, asks each op's
registered ``gradient`` for its input gradients, and sums gradients that meet. Gradients are
computed *with minitf ops*, so in graph mode they become a backward subgraph and under an outer
tape they are recorded again: that is how second derivatives work.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import context as _ctx
from . import nest
from .api_export import tf_export
from .execute import convert_to_tensor, execute
from .graph import active_graph
from .tensor import EagerTensor, Tensor, is_symbolic


def _key(x: Any) -> int:
    return id(x)


def _differentiable(x: Any) -> bool:
    return x.dtype.is_differentiable


# The few ops autodiff itself needs, run by type through the registry (the framework does not
# import minitf.ops: the ops are defined on top of it).
def _add(a: Any, b: Any) -> Any:
    return execute("AddV2", [a, b])


def _ones_like(t: Any) -> Any:
    return execute("OnesLike", [convert_to_tensor(t)])


def _zeros_like(t: Any) -> Any:
    return execute("ZerosLike", [convert_to_tensor(t)])


def _reshape(t: Any, shape: Sequence[int]) -> Any:
    return execute("Reshape", [t], {"shape": tuple(int(d) for d in shape)})


def backprop(ops: Sequence[Any], seeds: list[tuple[Any, Any]], sources: Sequence[Any]) -> dict:
    """Gradients of the seeded targets with respect to ``sources``.

    ``ops``: operations in execution order (objects with ``opdef``, ``inputs``, ``outputs``).
    ``seeds``: ``(target, gradient)`` pairs. Returns ``{id(source): gradient}`` (absent = None).
    """
    # forward: which tensors depend on a source; backward: which ops lead to a target
    reach = {_key(s) for s in sources}
    on_path = []
    for op in ops:
        if any(_key(x) in reach for x in op.inputs):
            on_path.append(op)
            reach.update(_key(o) for o in op.outputs)
    wanted = {_key(t) for t, _ in seeds}
    relevant = []
    for op in reversed(on_path):
        if any(_key(o) in wanted for o in op.outputs):
            relevant.append(op)
            wanted.update(_key(x) for x in op.inputs)

    grads: dict[int, Any] = {}
    for t, g in seeds:
        k = _key(t)
        grads[k] = g if k not in grads else _add(grads[k], g)
    for op in relevant:  # already in reverse execution order
        out_grads = [grads.get(_key(o)) for o in op.outputs]
        if all(g is None for g in out_grads):
            continue
        if op.opdef.gradient is None:
            raise LookupError(
                f"No gradient defined for operation '{op.name}' (op type: {op.type}); it cannot "
                "be on the path between the target and the sources"
            )
        in_grads = op.opdef.gradient(op, *out_grads)
        for x, g in zip(op.inputs, in_grads):
            if g is None or _key(x) not in reach or not _differentiable(x):
                continue
            k = _key(x)
            grads[k] = g if k not in grads else _add(grads[k], g)
    return grads


# -- graph mode: tf.gradients ------------------------------------------------------------------------


@tf_export("gradients")
def gradients(ys: Any, xs: Any, grad_ys: Any = None, name: str = "gradients",
              unconnected_gradients: str = "none") -> list[Any]:
    """Symbolic gradients of ``sum(ys)`` with respect to each of ``xs`` (graph mode).

    Adds the backward ops to the graph under the name scope ``gradients/``; an ``x`` that
    ``ys`` does not depend on gets ``None`` (or zeros with ``unconnected_gradients='zero'``).
    """
    ys = list(ys) if isinstance(ys, list | tuple) else [ys]
    xs_list = list(xs) if isinstance(xs, list | tuple) else [xs]
    if grad_ys is not None:
        grad_ys = list(grad_ys) if isinstance(grad_ys, list | tuple) else [grad_ys]
    g = None
    for y in ys:
        if is_symbolic(y):
            g = y.graph
    if g is None:
        raise RuntimeError(
            "tf.gradients only works in graph mode (inside `with graph.as_default():`). "
            "In eager mode use tf.GradientTape."
        )
    sources = [x._graph_tensor(g) if hasattr(x, "_graph_tensor") else x for x in xs_list]
    with g.as_default(), g.name_scope(name):
        seeds = []
        for i, y in enumerate(ys):
            gy = grad_ys[i] if grad_ys is not None and grad_ys[i] is not None else None
            seeds.append((y, _ones_like(y) if gy is None else gy))
        grads = backprop(g._ops, seeds, sources)
        out = []
        for s in sources:
            gr = grads.get(_key(s))
            if gr is None and unconnected_gradients == "zero":
                # a constant when the shape is known, so an unused placeholder need not be fed
                gr = (convert_to_tensor(np.zeros(s.shape.as_list(), s.dtype.np), name="zeros")
                      if s.shape.is_fully_defined() else _zeros_like(s))
            out.append(gr)
    return out


# -- eager mode: GradientTape ---------------------------------------------------------------------------

@tf_export("GradientTape")
class GradientTape:
    """Records eager operations so that gradients can be computed afterwards.

    ``watch_accessed_variables=True`` (default) watches every trainable variable read inside
    the ``with`` block; ``tape.watch(t)`` watches a tensor. A non-persistent tape can compute
    one set of gradients; ``persistent=True`` allows several. Nest tapes for higher derivatives.
    """

    def __init__(self, persistent: bool = False, watch_accessed_variables: bool = True) -> None:
        self._persistent = persistent
        self._watch_accessed = watch_accessed_variables
        self._ops: list[Any] = []
        self._live: set[int] = set()  # ids of watched tensors/variables and their descendants
        self._keep: list[Any] = []  # keeps watched objects alive so their ids stay unique
        self._watched_vars: list[Any] = []
        self._recording = False
        self._used = False

    def __enter__(self) -> GradientTape:
        self._recording = True
        _ctx.local.tapes.append(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        self._recording = False
        tapes = _ctx.local.tapes
        if self in tapes:
            tapes.remove(self)

    def watch(self, tensor: Any) -> None:
        """Track ``tensor`` (or a variable, or a list of them) so gradients can flow to it."""
        for t in tensor if isinstance(tensor, list | tuple) else [tensor]:
            if hasattr(t, "_graph_tensor"):
                self._watch_var(t)
            elif isinstance(t, EagerTensor):
                self._live.add(_key(t))
                self._keep.append(t)
            else:
                raise TypeError(f"GradientTape.watch takes eager tensors or variables, got {t!r}")

    def _watch_var(self, v: Any) -> None:
        if _key(v) not in self._live:
            self._live.add(_key(v))
            self._keep.append(v)
            self._watched_vars.append(v)

    def _wants(self, inputs: list) -> bool:
        for x in inputs:
            if _key(x) in self._live:
                return True
            var = x if hasattr(x, "_graph_tensor") else _graph_variable(x)
            if var is not None and (_key(var) in self._live or (
                    self._watch_accessed and var.trainable)):
                self._watch_var(var)
                if var is not x:  # a graph tensor standing for the variable
                    self._live.add(_key(x))
                return True
        return False

    def watched_variables(self) -> tuple:
        return tuple(self._watched_vars)

    def stop_recording(self) -> Any:
        tape = self

        class _Pause:
            def __enter__(self_inner) -> None:
                tape._recording = False

            def __exit__(self_inner, *exc: Any) -> None:
                tape._recording = True

        return _Pause()

    def reset(self) -> None:
        self._ops.clear()
        self._live.clear()
        self._keep.clear()
        self._watched_vars.clear()

    def gradient(self, target: Any, sources: Any, output_gradients: Any = None,
                 unconnected_gradients: str = "none") -> Any:
        """d(sum of ``target``)/d(each source), shaped like ``sources`` (any ``tf.nest``
        structure of tensors and variables)."""
        if self._used and not self._persistent:
            raise RuntimeError(
                "A non-persistent GradientTape can only be used to compute one set of gradients "
                "(use tf.GradientTape(persistent=True) to call gradient() more than once)"
            )
        self._used = True
        targets = list(target) if isinstance(target, list | tuple) else [target]
        outs = output_gradients
        if outs is not None and not isinstance(outs, list | tuple):
            outs = [outs]
        flat_sources = nest.flatten(sources)
        for s in flat_sources:
            if not (isinstance(s, Tensor) or hasattr(s, "_graph_tensor")):
                raise TypeError(f"gradient sources must be tensors or variables, got {s!r}")
        was_recording = self._recording
        self._recording = False  # the gradient computation is not part of this tape
        try:
            seeds = []
            for i, t in enumerate(targets):
                if hasattr(t, "_graph_tensor"):
                    t = t._as_tensor()
                if is_symbolic(t) and active_graph() is None:
                    raise TypeError("GradientTape.gradient got a symbolic tensor outside its "
                                    "graph; use tf.gradients in graph mode")
                g = outs[i] if outs is not None and outs[i] is not None else _ones_like(t)
                seeds.append((t, g))
            keys = flat_sources
            g = active_graph()
            if g is not None:  # recorded while building a graph: variables are graph tensors
                keys = [s._graph_tensor(g) if hasattr(s, "_graph_tensor") else s
                        for s in flat_sources]
            grads = backprop(self._ops, seeds, keys)
            result = []
            for s in keys:
                gr = grads.get(_key(s))
                if gr is None and unconnected_gradients == "zero":
                    gr = _zeros_like(s)
                result.append(gr)
        finally:
            self._recording = was_recording
        if not self._persistent:
            self._ops = []
        return nest.pack_sequence_as(sources, result)

    def jacobian(self, target: Any, sources: Any) -> Any:
        """Full Jacobian d target[i...] / d source[j...] (computed row by row; small sizes only)."""
        t = target._as_tensor() if hasattr(target, "_graph_tensor") else target
        flat_t = _reshape(t, [-1])
        n = flat_t.shape[0]
        persistent, self._persistent = self._persistent, True
        rows = []
        try:
            for i in range(n):
                seed = execute("OneHot", [convert_to_tensor(i)],
                               {"depth": int(n), "on_value": 1, "off_value": 0, "axis": -1,
                                "dtype": t.dtype})
                seed = _reshape(seed, t.shape)
                self._used = False
                rows.append(self.gradient(t, sources, output_gradients=seed,
                                          unconnected_gradients="zero"))
        finally:
            self._persistent = persistent
        src = sources._as_tensor() if hasattr(sources, "_graph_tensor") else sources
        stacked = execute("Pack", [convert_to_tensor(r) for r in rows], {"axis": 0}, "stack")
        return _reshape(stacked, list(t.shape) + list(src.shape))


def _graph_variable(x: Any) -> Any:
    """The variable a graph tensor reads, if it is a ReadVariableOp output."""
    op = getattr(x, "op", None)
    return op.attrs["var"] if op is not None and op.type == "ReadVariableOp" else None
