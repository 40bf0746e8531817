"""GraphExplorer: an ipywidgets widget stepping through a drawn graph in execution order."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .render import GraphDrawing, _esc, _f, draw_graph
from .style import _GRAD_COLOUR, is_backward
from .values import _detail, _Failed, _fmt_shape, summarize


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
