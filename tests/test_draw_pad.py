"""Chapter 09's draw pad: a drawing is prepared the way MNIST's digits were (by
``minitf.datasets.draw.to_mnist``, shared with the serving page), so clean digits clicked on the
pad's grid are read correctly by the chapter's MLP; the widget's grid, predict and clear work."""

from __future__ import annotations

import numpy as np
import pytest

import minitf as tf
from minitf.visualize.draw_pad import PAD, DrawPad, prepare, render_cells


def _seven(thick: bool = False, top: int = 2, left: int = 3, size: int = 11) -> np.ndarray:
    """A clean 7 on the pad's grid: a bar on top and a diagonal down to the bottom left."""
    g = np.zeros((PAD, PAD), bool)
    g[top, left:left + size] = True
    for k in range(1, size + 1):
        r, c = top + k, left + size - 1 - (k * (size - 3)) // size
        g[r, c] = True
        if thick:
            g[r, c - 1] = True
            g[top + 1, left:left + size] = True
    return g


def _one(left: int = 7) -> np.ndarray:
    g = np.zeros((PAD, PAD), bool)
    g[2:14, left] = True
    return g


@pytest.fixture(scope="module")
def chapter_model():
    """The chapter's 784-128-10 MLP, trained briefly as in chapter 09."""
    (x, y), _ = tf.keras.datasets.mnist.load_data()
    tf.random.set_seed(0)
    model = tf.keras.Sequential([
        tf.keras.layers.Flatten(input_shape=(28, 28)),
        tf.keras.layers.Dense(128, activation="relu"),
        tf.keras.layers.Dropout(0.2),
        tf.keras.layers.Dense(10)])
    model.compile(optimizer=tf.keras.optimizers.Adam(2e-3),
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x[:30000].astype("float32") / 255.0, y[:30000].astype("int32"), batch_size=64,
              epochs=1, verbose=0)
    return lambda batch: tf.nn.softmax(model(batch)).numpy()


def test_prepared_drawing_looks_like_mnist():
    img = prepare(_seven())
    assert img.shape == (28, 28) and img.dtype == np.float32
    rows, cols = np.flatnonzero(img.max(1) > 0.05), np.flatnonzero(img.max(0) > 0.05)
    assert max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 in (20, 21, 22)  # fit into 20x20
    ys, xs = np.indices(img.shape)
    cy, cx = (img * ys).sum() / img.sum(), (img * xs).sum() / img.sum()
    assert abs(cy - 13.5) <= 1 and abs(cx - 13.5) <= 1  # centred by centre of mass
    assert 0 < np.mean((img > 0) & (img < 0.9)) < 1  # anti-aliased: grey edges
    assert not prepare(np.zeros((PAD, PAD))).any()
    with pytest.raises(ValueError, match="2-D grid"):
        render_cells(np.zeros(5))


@pytest.mark.parametrize("grid", [_seven(), _seven(thick=True), _seven(top=0, left=0, size=8),
                                  _seven(top=5, left=6, size=9)],
                         ids=["thin", "thick", "small corner", "off centre"])
def test_drawn_seven_reads_as_seven(chapter_model, grid):
    p = chapter_model(prepare(grid)[None])[0]
    assert p.argmax() == 7, np.round(p, 2)


def test_drawn_one_reads_as_one(chapter_model):
    assert chapter_model(prepare(_one())[None])[0].argmax() == 1


def test_pad_widget_predicts_and_clears(chapter_model):
    pytest.importorskip("ipywidgets")
    import matplotlib
    matplotlib.use("Agg")
    pad = DrawPad(chapter_model)
    pad.grid = _seven()
    pad.cells[0].click()  # a click inks a cell, a second click erases it
    assert pad.grid[0, 0]
    pad.cells[0].click()
    assert (pad.grid == _seven()).all()
    assert pad.cells[2 * PAD + 3].style.button_color != pad.cells[0].style.button_color
    assert pad.predict().argmax() == 7
    pad.clear()
    assert not pad.grid.any()
    with pytest.raises(ValueError, match="16x16"):
        pad.grid = np.zeros((3, 3))
