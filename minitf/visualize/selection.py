"""What to draw: resolve draw_graph's fetches to a graph and pick the ops to show."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..framework import nest
from ..framework.graph import Graph, Operation
from ..framework.tensor import EagerTensor, Tensor, is_symbolic


def _eager_error(what: str) -> TypeError:
    return TypeError(
        f"draw_graph needs graph tensors, but got {what}. Eager tensors already hold their "
        "values and belong to no graph, so there is nothing to draw. Put the computation in a "
        "Python function and call tf.visualize.draw_function(fn, *example_inputs): it traces the "
        "function into a tf.Graph (placeholders of the inputs' shapes) and draws that."
    )


def _resolve(fetches: Any) -> tuple[Graph, list[Operation], list[Tensor], bool]:
    """(graph, root ops, fetched tensors, whole_graph) for draw_graph's first argument."""
    if isinstance(fetches, Graph):
        return fetches, [], [], True
    if hasattr(fetches, "_out_flat") and isinstance(getattr(fetches, "graph", None), Graph):
        fetches = [o for o in fetches._out_flat if isinstance(o, Tensor | Operation)]  # traced fn
    if callable(fetches) and not isinstance(fetches, Tensor | Operation) and not hasattr(
            fetches, "_graph_tensor"):
        raise TypeError(
            "draw_graph got a Python function; to draw a function, give example inputs: "
            "tf.visualize.draw_function(fn, *example_inputs)"
        )
    found = nest.flatten(fetches)
    if not found:
        raise ValueError("draw_graph needs at least one tensor, operation or a tf.Graph")
    graph: Graph | None = None

    def join(g: Graph, what: Any) -> None:
        nonlocal graph
        if graph is None:
            graph = g
        elif g is not graph:
            raise ValueError(f"{what!r} belongs to another graph than the other fetches")

    for x in found:
        if isinstance(x, EagerTensor):
            raise _eager_error("an eager tensor")
        if isinstance(x, Graph):
            join(x, x)
        elif is_symbolic(x) or isinstance(x, Operation):
            join(x.graph, x)
        elif hasattr(x, "_graph_tensor") and getattr(x, "_graph", None) is not None:
            join(x._graph, x)
    if graph is None:
        if any(hasattr(x, "_graph_tensor") for x in found):
            raise _eager_error("an eager tf.Variable")
        from ..framework.graph import get_default_graph

        graph = get_default_graph()
    if any(isinstance(x, Graph) for x in found):
        return graph, [], [], True
    roots: list[Operation] = []
    tensors: list[Tensor] = []
    for x in found:
        if isinstance(x, str):
            x = graph.get_tensor_by_name(x) if ":" in x else graph.get_operation_by_name(x)
        if hasattr(x, "_graph_tensor"):
            t = x._graph_tensors.get(id(graph))
            if t is None:
                raise _eager_error(f"the variable {x.name!r}, which this graph never reads")
            x = t
        if is_symbolic(x):
            tensors.append(x)
            roots.append(x.op)
        elif isinstance(x, Operation):
            roots.append(x)
        else:
            raise TypeError(
                f"draw_graph cannot draw {type(x).__name__} {x!r}: give graph tensors, "
                "operations, variables, their names, or a tf.Graph"
            )
    return graph, roots, tensors, False


def _ancestors(roots: Sequence[Operation]) -> dict[int, Operation]:
    seen: dict[int, Operation] = {}
    stack = list(roots)
    while stack:
        op = stack.pop()
        if id(op) in seen:
            continue
        seen[id(op)] = op
        stack.extend(t.op for t in op.inputs)
        stack.extend(op.control_inputs)
    return seen


def _select(graph: Graph, roots: list[Operation], whole: bool, max_nodes: int
            ) -> tuple[list[Operation], int]:
    """The ops to draw, in creation (= execution) order, and how many there were in all."""
    if whole:
        ops = graph.get_operations()
        used = {id(t.op) for op in ops for t in op.inputs} | {
            id(c) for op in ops for c in op.control_inputs}
        roots = [op for op in ops if id(op) not in used][::-1]
    else:
        ops = sorted(_ancestors(roots).values(), key=lambda o: o._id)
    total = len(ops)
    if max_nodes is None or total <= max_nodes:
        return ops, total
    # keep the ops nearest the fetches (breadth first, later-created first among equals)
    dist: dict[int, int] = {}
    frontier = sorted({id(r): r for r in roots}.values(), key=lambda o: -o._id)
    for r in frontier:
        dist[id(r)] = 0
    level = 0
    while frontier:
        level += 1
        nxt: dict[int, Operation] = {}
        for op in frontier:
            for p in [t.op for t in op.inputs] + list(op.control_inputs):
                if id(p) not in dist:
                    dist[id(p)] = level
                    nxt[id(p)] = p
        frontier = sorted(nxt.values(), key=lambda o: -o._id)
    ranked = sorted(ops, key=lambda o: (dist.get(id(o), level + 1), -o._id))
    keep = {id(o) for o in ranked[: max(int(max_nodes), 1)]}
    return [o for o in ops if id(o) in keep], total
