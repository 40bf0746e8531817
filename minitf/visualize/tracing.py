"""Trace an eager-style Python function into a graph to draw it (:func:`trace`)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from ..framework.graph import Graph, Operation
from ..framework.tensor import EagerTensor, Tensor, is_symbolic
from .render import GraphDrawing, draw_graph
from .selection import leaves


class Traced:
    """A Python function traced into a graph: ``graph``, ``inputs`` (placeholders),
    ``outputs`` (the function's tensors, flattened), ``session`` and ``feed_dict`` (the example
    inputs), ready for ``draw_graph`` or ``GraphExplorer``."""

    def __init__(self, graph: Graph, inputs: list[Tensor], outputs: list[Any], session: Any,
                 feed_dict: dict) -> None:
        self.graph = graph
        self.inputs = inputs
        self.outputs = outputs
        self.session = session
        self.feed_dict = feed_dict

    def __repr__(self) -> str:
        return (f"<Traced: {len(self.graph.get_operations())} ops, inputs "
                f"{[t.name for t in self.inputs]}, outputs {[t.name for t in self.outputs]}>")


def _param_names(fn: Callable, n: int) -> list[str]:
    try:
        params = [p for p in inspect.signature(fn).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    names = [p.name for p in params[:n]]
    return names + [f"arg{i}" for i in range(len(names), n)]


def trace(fn: Callable, *example_inputs: Any) -> Traced:
    """Build ``fn(*example_inputs)`` into a fresh ``tf.Graph`` instead of running it eagerly.

    Tensor-like inputs (eager tensors, NumPy arrays, lists of numbers) become placeholders named
    after ``fn``'s parameters, with the examples' shapes and dtypes; other arguments (Python
    numbers, strings, None) are passed as they are. Eager ``tf.Variable``s the function uses are
    captured by reference. The returned :class:`Traced` has a session and a feed_dict holding
    the example inputs.
    """
    from ..framework.execute import convert_to_tensor
    from ..framework.function import init_scope
    from ..framework.session import Session
    from ..ops.array_ops import placeholder

    if not callable(fn):
        raise TypeError(f"trace needs a function, got {type(fn).__name__}")
    names = _param_names(fn, len(example_inputs))
    arrays: list[np.ndarray | None] = []
    for x in example_inputs:
        if isinstance(x, EagerTensor):
            arrays.append(x.numpy())
        elif isinstance(x, np.ndarray | np.generic) or (
                isinstance(x, list | tuple) and len(x) and not isinstance(x[0], str)):
            with init_scope():
                arrays.append(convert_to_tensor(x).numpy())
        elif is_symbolic(x):
            raise TypeError("trace takes example values (eager tensors or arrays), not graph "
                            f"tensors like {x.name!r}")
        else:
            arrays.append(None)
    g = Graph()
    inputs: list[Tensor] = []
    args: list[Any] = []
    with g.as_default():
        for name, x, arr in zip(names, example_inputs, arrays):
            if arr is None:
                args.append(x)
            else:
                p = placeholder(arr.dtype, arr.shape, name=name)
                inputs.append(p)
                args.append(p)
        result = fn(*args)
    outputs = [o for o in leaves(result) if is_symbolic(o) or isinstance(o, Operation)]
    if not outputs:
        raise ValueError("the traced function returned no tensors of its graph to draw")
    sess = Session(graph=g)
    variables = g.get_collection("variables")
    if variables:
        sess.run([v.initializer for v in variables if v.initializer is not None])
    feed = {p: a for p, a in zip(inputs, [a for a in arrays if a is not None])}
    return Traced(g, inputs, outputs, sess, feed)


def draw_function(fn: Callable, *example_inputs: Any, grads: bool = False,
                  show_values: bool = True, max_nodes: int | None = 80,
                  title: str | None = None) -> GraphDrawing:
    """Trace an eager-style function into a graph (see :func:`trace`) and draw it, with the
    values the example inputs give. ``grads=True`` also shows the gradient of the function's
    (first) output with respect to every node (summed, if the output is not a scalar)."""
    tr = trace(fn, *example_inputs)
    loss = None
    if grads:
        loss = next((t for t in tr.outputs if is_symbolic(t) and t.dtype.is_differentiable),
                    None)
        if loss is None:
            raise ValueError("grads=True needs a floating-point output to differentiate")
    name = getattr(fn, "__name__", None)
    return draw_graph(tr.outputs, session=tr.session, feed_dict=tr.feed_dict, grads_of=loss,
                      show_values=show_values, max_nodes=max_nodes,
                      title=title or (f"Traced {name}()" if name else None))
