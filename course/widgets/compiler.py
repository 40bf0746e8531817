"""Chapter 17's pass toggles: one checkbox per compiler pass, and the program those passes make."""

from __future__ import annotations

from collections.abc import Callable, Sequence


def pass_toggles(passes: Sequence[str], describe: Callable):
    """A checkbox per name in ``passes`` (all ticked); every change calls the chapter's
    ``describe(chosen)``, which returns ``(nodes, kernels, seconds per call, compiled)``, and
    prints that summary and ``compiled.source``."""
    import ipywidgets as widgets

    boxes = [widgets.Checkbox(value=True, description=p) for p in passes]
    out = widgets.Output()

    def redraw(_=None):
        chosen = [b.description for b in boxes if b.value]
        nodes, kernels, seconds, compiled = describe(chosen)
        out.clear_output()
        with out:
            print(f"passes {chosen}: {nodes} nodes, {kernels} kernels, "
                  f"{1e6 * seconds:.1f} us per call\n")
            print(compiled.source)

    for b in boxes:
        b.observe(redraw, names="value")
    redraw()
    return widgets.VBox([widgets.HBox(boxes), out])
