"""Chapter 01's broadcasting explorer: two shapes typed or picked, the chapter's step-by-step
report of how they broadcast and, for small shapes of rank <= 2, its picture."""

from __future__ import annotations

from collections.abc import Callable

PRESETS = {
    "bias add: (4, 3) + (3,)": ("4, 3", "3"),
    "outer sum: (3, 1) + (1, 4)": ("3, 1", "1, 4"),
    "column + row: (3, 1) + (4,)": ("3, 1", "4"),
    "scalar: (2, 3) + ()": ("2, 3", ""),
    "rank 3: (5, 1, 3) + (4, 3)": ("5, 1, 3", "4, 3"),
    "error: (2, 3) + (2,)": ("2, 3", "2"),
    "the fix: (2, 3) + (2, 1)": ("2, 3", "2, 1"),
    "error: (8, 4, 3) + (4, 2)": ("8, 4, 3", "4, 2"),
}


def parse_shape(text: str) -> tuple[int, ...]:
    """``'3, 1'``, ``'(3, 1)'`` or ``'[3,1]'`` -> ``(3, 1)``; ``''`` or ``'()'`` -> ``()``."""
    body = text.strip().strip("()[]").replace(" ", "")
    dims = tuple(int(p) for p in body.split(",") if p != "")
    if any(d < 0 for d in dims):
        raise ValueError(f"negative size in {text!r}")
    return dims


def broadcast_explorer(report: Callable, draw: Callable):
    """Two shape boxes and a menu of examples over ``report(shape_a, shape_b)`` (text; a
    success contains "has shape") and ``draw(shape_a, shape_b, ax)`` for small shapes."""
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    example = widgets.Dropdown(options=list(PRESETS), description="example",
                               layout=widgets.Layout(width="340px"))
    box_a = widgets.Text(value="4, 3", description="shape of a", continuous_update=False)
    box_b = widgets.Text(value="3", description="shape of b", continuous_update=False)
    out = widgets.Output()
    holding = {"on": False}  # set while an example fills both boxes: draw once, not twice

    def show(_=None):
        if holding["on"]:
            return
        with out:
            out.clear_output(wait=True)
            try:
                sa, sb = parse_shape(box_a.value), parse_shape(box_b.value)
            except ValueError:
                print("Type each shape as sizes separated by commas, e.g. 3, 1 (empty = scalar).")
                return
            text = report(sa, sb)
            print(text)
            small = all(d <= 8 for d in sa + sb) and max(len(sa), len(sb)) <= 2
            if "has shape" in text and small:
                fig, ax = plt.subplots(figsize=(7, 2.6))
                draw(sa, sb, ax)
                plt.show()

    def pick(change):
        holding["on"] = True
        box_a.value, box_b.value = PRESETS[change["new"]]
        holding["on"] = False
        show()

    example.observe(pick, names="value")
    box_a.observe(show, names="value")
    box_b.observe(show, names="value")
    show()
    return widgets.VBox([example, widgets.HBox([box_a, box_b]), out])
