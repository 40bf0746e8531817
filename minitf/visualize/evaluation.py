"""Evaluate the drawn tensors (and d loss / d tensor) in one Session.run, changing no state."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..framework.graph import Graph, Operation
from ..framework.tensor import Tensor, is_symbolic
from .selection import _ancestors
from .style import _writes_state, is_backward
from .values import _Failed


def _resolve_feeds(graph: Graph, feed_dict: Mapping | None) -> set[int]:
    fed: set[int] = set()
    for k in (feed_dict or {}):
        if isinstance(k, str):
            k = graph.get_tensor_by_name(k)
        elif hasattr(k, "_graph_tensor"):
            k = k._graph_tensors.get(id(graph))
        if k is not None and is_symbolic(k):
            fed.add(id(k))
    return fed


def _runnable(graph: Graph, fed: set[int]) -> dict[int, str]:
    """For every op of ``graph``: "" if its outputs can be computed without side effects and
    with the given feeds, else a short reason."""
    why: dict[int, str] = {}
    for op in graph.get_operations():  # creation order is a topological order
        if op.type == "Placeholder":
            why[id(op)] = "" if id(op.outputs[0]) in fed else "not fed"
            continue
        if _writes_state(op):
            why[id(op)] = "writes state: not run"
            continue
        reason = ""
        for t in op.inputs:
            if id(t) not in fed and why.get(id(t.op), "not computed"):
                reason = "not computed"
                break
        for c in op.control_inputs:
            if why.get(id(c), "not computed"):
                reason = "not computed"
        why[id(op)] = reason
    return why


class _RandomStatePreserved:
    """Running random ops to show their values must not change what the program draws next."""

    def __enter__(self) -> None:
        try:
            from ..ops import random_ops

            st = random_ops._state
            self._state = st
            self._saved = (st["rng"], st["rng"].bit_generator.state,
                           {k: g.bit_generator.state for k, g in st["op_rngs"].items()})
        except (ImportError, AttributeError, KeyError, TypeError):
            self._state = None

    def __exit__(self, *exc: object) -> None:
        if self._state is None:
            return
        rng, state, ops = self._saved
        rng.bit_generator.state = state
        self._state["rng"] = rng
        op_rngs = self._state["op_rngs"]
        for k in list(op_rngs):
            if k in ops:
                op_rngs[k].bit_generator.state = ops[k]
            else:
                del op_rngs[k]


def _gradient_tensors(graph: Graph, loss: Tensor, tensors: list[Tensor]) -> dict[str, Tensor]:
    """d loss / d t for each tensor, built with tf.gradients once per (loss, tensor) pair."""
    from ..framework.backprop import gradients

    # the cache lives on the graph (the gradient ops do too), so it goes when the graph goes
    cache = graph.__dict__.setdefault("_visualize_gradients", {})
    missing = [t for t in tensors if (loss.name, t.name) not in cache]
    if missing:
        if graph.finalized:
            raise RuntimeError(
                "grads_of must add tf.gradients ops to the graph, but the graph is finalized; "
                "draw with grads_of before graph.finalize(), or without grads_of"
            )
        grads = gradients(loss, missing)
        for t, g in zip(missing, grads):
            cache[(loss.name, t.name)] = g
    return {t.name: cache[(loss.name, t.name)] for t in tensors
            if cache[(loss.name, t.name)] is not None}


def _as_loss(graph: Graph, grads_of: Any) -> Tensor:
    if isinstance(grads_of, str):
        grads_of = graph.get_tensor_by_name(grads_of)
    if hasattr(grads_of, "_graph_tensor"):
        grads_of = grads_of._graph_tensors.get(id(graph))
    if isinstance(grads_of, Operation) and len(grads_of.outputs) == 1:
        grads_of = grads_of.outputs[0]
    if not is_symbolic(grads_of) or grads_of.graph is not graph:
        raise ValueError("grads_of must be a tensor of the drawn graph (e.g. the loss)")
    if not grads_of.dtype.is_differentiable:
        raise ValueError(f"grads_of={grads_of.name!r} is {grads_of.dtype.name}: it must be a "
                         "floating-point tensor")
    return grads_of


def _evaluate(graph: Graph, ops: list[Operation], session: Any, feed_dict: Mapping | None,
              grads_of: Any) -> tuple[dict, dict, dict, str | None]:
    """Run the drawn tensors (and their gradients) once.

    Returns ({op name: [values per output]}, {op name: gradient of output 0},
    {op name: reason it was not run}, loss name).
    """
    if session is None:
        raise ValueError("values need a session: draw_graph(fetches, session=sess, ...)")
    if getattr(session, "graph", graph) is not graph:
        raise ValueError("the session runs another graph than the one drawn")
    if getattr(session, "_closed", False):
        raise RuntimeError(
            "the session is closed: draw inside the `with tf.Session() as sess:` block, or keep "
            "one open with sess = tf.Session(graph=g)"
        )
    loss = _as_loss(graph, grads_of) if grads_of is not None else None
    grad_t: dict[str, Tensor] = {}
    if loss is not None:
        on_path = _ancestors([loss.op])
        sources = [op.outputs[0] for op in ops
                   if id(op) in on_path and op.outputs and not is_backward(op)
                   and not _writes_state(op) and op.outputs[0].dtype.is_differentiable]
        if sources:
            grad_t = _gradient_tensors(graph, loss, sources)
    why = _runnable(graph, _resolve_feeds(graph, feed_dict))
    fetch: list[tuple[str, int | None, Tensor]] = []
    for op in ops:
        if why.get(id(op)):
            continue
        for i, t in enumerate(op.outputs):
            fetch.append((op.name, i, t))
        g = grad_t.get(op.outputs[0].name) if op.outputs else None
        if g is not None and not why.get(id(g.op), "x"):
            fetch.append((op.name, None, g))
    results: list[Any] = []
    with _RandomStatePreserved():
        try:
            results = list(session.run([t for _, _, t in fetch], feed_dict)) if fetch else []
        except Exception:  # noqa: BLE001 - find which tensors fail, run the others
            for _, _, t in fetch:
                try:
                    results.append(session.run(t, feed_dict))
                except Exception as e:  # noqa: BLE001
                    results.append(_Failed(type(e).__name__))
    values: dict[str, list[Any]] = {}
    grads: dict[str, Any] = {}
    for (name, i, _), v in zip(fetch, results):
        if i is None:
            grads[name] = v
        else:
            values.setdefault(name, []).append(v)
    reasons = {op.name: why.get(id(op), "") for op in ops if why.get(id(op))}
    return values, grads, reasons, (loss.name if loss is not None else None)
