"""SVG rendering: :class:`GraphDrawing` and :func:`draw_graph`."""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from ..framework.graph import Graph, Operation
from .evaluation import _evaluate
from .layout import _Layout, _Node, _node_lines
from .selection import _resolve, _select
from .style import (
    _BACKWARD,
    _CHAR_W,
    _FONT,
    _GRAD_COLOUR,
    _HIGHLIGHT,
    _LINE_H,
    _MARGIN,
    _PAD_Y,
    _STYLES,
    is_backward,
)


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
