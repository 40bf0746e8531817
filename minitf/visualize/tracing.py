"""Trace an eager-style Python function into a graph to draw it (:func:`trace`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..framework.graph import Graph
from ..framework.tensor import EagerTensor, Tensor, is_symbolic
from .render import GraphDrawing, draw_graph


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


def trace(fn: Callable, *example_inputs: Any) -> Traced:
    """Build ``fn(*example_inputs)`` into a fresh ``tf.Graph`` instead of running it eagerly.

    Tensor-like inputs (eager tensors, NumPy arrays, lists of numbers) become placeholders named
    after ``fn``'s parameters, with the examples' shapes and dtypes; other arguments (Python
    numbers, strings, None) are passed as they are. Eager ``tf.Variable``s the function uses are
    captured by reference. The returned :class:`Traced` has a session and a feed_dict holding
    the example inputs.
    """
    from ..framework.execute import convert_to_tensor
    from ..framework.function import function, init_scope
    from ..framework.session import Session

    if not callable(fn):
        raise TypeError(f"trace needs a function, got {type(fn).__name__}")
    args: list[Any] = []
    for x in example_inputs:
        if isinstance(x, EagerTensor):
            args.append(x.numpy())
        elif isinstance(x, np.ndarray | np.generic) or (
                isinstance(x, list | tuple) and len(x) and not isinstance(x[0], str)):
            with init_scope():
                args.append(convert_to_tensor(x).numpy())
        elif is_symbolic(x):
            raise TypeError("trace takes example values (eager tensors or arrays), not graph "
                            f"tensors like {x.name!r}")
        else:
            args.append(x)
    cf = function(fn).get_concrete_function(*args)
    outputs = cf.outputs
    if not outputs:
        raise ValueError("the traced function returned no tensors of its graph to draw")
    feed = dict(zip(cf.inputs, [a for a in args if isinstance(a, np.ndarray)]))
    return Traced(cf.graph, cf.inputs, outputs, Session(graph=cf.graph), feed)


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
