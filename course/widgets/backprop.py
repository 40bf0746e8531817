"""Chapter 05's backward-pass stepper: the graph of f = (x·y + sin x)² with every node's value
and adjoint, one op of the backward sweep per slider step."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

# where each node of the chapter's expression sits, and its label
POS = {"x": (0.0, 1.2), "y": (0.0, -1.2), "a": (3.0, -0.6), "b": (3.0, 1.8), "c": (6.0, 0.6),
       "f": (9.0, 0.6)}
LABEL = {"x": "x", "y": "y", "a": "a = x·y", "b": "b = sin x", "c": "c = a + b", "f": "f = c²"}
BOX_W, BOX_H = 1.7, 0.9


def backward_stepper(trace: Sequence, steps: Sequence, forward: Mapping):
    """A slider over ``trace`` (``(op, upstream, [(input, gradient), ...])`` per op, in backward
    order, from the chapter's ``my_backprop``) with ``steps`` (the values of ``upstream`` and of
    the gradients) and ``forward`` (each node's value by op name)."""
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    edges = [(x.op.name, op.name) for op, _, sends in reversed(trace) for x, _ in sends]

    def show(step):
        adj = {"f": 1.0}  # adjoints known after `step` ops have been processed
        before = {}  # ... and just before the current op
        for k, ((_, _, sends), (_, sent)) in enumerate(zip(trace[:step], steps[:step])):
            if k == step - 1:
                before = dict(adj)
            for (x, _), s in zip(sends, sent):
                adj[x.op.name] = adj.get(x.op.name, 0.0) + float(s)
        current = trace[step - 1] if step > 0 else None
        hot = {x.op.name: float(s) / float(steps[step - 1][0])
               for (x, _), s in zip(current[2], steps[step - 1][1])} if current else {}
        fig, ax = plt.subplots(figsize=(9.5, 4.6))
        for u, v in edges:
            (x1, y1), (x2, y2) = POS[u], POS[v]
            red = current is not None and current[0].name == v
            ax.annotate("", xy=(x2 - BOX_W / 2, y2), xytext=(x1 + BOX_W / 2, y1),
                        arrowprops=dict(arrowstyle="->", lw=2.5 if red else 1.2,
                                        color="C3" if red else "grey"))
            if red:  # label the edge with the local derivative dv/du
                ax.text((x1 + x2) / 2, (y1 + y2) / 2, f"∂{v}/∂{u} = {hot[u]:.3f}", color="C3",
                        ha="center", va="center", fontsize=10,
                        bbox=dict(facecolor="white", edgecolor="C3", boxstyle="round,pad=0.2"))
        for name, (px, py) in POS.items():
            is_current = current is not None and current[0].name == name
            ax.add_patch(plt.Rectangle((px - BOX_W / 2, py - BOX_H / 2), BOX_W, BOX_H,
                                       facecolor="#f5b041" if is_current else "#dde6f0",
                                       edgecolor="k"))
            ax.text(px, py + 0.17, LABEL[name], ha="center", va="center", fontsize=11)
            ax.text(px, py - 0.2, f"value {forward[name]:.3f}", ha="center", va="center",
                    fontsize=9)
            bar = f"{adj[name]:.3f}" if name in adj else "?"
            ax.text(px, py - BOX_H / 2 - 0.25, f"adjoint {bar}", ha="center", va="center",
                    fontsize=10, color="C3" if name in adj else "grey",
                    weight="bold" if name in adj else "normal")
        if current:
            op, _, sends = current
            up = float(steps[step - 1][0])
            lines = [f"step {step}: op {op.name} ({op.type}), upstream adjoint {up:.4f}"]
            for (x, _), s in zip(sends, steps[step - 1][1]):
                u = x.op.name
                total = (f"{before[u]:.4f} + {float(s):.4f} = {adj[u]:.4f}" if u in before
                         else f"{adj[u]:.4f}")
                lines.append(f"  to {u}: {up:.4f} × ∂{op.name}/∂{u} ({hot[u]:.4f}) = "
                             f"{float(s):.4f};  adjoint of {u} = {total}")
                if u in before:
                    lines.append(f"        ({u} is used twice: its contributions add up)")
            text = "\n".join(lines)
        else:
            text = ("step 0: seed the output: adjoint of f = df/df = 1. Move the slider to run "
                    "the backward pass.")
        ax.text(-0.9, -2.5, text, fontsize=10, family="monospace", va="top")
        ax.set_xlim(-1.0, 10.0)
        ax.set_ylim(-3.5, 2.6)
        ax.axis("off")
        plt.show()

    return widgets.interactive(
        show, step=widgets.IntSlider(value=0, min=0, max=len(trace), description="step",
                                     continuous_update=False))
