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

from .graph import active_graph
from .tensor import EagerTensor, Tensor, is_symbolic


def _key(x: Any) -> int:
    return id(x)


def _differentiable(x: Any) -> bool:
    return x.dtype.is_differentiable


def backprop(ops: Sequence[Any], seeds: list[tuple[Any, Any]], sources: Sequence[Any]) -> dict:
    """Gradients of the seeded targets with respect to ``sources``.

    ``ops``: operations in execution order (objects with ``opdef``, ``inputs``, ``outputs``).
    ``seeds``: ``(target, gradient)`` pairs. Returns ``{id(source): gradient}`` (absent = None).
    """
    from ..ops import math_ops  # local: the ops package imports the framework

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
        grads[k] = g if k not in grads else math_ops.add(grads[k], g)
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
            grads[k] = g if k not in grads else math_ops.add(grads[k], g)
    return grads


# -- graph mode: tf.gradients ------------------------------------------------------------------------


def gradients(ys: Any, xs: Any, grad_ys: Any = None, name: str = "gradients",
              unconnected_gradients: str = "none") -> list[Any]:
    """Symbolic gradients of ``sum(ys)`` with respect to each of ``xs`` (graph mode).

    Adds the backward ops to the graph under the name scope ``gradients/``; an ``x`` that
    ``ys`` does not depend on gets ``None`` (or zeros with ``unconnected_gradients='zero'``).
    """
    from ..ops import array_ops

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
            seeds.append((y, array_ops.ones_like(y) if gy is None else gy))
        grads = backprop(g._ops, seeds, sources)
        out = []
        for s in sources:
            gr = grads.get(_key(s))
            if gr is None and unconnected_gradients == "zero":
                # a constant when the shape is known, so an unused placeholder need not be fed
                gr = (array_ops.zeros(list(s.shape), s.dtype) if s.shape.is_fully_defined()
                      else array_ops.zeros_like(s))
            out.append(gr)
    return out


# -- eager mode: GradientTape ---------------------------------------------------------------------------

_active_tapes: list[GradientTape] = []


def record(opdef: Any, inputs: list, outputs: list, attrs: dict, graph_op: Any = None) -> None:
    """Called after every op (run eagerly, or added to a graph while a tape is active):
    tapes that watch an input keep the op."""
    if not _active_tapes:
        return
    from .execute import EagerOp

    if opdef.type == "ReadVariableOp" and graph_op is None:
        inputs = [attrs["var"]]  # an eager read connects the variable itself to its value
    entry = graph_op
    for tape in _active_tapes:
        if tape._recording and tape._wants(inputs):
            if entry is None:
                entry = EagerOp(opdef, inputs, outputs, attrs)
            tape._ops.append(entry)
            tape._live.update(_key(o) for o in outputs)


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
        _active_tapes.append(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        self._recording = False
        if self in _active_tapes:
            _active_tapes.remove(self)

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
        """d(sum of ``target``)/d(each source), shaped like ``sources`` (nested lists/dicts)."""
        from ..ops import array_ops

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
        flat_sources: list[Any] = []
        structure = _flatten_sources(sources, flat_sources)
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
                g = outs[i] if outs is not None and outs[i] is not None else array_ops.ones_like(t)
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
                    gr = array_ops.zeros_like(s)
                result.append(gr)
        finally:
            self._recording = was_recording
        if not self._persistent:
            self._ops = []
        it = iter(result)
        return _rebuild_sources(structure, it)

    def jacobian(self, target: Any, sources: Any) -> Any:
        """Full Jacobian d target[i...] / d source[j...] (computed row by row; small sizes only)."""
        from ..ops import array_ops

        t = target._as_tensor() if hasattr(target, "_graph_tensor") else target
        flat_t = array_ops.reshape(t, [-1])
        n = flat_t.shape[0]
        persistent, self._persistent = self._persistent, True
        rows = []
        try:
            for i in range(n):
                seed = array_ops.one_hot(i, n, dtype=t.dtype)
                seed = array_ops.reshape(seed, t.shape)
                self._used = False
                rows.append(self.gradient(t, sources, output_gradients=seed,
                                          unconnected_gradients="zero"))
        finally:
            self._persistent = persistent
        src = sources._as_tensor() if hasattr(sources, "_graph_tensor") else sources
        stacked = array_ops.stack(rows)
        return array_ops.reshape(stacked, list(t.shape) + list(src.shape))


def _graph_variable(x: Any) -> Any:
    """The variable a graph tensor reads, if it is a ReadVariableOp output."""
    op = getattr(x, "op", None)
    return op.attrs["var"] if op is not None and op.type == "ReadVariableOp" else None


def _flatten_sources(sources: Any, flat: list) -> Any:
    if isinstance(sources, dict):
        return (dict, [(k, _flatten_sources(v, flat)) for k, v in sources.items()])
    if isinstance(sources, list | tuple):
        return (type(sources), [_flatten_sources(v, flat) for v in sources])
    if not (isinstance(sources, Tensor) or hasattr(sources, "_graph_tensor")):
        raise TypeError(f"gradient sources must be tensors or variables, got {sources!r}")
    flat.append(sources)
    return None


def _rebuild_sources(structure: Any, it: Any) -> Any:
    if structure is None:
        return next(it)
    kind, items = structure
    if kind is dict:
        return {k: _rebuild_sources(s, it) for k, s in items}
    return kind(_rebuild_sources(s, it) for s in items)
