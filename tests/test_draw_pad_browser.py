"""Chapter 09's draw pad in a real browser: JupyterLab runs the chapter's pad cell (with a
briefly trained MLP), a clean 7 is clicked on the pad, **predict** reads it as 7, and the
layout stays put (the buttons never cover the pad). Skips, saying why, without Chromium or
Playwright; every wait is bounded."""

from __future__ import annotations

import json

import pytest
from test_browser_smoke import ARTIFACTS, chromium_page, run_all_cells, served_lab
from test_draw_pad import _seven

from minitf.visualize.draw_pad import PAD

_CELLS = [
    "import minitf as tf\n"
    "from IPython.display import display\n"
    "(x, y), _ = tf.keras.datasets.mnist.load_data()\n"
    "tf.random.set_seed(0)\n"
    "model = tf.keras.Sequential([tf.keras.layers.Flatten(input_shape=(28, 28)),\n"
    "    tf.keras.layers.Dense(128, activation='relu'), tf.keras.layers.Dropout(0.2),\n"
    "    tf.keras.layers.Dense(10)])\n"
    "model.compile(optimizer=tf.keras.optimizers.Adam(2e-3),\n"
    "    loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))\n"
    "model.fit(x[:30000] / 255.0, y[:30000].astype('int32'), batch_size=64, epochs=1, verbose=0)",
]


def _pad_cell() -> str:
    """The chapter's own pad cell, taken from the committed notebook."""
    from test_course_style import ROOT

    nb = json.loads((ROOT / "notebooks" / "09_mnist_mlp.ipynb").read_text())
    return next("".join(c["source"]) for c in nb["cells"] if "DrawPad(" in "".join(c["source"]))


@pytest.fixture
def pad_lab(tmp_path):
    pytest.importorskip("jupyterlab")
    import nbformat

    served = tmp_path / "served"
    served.mkdir()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s)
                                         for s in _CELLS + [_pad_cell()]])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}  # else the lab asks for a kernel
    nbformat.write(nb, served / "pad.ipynb")
    with served_lab(served, tmp_path, inline_figures=True) as url:
        yield url


def _overlap(a: dict, b: dict) -> bool:
    return not (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
                or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])


def test_seven_drawn_on_the_pad_reads_as_seven(pad_lab):
    shot = ARTIFACTS / "draw_pad_09.png"
    with chromium_page(1400, 1000) as page:
        run_all_cells(page, f"{pad_lab}/lab/tree/pad.ipynb", shot)
        cells = page.locator(".widget-gridbox .widget-button")
        cells.first.wait_for(state="visible", timeout=60_000)
        assert cells.count() == PAD * PAD
        pad_box = page.locator(".widget-gridbox").bounding_box()
        for i in map(int, _seven().ravel().nonzero()[0]):
            cells.nth(i).click(timeout=10_000)
        predict = page.get_by_role("button", name="predict")
        clear = page.get_by_role("button", name="clear")
        predict.click(timeout=10_000)
        said = page.locator(".widget-output", has_text="prediction").first
        said.wait_for(timeout=60_000)
        page.screenshot(path=str(shot))
        text = said.inner_text(timeout=10_000)
        assert "prediction 7" in text, text
        # fixed layout: after a prediction the pad has not moved and no button covers it
        after = page.locator(".widget-gridbox").bounding_box()
        assert after == pad_box, (pad_box, after)
        for button in (predict, clear):
            assert not _overlap(button.bounding_box(), after)
