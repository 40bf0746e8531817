"""``tf.visualize``: draw computation graphs, with values and gradients, inside a notebook.

Three entry points:

* :func:`draw_graph` draws the operations that some fetches depend on (or a whole
  ``tf.Graph``) as an SVG picture. Give it a ``session`` (and ``feed_dict``) and every node
  also shows the value it computes; give it ``grads_of=loss`` as well and every forward node
  shows d loss / d (its output).
* :func:`draw_function` does the same for a plain Python function written for eager mode: the
  function is *traced* into a fresh ``tf.Graph`` (its tensor arguments become placeholders of the
  example inputs' shapes) and that graph is drawn, with the example inputs' values;
  :func:`trace` alone returns that graph, its placeholders, a session and a feed_dict.
* :func:`GraphExplorer` is an ipywidgets widget that steps through the graph in execution order,
  highlighting the current node and showing its inputs, value and gradient.

The drawing is pure Python (no graphviz). The layout is a small Sugiyama-style layered layout:

1. *layering*: every op gets the length of the longest path from a graph input (sources are then
   moved down next to their first consumer, so constants sit just above where they are used);
2. edges that skip layers get invisible "dummy" points in each layer they cross;
3. *ordering*: each layer is sorted by the barycentre (mean position) of its neighbours in the
   layer above, then below, a few times (an op's inputs keep their left-to-right order); the
   ordering with the fewest edge crossings wins;
4. *coordinates*: each node is pulled towards the mean x of its neighbours, keeping the order
   and a minimum gap (a small isotonic regression per layer); long edges are then straightened
   into vertical lines where their neighbours leave room.

Everything is deterministic (creation order breaks ties, numbers are rounded), so the same graph
always gives byte-identical SVG and notebooks stay reproducible.
"""

from __future__ import annotations

import html
import inspect
import re
from collections.abc import Callable, Mapping, Sequence
from itertools import pairwise
from typing import Any

import numpy as np

from .framework.graph import Graph, Operation
from .framework.tensor import EagerTensor, Tensor, is_symbolic

__all__ = ["GraphDrawing", "GraphExplorer", "Traced", "draw_function", "draw_graph", "is_backward",
           "summarize", "trace"]

# -- node kinds and styles -----------------------------------------------------------------------

_READ_OR_RANDOM = {"ReadVariableOp", "RandomStandardNormal", "TruncatedNormal", "RandomUniform",
                   "RandomUniformLike"}

#: kind -> (fill, stroke, legend label)
_STYLES = {
    "placeholder": ("#fff4d6", "#c98a00", "placeholder (fed)"),
    "variable": ("#e3f4e1", "#3c8d40", "variable"),
    "constant": ("#eeeeee", "#777777", "constant"),
    "op": ("#e1ecfb", "#3f6fb5", "operation"),
    "update": ("#efe3f7", "#7b3fa0", "state update"),
}
_BACKWARD = ("#fde3e1", "#c0392b", "backward (gradients/)")
_HIGHLIGHT = "#e67e00"
_GRAD_COLOUR = "#a93226"

_FONT = "DejaVu Sans Mono, Menlo, Consolas, monospace"
_CHAR_W = 6.7  # width of one character of the 11px monospace font
_LINE_H = 14.0
_PAD_X = 10.0
_PAD_Y = 7.0
_MIN_W = 96.0
_MAX_CHARS = 40
_H_GAP = 24.0  # horizontal gap between nodes
_V_GAP = 46.0  # vertical gap between layers
_DUMMY_GAP = 10.0
_MARGIN = 16.0

_GRAD_SCOPE = re.compile(r"^gradients(_\d+)?$")


def _kind(op: Operation) -> str:
    if op.type == "Placeholder":
        return "placeholder"
    if op.type == "ReadVariableOp":
        return "variable"
    if op.type == "Const":
        return "constant"
    if _writes_state(op):
        return "update"
    return "op"


def _writes_state(op: Operation) -> bool:
    """Ops with side effects (assignments, optimizer updates): never run by the visualizer."""
    return bool(getattr(op.opdef, "stateful", False)) and op.type not in _READ_OR_RANDOM


def is_backward(op: Operation) -> bool:
    """True for ops that ``tf.gradients`` added (their name has a ``gradients/`` scope)."""
    return any(_GRAD_SCOPE.match(part) for part in op.name.split("/")[:-1])


# -- collecting what to draw -------------------------------------------------------------------------


def _flatten(x: Any, out: list) -> None:
    if isinstance(x, Mapping):
        for v in x.values():
            _flatten(v, out)
    elif isinstance(x, list | tuple):
        for v in x:
            _flatten(v, out)
    else:
        out.append(x)


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
    leaves: list[Any] = []
    _flatten(fetches, leaves)
    if not leaves:
        raise ValueError("draw_graph needs at least one tensor, operation or a tf.Graph")
    graph: Graph | None = None

    def join(g: Graph, what: Any) -> None:
        nonlocal graph
        if graph is None:
            graph = g
        elif g is not graph:
            raise ValueError(f"{what!r} belongs to another graph than the other fetches")

    for x in leaves:
        if isinstance(x, EagerTensor):
            raise _eager_error("an eager tensor")
        if isinstance(x, Graph):
            join(x, x)
        elif is_symbolic(x) or isinstance(x, Operation):
            join(x.graph, x)
        elif hasattr(x, "_graph_tensor") and getattr(x, "_graph", None) is not None:
            join(x._graph, x)
    if graph is None:
        if any(hasattr(x, "_graph_tensor") for x in leaves):
            raise _eager_error("an eager tf.Variable")
        from .framework.graph import get_default_graph

        graph = get_default_graph()
    if any(isinstance(x, Graph) for x in leaves):
        return graph, [], [], True
    roots: list[Operation] = []
    tensors: list[Tensor] = []
    for x in leaves:
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


# -- values and gradients -------------------------------------------------------------------------------


def _fmt_num(v: Any) -> str:
    if isinstance(v, bool | np.bool_):
        return str(bool(v))
    if isinstance(v, int | np.integer):
        return str(int(v))
    if isinstance(v, complex | np.complexfloating):
        return f"{complex(v):.3g}"
    f = float(v)
    if f == 0.0:
        return "0"
    if f == int(f) and abs(f) < 1e6:
        return str(int(f))
    return f"{f:.4g}"


def _fmt_shape(shape: Sequence[Any]) -> str:
    if len(shape) == 0:
        return "scalar"
    return "(" + ", ".join("?" if d is None else str(d) for d in shape) + ")"


def summarize(value: Any) -> list[str]:
    """One or two short lines describing an array: its value if tiny, else shape and stats."""
    if value is None:
        return ["(no value)"]
    a = np.asarray(value)
    if a.ndim == 0:
        return [_fmt_num(a.item())]
    if a.size == 0:
        return [f"empty {_fmt_shape(a.shape)}"]
    if a.ndim == 1 and a.size <= 4:
        return ["[" + ", ".join(_fmt_num(v) for v in a.tolist()) + "]"]
    if a.dtype.kind == "b":
        return [f"{_fmt_shape(a.shape)} {int(a.sum())} True"]
    if a.dtype.kind == "c":
        return [f"{_fmt_shape(a.shape)} complex"]
    with np.errstate(all="ignore"):
        mean = a.mean(dtype=np.float64)
    return [f"{_fmt_shape(a.shape)} mean {_fmt_num(mean)}",
            f"min {_fmt_num(a.min())}, max {_fmt_num(a.max())}"]


def _detail(value: Any) -> str:
    """A multi-line text of an array for the explorer's panel."""
    a = np.asarray(value)
    text = np.array2string(a, precision=4, suppress_small=True, threshold=24, edgeitems=3,
                           max_line_width=72)
    if a.ndim > 0:
        text = f"shape {_fmt_shape(a.shape)}, {a.dtype.name}\n{text}"
    return text


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
            from .ops import random_ops

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
    from .framework.backprop import gradients

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


class _Failed:
    def __init__(self, error: str) -> None:
        self.error = error


# -- layout ------------------------------------------------------------------------------------------


class _Node:
    __slots__ = ("backward", "dummy", "fetched", "h", "index", "kind", "layer", "lines", "op",
                 "w", "x", "y")

    def __init__(self) -> None:
        self.op: Operation | None = None
        self.dummy = False
        self.layer = 0
        self.x = 0.0
        self.y = 0.0
        self.w = 0.0
        self.h = 0.0


def _clip(text: str, n: int = _MAX_CHARS) -> str:
    if len(text) <= n:
        return text
    head = (n - 1) // 2
    return text[:head] + "…" + text[len(text) - (n - 1 - head):]


def _node_lines(op: Operation, values: dict | None, grads: dict, reasons: dict,
                hidden: int) -> list[tuple[str, str]]:
    """(style, text) lines: style is one of name/type/spec/value/grad/note."""
    lines = [("name", op.name), ("type", op.type)]
    if not op.outputs:
        lines.append(("spec", "no outputs"))
    else:
        t = op.outputs[0]
        spec = f"{t.dtype.name} {_fmt_shape(t.shape)}"
        if len(op.outputs) > 1:
            spec += f" (+{len(op.outputs) - 1} outputs)"
        lines.append(("spec", spec))
    if values is not None:
        if op.name in reasons:
            lines.append(("note", f"({reasons[op.name]})"))
        elif op.outputs and op.name in values:
            v = values[op.name][0]
            if isinstance(v, _Failed):
                lines.append(("note", f"(error: {v.error})"))
            else:
                s = summarize(v)
                lines.append(("value", "= " + s[0]))
                lines.extend(("value", "  " + x) for x in s[1:])
        if op.name in grads:
            g = grads[op.name]
            if isinstance(g, _Failed):
                lines.append(("note", f"(grad error: {g.error})"))
            else:
                s = summarize(g)
                lines.append(("grad", "grad " + s[0]))
                lines.extend(("grad", "     " + x) for x in s[1:])
    if hidden:
        lines.append(("note", f"+{hidden} input{'s' if hidden > 1 else ''} not drawn"))
    return [(k, _clip(v)) for k, v in lines]


def _isotonic(desired: list[float], weights: list[float], gaps: list[float]) -> list[float]:
    """x minimising sum w_i (x_i - desired_i)^2 with x_{i+1} - x_i >= gaps[i] (pool adjacent
    violators on x_i - offset_i)."""
    offs = [0.0]
    for g in gaps:
        offs.append(offs[-1] + g)
    target = [d - o for d, o in zip(desired, offs)]
    blocks: list[list[float]] = []  # [weighted mean, total weight, count]
    for t, w in zip(target, weights):
        blocks.append([t, w, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, w2, c2 = blocks.pop()
            m1, w1, c1 = blocks.pop()
            blocks.append([(m1 * w1 + m2 * w2) / (w1 + w2), w1 + w2, c1 + c2])
    out: list[float] = []
    for m, _, c in blocks:
        out.extend([m] * c)
    return [y + o for y, o in zip(out, offs)]


def _crossings(layers: list[list[_Node]], down: dict[int, list[tuple[int, float]]],
               pos: dict[int, int]) -> int:
    """Edge crossings between neighbouring layers; an edge's end is offset by its input slot,
    so two inputs of one op that arrive swapped count as a crossing too."""
    total = 0
    for layer in layers[:-1]:
        pairs = sorted((pos[id(u)], pos[v] + off) for u in layer
                       for v, off in down.get(id(u), []))
        for i in range(len(pairs)):
            a0, b0 = pairs[i]
            for j in range(i + 1, len(pairs)):
                a1, b1 = pairs[j]
                if a1 > a0 and b1 < b0:
                    total += 1
    return total


class _Layout:
    def __init__(self, ops: list[Operation], texts: dict[str, list[tuple[str, str]]],
                 fetched: set[str]) -> None:
        self.nodes: list[_Node] = []
        by_id: dict[int, _Node] = {}
        for i, op in enumerate(ops):
            n = _Node()
            n.op, n.index, n.kind, n.backward = op, i, _kind(op), is_backward(op)
            n.fetched = op.name in fetched
            n.lines = texts[op.name]
            n.w = max(_MIN_W, max(len(t) for _, t in n.lines) * _CHAR_W + 2 * _PAD_X)
            n.h = len(n.lines) * _LINE_H + 2 * _PAD_Y
            self.nodes.append(n)
            by_id[id(op)] = n
        # edges between drawn ops: (src, dst, kind, input slot, number of input slots)
        self.edges: list[tuple[_Node, _Node, str, int, int]] = []
        for n in self.nodes:
            ins = [(t.op, "data") for t in n.op.inputs] + [(c, "control")
                                                           for c in n.op.control_inputs]
            seen: set[tuple[int, str]] = set()
            drawn = [(by_id[id(p)], k) for p, k in ins if id(p) in by_id]
            uniq = []
            for src, k in drawn:
                if (id(src), k) not in seen:
                    seen.add((id(src), k))
                    uniq.append((src, k))
            for slot, (src, k) in enumerate(uniq):
                self.edges.append((src, n, k, slot, len(uniq)))
        self._layer()
        self._order()
        self._place()

    def _layer(self) -> None:
        preds: dict[int, list[_Node]] = {id(n): [] for n in self.nodes}
        succs: dict[int, list[_Node]] = {id(n): [] for n in self.nodes}
        for s, d, *_ in self.edges:
            preds[id(d)].append(s)
            succs[id(s)].append(d)
        for n in self.nodes:  # creation order is topological
            n.layer = 1 + max((p.layer for p in preds[id(n)]), default=-1)
        for n in reversed(self.nodes):  # pull inputs (constants, ...) down to their consumer
            if not preds[id(n)] and succs[id(n)]:
                n.layer = min(s.layer for s in succs[id(n)]) - 1
        nlayers = 1 + max((n.layer for n in self.nodes), default=0)
        self.layers: list[list[_Node]] = [[] for _ in range(nlayers)]
        for n in self.nodes:
            self.layers[n.layer].append(n)
        # split long edges with dummy nodes: chains[edge index] = [src, d1, ..., dst]
        self.chains: list[list[_Node]] = []
        for s, d, *_ in self.edges:
            chain = [s]
            for layer in range(s.layer + 1, d.layer):
                dn = _Node()
                dn.dummy, dn.layer, dn.w, dn.fetched = True, layer, 0.0, False
                dn.index = len(self.nodes) + sum(len(c) for c in self.chains)
                self.layers[layer].append(dn)
                chain.append(dn)
            chain.append(d)
            self.chains.append(chain)

    def _order(self) -> None:
        up: dict[int, list[tuple[int, float]]] = {}
        down: dict[int, list[tuple[int, float]]] = {}
        for (*_, slot, nslots), chain in zip(self.edges, self.chains):
            off = (slot - (nslots - 1) / 2) * 0.3 / nslots  # inputs keep their left-right order
            for a, b in pairwise(chain):
                down.setdefault(id(a), []).append((id(b), off))
                up.setdefault(id(b), []).append((id(a), 0.0))
        layers = [list(layer) for layer in self.layers]
        pos = {id(n): i for layer in layers for i, n in enumerate(layer)}
        best = [list(layer) for layer in layers]
        best_c = _crossings(layers, down, pos)
        for it in range(12):
            if best_c == 0:
                break
            sweep = range(1, len(layers)) if it % 2 == 0 else range(len(layers) - 2, -1, -1)
            nbrs = up if it % 2 == 0 else down
            for li in sweep:
                layer = layers[li]

                def key(n: _Node, nbrs: dict = nbrs) -> float:
                    ps = nbrs.get(id(n))
                    if not ps:
                        return float(pos[id(n)])
                    return sum(pos[p] + off for p, off in ps) / len(ps)

                layer.sort(key=key)
                for i, n in enumerate(layer):
                    pos[id(n)] = i
            c = _crossings(layers, down, pos)
            if c < best_c:
                best_c, best = c, [list(layer) for layer in layers]
        self.layers = best
        self.crossings = best_c

    def _straighten(self, gap: Callable[[_Node, _Node], float]) -> None:
        """Make long edges vertical lines, as far as their neighbours in each layer allow."""
        where = {id(n): (li, i) for li, layer in enumerate(self.layers)
                 for i, n in enumerate(layer)}

        def fits(d: _Node, x: float) -> bool:
            li, i = where[id(d)]
            layer = self.layers[li]
            if i > 0 and layer[i - 1].x + gap(layer[i - 1], d) > x + 1e-6:
                return False
            return not (i + 1 < len(layer) and x + gap(d, layer[i + 1]) > layer[i + 1].x + 1e-6)

        for chain in self.chains:
            ds = chain[1:-1]
            if not ds:
                continue
            xs = sorted(d.x for d in ds)
            for target in (xs[len(xs) // 2], chain[0].x, chain[-1].x):
                if all(fits(d, target) for d in ds):
                    for d in ds:
                        d.x = target
                    break
            else:  # line up runs of the chain: snap each point to the one before, then after
                for seq in (chain[:-1], chain[:0:-1]):
                    for a, b in pairwise(seq):
                        if b.dummy and fits(b, a.x):
                            b.x = a.x

    def _place(self) -> None:
        nbr: dict[int, list[tuple[_Node, bool]]] = {}  # node -> [(neighbour, is_above)]
        for chain in self.chains:
            for a, b in pairwise(chain):
                nbr.setdefault(id(b), []).append((a, True))
                nbr.setdefault(id(a), []).append((b, False))

        def gap(a: _Node, b: _Node) -> float:
            g = _DUMMY_GAP if (a.dummy or b.dummy) else _H_GAP
            return (a.w + b.w) / 2 + g

        for layer in self.layers:  # start packed from the left
            x = 0.0
            for i, n in enumerate(layer):
                x = x if i == 0 else x + gap(layer[i - 1], n)
                n.x = x
        order = list(range(len(self.layers)))
        passes = [(order[1:], "up"), (order[-2::-1], "down")] * 4 + [(order, "both")]
        for layer_ids, side in passes:
            for li in layer_ids:
                layer = self.layers[li]
                desired, weights = [], []
                for n in layer:
                    ns = [m.x for m, above in nbr.get(id(n), [])
                          if side == "both" or above == (side == "up")]
                    desired.append(sum(ns) / len(ns) if ns else n.x)
                    weights.append(4.0 if n.dummy else 1.0 if ns else 0.05)
                xs = _isotonic(desired, weights,
                               [gap(a, b) for a, b in pairwise(layer)])
                for n, x in zip(layer, xs):
                    n.x = x
        self._straighten(gap)
        left = min((n.x - n.w / 2 for layer in self.layers for n in layer), default=0.0)
        right = max((n.x + n.w / 2 for layer in self.layers for n in layer), default=0.0)
        for layer in self.layers:
            for n in layer:
                n.x = round(n.x - left, 1)
        self.width = right - left
        y = 0.0
        self.layer_y: list[tuple[float, float]] = []
        for layer in self.layers:
            h = max((n.h for n in layer if not n.dummy), default=0.0)
            for n in layer:
                n.y = y
                n.h = n.h if not n.dummy else h
            self.layer_y.append((y, h))
            y += h + _V_GAP
        self.height = max(y - _V_GAP, 0.0)


# -- SVG rendering -----------------------------------------------------------------------------------


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _f(v: float) -> str:
    return f"{v:.1f}".removesuffix(".0")


def _shape_svg(kind: str, x: float, y: float, w: float, h: float, fill: str, stroke: str,
               sw: float, extra: str = "") -> str:
    common = f'fill="{fill}" stroke="{stroke}" stroke-width="{_f(sw)}"{extra}'
    if kind == "placeholder":  # a pill
        r = min(h / 2, 18.0)
        return (f'<rect x="{_f(x)}" y="{_f(y)}" width="{_f(w)}" height="{_f(h)}" rx="{_f(r)}" '
                f'{common}/>')
    if kind == "variable":  # chamfered corners
        c = 8.0
        pts = [(x + c, y), (x + w - c, y), (x + w, y + c), (x + w, y + h - c), (x + w - c, y + h),
               (x + c, y + h), (x, y + h - c), (x, y + c)]
        p = " ".join(f"{_f(a)},{_f(b)}" for a, b in pts)
        return f'<polygon points="{p}" {common}/>'
    if kind == "constant":  # square corners
        return f'<rect x="{_f(x)}" y="{_f(y)}" width="{_f(w)}" height="{_f(h)}" {common}/>'
    if kind == "update":  # a slanted box
        s = 8.0
        pts = [(x + s, y), (x + w, y), (x + w - s, y + h), (x, y + h)]
        p = " ".join(f"{_f(a)},{_f(b)}" for a, b in pts)
        return f'<polygon points="{p}" {common}/>'
    return (f'<rect x="{_f(x)}" y="{_f(y)}" width="{_f(w)}" height="{_f(h)}" rx="8" '
            f'{common}/>')


_TEXT_STYLE = {
    "name": 'font-weight="bold" fill="#111111"',
    "type": 'font-style="italic" fill="#444444"',
    "spec": 'fill="#555555"',
    "value": 'fill="#1a5276"',
    "grad": f'fill="{_GRAD_COLOUR}"',
    "note": 'fill="#888888"',
}


class GraphDrawing:
    """A drawn graph. Shows itself in Jupyter; ``.svg`` is the picture, ``.save(path)`` writes it.

    ``.ops`` are the drawn operations in execution order; ``.values`` / ``.grads`` map op names to
    the values (a list, one per output) and gradients computed when a session was given.
    """

    def __init__(self, graph: Graph, ops: list[Operation], total: int, fetched: set[str],
                 values: dict | None, grads: dict, reasons: dict, loss_name: str | None,
                 max_nodes: int | None, title: str | None = None) -> None:
        self.graph = graph
        self.ops = ops
        self.total = total
        self.truncated = len(ops) < total
        self.values = values
        self.grads = grads
        self.reasons = reasons
        self.loss_name = loss_name
        self.max_nodes = max_nodes
        self.title = title
        self.fetched = fetched
        drawn = {id(op) for op in ops}
        texts = {}
        for op in ops:
            hidden = len({id(t.op) for t in op.inputs if id(t.op) not in drawn} | {
                id(c) for c in op.control_inputs if id(c) not in drawn})
            texts[op.name] = _node_lines(op, values, grads, reasons, hidden)
        self._layout = _Layout(ops, texts, fetched)
        self._svg_cache: dict[Any, str] = {}

    # -- text ---------------------------------------------------------------------------------
    def _header(self) -> list[tuple[str, str]]:
        nb = sum(1 for op in self.ops if is_backward(op))
        head = self.title or "Computation graph"
        first = f"{head}: {len(self.ops)} op{'s' if len(self.ops) != 1 else ''}"
        if nb:
            first += f" ({len(self.ops) - nb} forward, {nb} backward)"
        lines = [("title", first)]
        if self.truncated:
            lines.append(("warn", (f"Truncated: showing {len(self.ops)} of {self.total} ops "
                                   f"(max_nodes={self.max_nodes}), those nearest the fetches.")))
        if self.values:
            lines.append(("info", "= value of each node's output from one Session.run"))
        if self.loss_name is not None:
            lines.append(("grad", f"grad = d {self.loss_name} / d (node output), via tf.gradients"))
        return lines

    def _legend(self) -> list[tuple[str, str, str, str]]:
        kinds = [k for k in _STYLES if any(n.kind == k and not n.backward
                                           for n in self._layout.nodes)]
        items = [(k, *_STYLES[k]) for k in kinds]
        back = [n.kind for n in self._layout.nodes if n.backward]
        if back:
            items.append(("op" if "op" in back else back[0], *_BACKWARD))
        return items

    def to_svg(self, highlight: int | None = None) -> str:
        """The SVG text. ``highlight``: index (in ``.ops``) of a node to mark as current; the
        nodes after it are faded (used by GraphExplorer to show execution order)."""
        key = highlight
        if key not in self._svg_cache:
            self._svg_cache[key] = self._render(highlight)
        return self._svg_cache[key]

    @property
    def svg(self) -> str:
        return self.to_svg()

    def _render(self, highlight: int | None) -> str:
        lay = self._layout
        header = self._header()
        legend = self._legend()
        top = _MARGIN + len(header) * 17.0 + 6.0
        # legend as one row of swatches
        legend_w = sum(34.0 + len(label) * _CHAR_W + 16.0 for *_, label in legend)
        fetch_note = any(n.fetched for n in lay.nodes) and len(lay.nodes) > 1
        if fetch_note:
            legend_w += 34.0 + len("fetched") * _CHAR_W + 16.0
        legend_y = top
        top = legend_y + 26.0
        header_w = max((len(t) * 7.2 for _, t in header), default=0.0)
        width = max(lay.width, legend_w, header_w) + 2 * _MARGIN
        height = top + lay.height + _MARGIN
        ox = _MARGIN + max(0.0, (width - 2 * _MARGIN - lay.width) / 2)
        oy = top + 8.0
        self._frame = (width, height + 8, oy)  # for GraphExplorer's view window
        out: list[str] = []
        out.append(
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{_f(width)}" '
            f'height="{_f(height + 8)}" viewBox="0 0 {_f(width)} {_f(height + 8)}" '
            f'font-family="{_FONT}" font-size="11">'
        )
        out.append(f'<rect x="0" y="0" width="{_f(width)}" height="{_f(height + 8)}" '
                   'fill="#ffffff"/>')
        # header
        colours = {"title": "#111111", "warn": "#b03a2e", "info": "#1a5276",
                   "grad": _GRAD_COLOUR}
        y = _MARGIN + 11.0
        for style, text in header:
            weight = ' font-weight="bold" font-size="13"' if style == "title" else ""
            out.append(f'<text x="{_f(_MARGIN)}" y="{_f(y)}" fill="{colours[style]}"'
                       f'{weight} class="{style}">{_esc(text)}</text>')
            y += 17.0
        # legend
        x = _MARGIN
        out.append('<g class="legend">')
        for kind, fill, stroke, label in legend:
            out.append(_shape_svg(kind, x, legend_y, 26.0, 16.0, fill, stroke, 1.2))
            out.append(f'<text x="{_f(x + 32)}" y="{_f(legend_y + 12)}" fill="#333333">'
                       f'{_esc(label)}</text>')
            x += 34.0 + len(label) * _CHAR_W + 16.0
        if fetch_note:
            out.append(_shape_svg("op", x, legend_y, 26.0, 16.0, "#ffffff", "#333333", 3.0))
            out.append(f'<text x="{_f(x + 32)}" y="{_f(legend_y + 12)}" fill="#333333">'
                       'fetched</text>')
        out.append("</g>")
        # edges, under the nodes
        out.append('<g class="edges" fill="none">')
        for (_src, _dst, kind, slot, nslots), chain in zip(lay.edges, lay.chains):
            out.append(self._edge_svg(chain, kind, slot, nslots, ox, oy, highlight))
        out.append("</g>")
        out.append('<g class="nodes">')
        for n in lay.nodes:
            out.append(self._node_svg(n, ox, oy, highlight))
        out.append("</g>")
        out.append("</svg>")
        return "\n".join(out)

    def _edge_svg(self, chain: list[_Node], kind: str, slot: int, nslots: int, ox: float,
                  oy: float, highlight: int | None) -> str:
        src, dst = chain[0], chain[-1]
        spread = min(14.0, (dst.w - 20.0) / max(nslots, 1))
        ex = dst.x + (slot - (nslots - 1) / 2) * spread
        pts = [(src.x + ox, src.y + src.h + oy)]
        for d in chain[1:-1]:
            pts.append((d.x + ox, d.y + oy))
            pts.append((d.x + ox, d.y + d.h + oy))
        pts.append((ex + ox, dst.y + oy - 1.5))
        path = [f"M{_f(pts[0][0])},{_f(pts[0][1])}"]
        for i in range(1, len(pts)):
            (x0, y0), (x1, y1) = pts[i - 1], pts[i]
            if i % 2 == 1:  # between layers: a smooth S curve
                m = (y1 - y0) / 2
                path.append(f"C{_f(x0)},{_f(y0 + m)} {_f(x1)},{_f(y1 - m)} {_f(x1)},{_f(y1)}")
            else:  # straight down through a layer (dummy node)
                path.append(f"L{_f(x1)},{_f(y1)}")
        colour, width, dash = "#666666", 1.2, ""
        if dst.backward:
            colour = "#d98880"
        if kind == "control":
            colour, dash = "#999999", ' stroke-dasharray="4,3"'
        opacity = ""
        if highlight is not None:
            if dst.index == highlight:
                colour, width = _HIGHLIGHT, 2.4
            elif dst.index > highlight:
                opacity = ' opacity="0.3"'
        x1, y1 = pts[-1]
        arrow = (f'<path d="M{_f(x1 - 4)},{_f(y1 - 7)} L{_f(x1)},{_f(y1)} L{_f(x1 + 4)},'
                 f'{_f(y1 - 7)} Z" fill="{colour}" stroke="none"/>')
        return (f'<g class="edge {kind}"{opacity}><path d="{" ".join(path)}" stroke="{colour}" '
                f'stroke-width="{_f(width)}"{dash}/>{arrow}</g>')

    def _node_svg(self, n: _Node, ox: float, oy: float, highlight: int | None) -> str:
        fill, stroke, _ = _BACKWARD if n.backward else _STYLES[n.kind]
        x, y = n.x - n.w / 2 + ox, n.y + oy
        sw = 3.0 if n.fetched else 1.3
        cls = f"node {n.kind}" + (" backward" if n.backward else " forward")
        if n.fetched:
            cls += " fetched"
        parts = []
        opacity = ""
        if highlight is not None:
            if n.index == highlight:
                cls += " current"
                parts.append(_shape_svg(n.kind, x - 5, y - 5, n.w + 10, n.h + 10, "none",
                                        _HIGHLIGHT, 4.0, ' opacity="0.55"'))
                stroke, sw = _HIGHLIGHT, 3.0
            elif n.index > highlight:
                opacity = ' opacity="0.35"'
        op = n.op
        tip = f"{op.name} ({op.type})"
        if op.inputs:
            tip += "\ninputs: " + ", ".join(t.name for t in op.inputs)
        if op.control_inputs:
            tip += "\nafter: " + ", ".join(c.name for c in op.control_inputs)
        parts.insert(0, f"<title>{_esc(tip)}</title>")
        parts.append(_shape_svg(n.kind, x, y, n.w, n.h, fill, stroke, sw))
        ty = y + _PAD_Y + 10.5
        for style, text in n.lines:
            anchor = f'x="{_f(n.x + ox)}" y="{_f(ty)}" text-anchor="middle"'
            out = f'<text {anchor} {_TEXT_STYLE[style]}>{_esc(text)}</text>'
            parts.append(out)
            ty += _LINE_H
        return (f'<g class="{cls}" data-name="{_esc(op.name)}" data-type="{_esc(op.type)}"'
                f'{opacity}>' + "".join(parts) + "</g>")

    # -- display ----------------------------------------------------------------------------------
    def _repr_svg_(self) -> str:
        return self.svg

    def _repr_html_(self) -> str:
        return f'<div style="overflow-x:auto; max-width:100%">{self.svg}</div>'

    def _ipython_display_(self) -> None:
        # publish the picture once (SVG) plus a short text, instead of SVG and HTML copies
        from IPython.display import display

        display({"image/svg+xml": self.svg, "text/plain": repr(self)}, raw=True)

    def save(self, path: Any) -> str:
        """Write the SVG to ``path`` (``.svg`` is appended if missing); returns the path."""
        path = str(path)
        if not path.lower().endswith(".svg"):
            path += ".svg"
        with open(path, "w", encoding="utf-8") as f:
            f.write('<?xml version="1.0" encoding="UTF-8"?>\n')
            f.write(self.svg)
            f.write("\n")
        return path

    def __repr__(self) -> str:
        nb = sum(1 for op in self.ops if is_backward(op))
        extra = f", {nb} backward" if nb else ""
        trunc = f" of {self.total}" if self.truncated else ""
        return f"<GraphDrawing: {len(self.ops)}{trunc} ops{extra}>"


# -- public entry points -------------------------------------------------------------------------------


def draw_graph(fetches_or_graph: Any, session: Any = None, feed_dict: Mapping | None = None,
               grads_of: Any = None, show_values: bool = True, max_nodes: int | None = 80,
               title: str | None = None) -> GraphDrawing:
    """Draw the ops that ``fetches_or_graph`` depends on (or a whole ``tf.Graph``).

    ``fetches_or_graph``: a tensor, operation, graph variable, name, a (nested) list/tuple/dict
    of those, or a ``tf.Graph``. Nodes are laid out top to bottom in dataflow order; each shows
    its name, type and output dtype/shape. Placeholders, variables, constants, operations and
    state updates have their own shape and colour; ops ``tf.gradients`` added (scope
    ``gradients/``) are red.

    With a ``session`` (and the ``feed_dict`` the fetches need) every drawn tensor is evaluated in
    one ``session.run`` and its value is summarised on its node; ops that change state
    (assignments, optimizer steps) are never run, and random ops are run with the random state
    restored afterwards, so drawing does not change what the program computes next.
    ``grads_of=loss`` also shows d loss / d (output) for every forward node on the loss' path;
    those gradients are built with ``tf.gradients`` on the same graph (once per node: later calls
    reuse them), so the graph gains a backward subgraph.

    Eager tensors have no graph; to draw eager code use :func:`draw_function`.
    """
    graph, roots, tensors, whole = _resolve(fetches_or_graph)
    ops, total = _select(graph, roots, whole, max_nodes)
    values = grads = reasons = None
    loss_name = None
    if grads_of is not None and session is None:
        raise ValueError("grads_of needs a session to compute the gradients' values")
    if session is not None and (show_values or grads_of is not None):
        values, grads, reasons, loss_name = _evaluate(graph, ops, session, feed_dict, grads_of)
        if not show_values:
            values = {}
    fetched = {t.op.name for t in tensors} | {op.name for op in roots}
    return GraphDrawing(graph, ops, total, fetched, values, grads or {}, reasons or {},
                        loss_name, max_nodes, title)


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
    from .framework.execute import convert_to_tensor
    from .framework.function import init_scope
    from .framework.session import Session
    from .ops.array_ops import placeholder

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
    leaves: list[Any] = []
    _flatten(result, leaves)
    outputs = [o for o in leaves if is_symbolic(o) or isinstance(o, Operation)]
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


# -- the explorer widget ------------------------------------------------------------------------------


def _require_ipywidgets() -> Any:
    try:
        import ipywidgets
    except ImportError:
        raise ImportError(
            "tf.visualize.GraphExplorer needs ipywidgets (pip install ipywidgets, then reload "
            "JupyterLab). tf.visualize.draw_graph works without it."
        ) from None
    return ipywidgets


def _panel_html(d: GraphDrawing, i: int) -> str:
    op = d.ops[i]
    phase = "backward pass (tf.gradients)" if is_backward(op) else "forward pass"
    rows = [f"<b>step {i + 1} of {len(d.ops)}</b> &middot; {_esc(phase)}",
            f"<b>{_esc(op.name)}</b> &nbsp;<i>{_esc(op.type)}</i>"]
    if op.type == "Placeholder":
        rows.append("a graph input: its value comes from <code>feed_dict</code>")
    elif op.type == "Const":
        rows.append("a constant stored in the graph")
    elif op.type == "ReadVariableOp":
        rows.append("reads a variable's current value (kept by the Session)")
    if op.inputs:
        ins = []
        for t in op.inputs:
            s = ""
            v = (d.values or {}).get(t.op.name)
            if v is not None and t.value_index < len(v) and not isinstance(v[t.value_index],
                                                                            _Failed):
                s = " = " + _esc(summarize(v[t.value_index])[0])
            ins.append(f"<code>{_esc(t.name)}</code>{s}")
        rows.append("inputs: " + ", ".join(ins))
    if op.outputs:
        t = op.outputs[0]
        rows.append(f"output <code>{_esc(t.name)}</code>: {_esc(t.dtype.name)} "
                    f"{_esc(_fmt_shape(t.shape))}")
    blocks = []
    if d.values is not None:
        if op.name in d.reasons:
            blocks.append(("value", f"({d.reasons[op.name]})"))
        elif op.name in d.values and op.outputs:
            v = d.values[op.name][0]
            blocks.append(("value", f"({v.error})" if isinstance(v, _Failed) else _detail(v)))
    if op.name in d.grads:
        g = d.grads[op.name]
        blocks.append((f"d {d.loss_name} / d {op.outputs[0].name}",
                       f"({g.error})" if isinstance(g, _Failed) else _detail(g)))
    html_rows = "<br>".join(rows)
    for label, text in blocks:
        colour = _GRAD_COLOUR if label != "value" else "#1a5276"
        html_rows += (f'<div style="margin-top:6px;color:{colour}"><b>{_esc(label)}</b>'
                      f'<pre style="margin:2px 0;font-size:11px;line-height:1.25">'
                      f"{_esc(text)}</pre></div>")
    return f'<div style="font-size:12px;line-height:1.45">{html_rows}</div>'


def GraphExplorer(fetches: Any, session: Any, feed_dict: Mapping | None = None,
                  grads_of: Any = None, max_nodes: int | None = 80,
                  title: str | None = None) -> Any:
    """A widget that steps through the graph of ``fetches`` in execution order.

    The slider (or the buttons) selects a step; the drawing highlights that op, fades the ones
    that have not run yet, and a panel shows its inputs, its value and, with ``grads_of=loss``,
    d loss / d (its output). Backward ops (``gradients/``) come after the forward ones, as they
    run. A tall graph is shown through a window that follows the current op; tick "whole graph"
    to see it scaled down instead. Needs ipywidgets; returns an ``ipywidgets.VBox`` with
    ``.drawing`` (the :class:`GraphDrawing`, values included) and ``.step`` (the slider).
    """
    widgets = _require_ipywidgets()
    drawing = draw_graph(fetches, session=session, feed_dict=feed_dict, grads_of=grads_of,
                         max_nodes=max_nodes, title=title)
    return _make_explorer(widgets, drawing)


def _make_explorer(widgets: Any, drawing: GraphDrawing) -> Any:
    n = len(drawing.ops)

    class _Explorer(widgets.VBox):
        def __repr__(self) -> str:
            return f"GraphExplorer({n} steps)"

    first_back = next((i for i, op in enumerate(drawing.ops) if is_backward(op)), None)
    # the picture leaves values out (the panel shows them), which keeps the boxes small
    compact = GraphDrawing(drawing.graph, drawing.ops, drawing.total, drawing.fetched, None, {},
                           {}, None, drawing.max_nodes, drawing.title)
    box_h = 600
    slider = widgets.IntSlider(value=0, min=0, max=max(n - 1, 0), description="step",
                               continuous_update=True,
                               layout=widgets.Layout(width="420px"))
    prev_b = widgets.Button(description="◀ prev", layout=widgets.Layout(width="80px"))
    next_b = widgets.Button(description="next ▶", layout=widgets.Layout(width="80px"))
    jump_b = widgets.Button(description="backward pass ▼" if first_back is not None else "start",
                            layout=widgets.Layout(width="140px"))
    fit = widgets.Checkbox(value=False, description="whole graph", indent=False,
                           layout=widgets.Layout(width="110px"))
    picture = widgets.HTML(layout=widgets.Layout(overflow="auto", max_height=f"{box_h + 10}px",
                                                 flex="1 1 auto"))
    panel = widgets.HTML(layout=widgets.Layout(width="360px", flex="0 0 auto",
                                               padding="0 0 0 12px"))

    def show(i: int) -> None:
        svg = compact.to_svg(highlight=i)
        width, height, oy = compact._frame
        if height > box_h and fit.value:  # scale the whole graph into the box
            svg = re.sub(r'^<svg ([^>]*?)width="[^"]*" height="[^"]*"',
                         rf'<svg \1width="100%" height="{box_h}"', svg, count=1)
        elif height > box_h and n:  # show a window of the drawing centred on the current op
            node = compact._layout.nodes[i]
            y0 = min(max(node.y + oy + node.h / 2 - box_h / 2, 0.0), height - box_h)
            svg = re.sub(r'^<svg ([^>]*?)height="[^"]*" viewBox="[^"]*"',
                         rf'<svg \1height="{box_h}" viewBox="0 {_f(y0)} {_f(width)} {box_h}"',
                         svg, count=1)
        picture.value = svg
        panel.value = _panel_html(drawing, i) if n else "(empty graph)"

    slider.observe(lambda change: show(change["new"]), names="value")
    fit.observe(lambda change: show(slider.value), names="value")
    prev_b.on_click(lambda _: setattr(slider, "value", max(slider.value - 1, 0)))
    next_b.on_click(lambda _: setattr(slider, "value", min(slider.value + 1, max(n - 1, 0))))
    jump_b.on_click(lambda _: setattr(slider, "value", first_back if first_back is not None
                                      and slider.value < first_back else 0))
    show(0)
    box = _Explorer([widgets.HBox([prev_b, next_b, slider, jump_b, fit]),
                     widgets.HBox([picture, panel])])
    box.drawing = drawing
    box.step = slider
    return box
