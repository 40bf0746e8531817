"""A layered (Sugiyama-style) layout of the drawn ops: layers, ordering, coordinates."""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise
from typing import Any

from ..framework.graph import Operation
from .style import (
    _CHAR_W,
    _DUMMY_GAP,
    _H_GAP,
    _LINE_H,
    _MAX_CHARS,
    _MIN_W,
    _PAD_X,
    _PAD_Y,
    _V_GAP,
    _kind,
    is_backward,
)
from .values import _Failed, _fmt_shape, summarize


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


def _summary_lines(value: Any, style: str, label: str, failed: str) -> list[tuple[str, str]]:
    """``label`` and the summary of ``value`` (further lines indented under it), or a note."""
    if isinstance(value, _Failed):
        return [("note", f"({failed}: {value.error})")]
    s = summarize(value)
    return [(style, label + s[0])] + [(style, " " * len(label) + x) for x in s[1:]]


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
            lines += _summary_lines(values[op.name][0], "value", "= ", "error")
        if op.name in grads:
            lines += _summary_lines(grads[op.name], "grad", "grad ", "grad error")
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
