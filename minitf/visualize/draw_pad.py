"""A draw pad for a notebook: click cells to ink a digit, press **predict**, see what a model
trained on MNIST reads.

The drawing is prepared the way MNIST's digits were, by the same function the serving page uses
(:func:`minitf.datasets.draw.to_mnist`): the pad's cells are rendered as soft, anti-aliased
strokes, fitted into a 20x20 box keeping the aspect ratio and centred by centre of mass in 28x28.
The layout has fixed sizes, so showing a prediction never moves the buttons over the pad.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from minitf.datasets.draw import to_mnist

PAD = 16        # cells per side
CELL_PX = 10    # canvas pixels per cell when rendering the strokes
INK, PAPER = "#111111", "#ffffff"  # high contrast: black ink on white


def render_cells(grid: np.ndarray, cell_px: int = CELL_PX) -> np.ndarray:
    """A grayscale canvas (ink 1, paper 0) from a 2-D boolean grid of inked cells: each cell
    becomes ``cell_px`` x ``cell_px`` pixels and the strokes' edges are softened (anti-aliased)
    by a box filter one cell wide."""
    g = np.asarray(grid, dtype=np.float64)
    if g.ndim != 2:
        raise ValueError(f"render_cells takes a 2-D grid of cells, got shape {g.shape}")
    img = np.pad(np.kron(g, np.ones((cell_px, cell_px))), cell_px)
    k = np.ones(cell_px) / cell_px
    img = np.apply_along_axis(np.convolve, 0, img, k, mode="same")
    img = np.apply_along_axis(np.convolve, 1, img, k, mode="same")
    return np.clip(img, 0.0, 1.0)


def prepare(grid: np.ndarray) -> np.ndarray:
    """The ``(28, 28)`` float32 MNIST-style image of a pad's grid of inked cells."""
    return to_mnist(render_cells(grid))


class DrawPad:
    """``DrawPad(predict_proba).widget`` is the pad; ``predict_proba`` maps a ``(1, 28, 28)``
    float32 batch to ``(1, 10)`` probabilities. ``grid`` (settable) is the drawing."""

    def __init__(self, predict_proba: Callable[[np.ndarray], Any], size: int = PAD,
                 cell: int = 20) -> None:
        import ipywidgets as widgets

        self.size, self.predict_proba = size, predict_proba
        cell_layout = widgets.Layout(width=f"{cell}px", height=f"{cell}px", padding="0px",
                                     margin="0px", border="0px")
        # Buttons, not ToggleButtons: only a Button's colour can be set (black ink on white)
        self._ink = np.zeros(size * size, bool)
        self.cells = [widgets.Button(layout=cell_layout, style={"button_color": PAPER})
                      for _ in range(size * size)]
        for i, c in enumerate(self.cells):
            c.on_click(lambda _, i=i: self._set(i, not self._ink[i]))
        side = f"{size * cell + size - 1}px"
        pad = widgets.GridBox(self.cells, layout=widgets.Layout(
            grid_template_columns=f"repeat({size}, {cell}px)", grid_gap="1px", width=side,
            height=side, border="1px solid #888"))
        self.predict_button = widgets.Button(description="predict", button_style="primary")
        self.clear_button = widgets.Button(description="clear")
        self.predict_button.on_click(lambda _: self.predict())
        self.clear_button.on_click(lambda _: self.clear())
        # fixed sizes everywhere: a prediction appearing must not reflow the pad or its buttons
        self.output = widgets.Output(layout=widgets.Layout(width="560px", height="260px",
                                                           overflow="hidden"))
        left = widgets.VBox([pad, widgets.HBox([self.predict_button, self.clear_button])],
                            layout=widgets.Layout(width=f"{size * cell + size + 20}px",
                                                  flex="0 0 auto"))
        self.widget = widgets.HBox([left, self.output],
                                   layout=widgets.Layout(flex_flow="row nowrap",
                                                         align_items="flex-start"))

    def _set(self, i: int, ink: bool) -> None:
        self._ink[i] = ink
        self.cells[i].style.button_color = INK if ink else PAPER

    @property
    def grid(self) -> np.ndarray:
        return self._ink.reshape(self.size, self.size).copy()

    @grid.setter
    def grid(self, value: np.ndarray) -> None:
        value = np.asarray(value, bool)
        if value.shape != (self.size, self.size):
            raise ValueError(f"the pad is {self.size}x{self.size} cells, got {value.shape}")
        for i, v in enumerate(value.ravel()):
            self._set(i, bool(v))

    def image(self) -> np.ndarray:
        """The drawing as the model sees it: ``(28, 28)`` float32 in [0, 1]."""
        return prepare(self.grid)

    def predict(self) -> np.ndarray:
        """Probabilities for the current drawing, also drawn next to the pad."""
        import matplotlib.pyplot as plt

        image = self.image()
        p = np.asarray(self.predict_proba(image[None])).reshape(-1)
        with self.output:
            self.output.clear_output(wait=True)
            fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(5.6, 2.5),
                                           gridspec_kw={"width_ratios": [1, 1.8]})
            ax1.imshow(image, cmap="gray_r", vmin=0, vmax=1)
            ax1.axis("off")
            ax1.set_title("as the model sees it")
            ax2.bar(range(len(p)), p, color=["C3" if k == p.argmax() else "C7"
                                             for k in range(len(p))])
            ax2.set_xticks(range(len(p)))
            ax2.set_ylim(0, 1.05)
            ax2.set_title(f"prediction {p.argmax()} ({p.max():.2f})")
            fig.tight_layout()
            plt.show()
            print(f"prediction {p.argmax()} ({p.max():.2f})")  # also for screen readers and tests
        return p

    def clear(self) -> None:
        for i in range(len(self.cells)):
            self._set(i, False)
        self.output.clear_output()
