"""The course's figure style (course/minitf.mplstyle): readable sizes and colour-blind-safe
colours, and the committed chapters that use it keep their figures within the notebook's width
and their text at 9 pt or more. Reads the committed notebooks only; runs nothing."""

from __future__ import annotations

import base64
import json
import re
import struct
from pathlib import Path

import pytest

from course.style import MAX_WIDTH_IN, MIN_FONT_PT, STYLE

ROOT = Path(__file__).resolve().parent.parent
# every chapter uses the course style (issue 15): a new chapter is checked as soon as it exists
STYLED = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
MAX_PNG_PX = 1000  # 9.5 in at 100 dpi, plus what a tight bounding box may add


def test_every_chapter_is_checked():
    assert len(STYLED) >= 17 and STYLED[0] == "01_tensors", STYLED


def test_style_file_sizes_and_palette():
    import matplotlib

    rc = matplotlib.rc_params_from_file(str(STYLE), use_default_template=False)
    assert rc["figure.figsize"][0] <= MAX_WIDTH_IN
    for key in ("font.size", "axes.titlesize", "axes.labelsize", "xtick.labelsize",
                "ytick.labelsize", "legend.fontsize", "figure.titlesize"):
        assert float(rc[key]) >= MIN_FONT_PT, key
    colors = [c.lower().lstrip("#") for c in rc["axes.prop_cycle"].by_key()["color"]]
    assert colors[:4] == ["0072b2", "e69f00", "009e73", "d55e00"]  # Okabe-Ito
    assert colors[7] == "999999"  # C7 stays grey, as the chapters use it


def _code(nb: dict) -> list[str]:
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]


@pytest.mark.parametrize("name", STYLED)
def test_chapter_figures_use_the_course_style(name):
    nb = json.loads((ROOT / "notebooks" / f"{name}.ipynb").read_text())
    code = _code(nb)
    first_plot = next(i for i, s in enumerate(code) if re.search(r"plt\.(subplots|figure)", s))
    assert any("use_course_style()" in s for s in code[:first_plot + 1]), name
    source = "\n".join(code)
    for size in re.findall(r"fontsize=([0-9.]+)", source):
        assert float(size) >= MIN_FONT_PT, f"{name}: fontsize={size}"
    for width in re.findall(r"figsize=\(([0-9.]+)", source):
        assert float(width) <= MAX_WIDTH_IN, f"{name}: figsize width {width}"
    assert "dpi=" not in source, f"{name}: a figure overrides the style's dpi"
    widths = []
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            png = out.get("data", {}).get("image/png")
            if png:
                widths.append(struct.unpack(">I", base64.b64decode(png)[16:20])[0])
    assert widths, f"{name}: committed without figures"
    assert max(widths) <= MAX_PNG_PX, f"{name}: PNG widths {widths}"


def test_committed_outputs_name_no_machine_paths():
    """Outputs (tracebacks included) must not show a developer's absolute paths."""
    bad = re.compile(r"/work/|/root/|/home/|" + re.escape(str(ROOT)))
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = json.loads(path.read_text())
        outputs = [out for cell in nb["cells"] for out in cell.get("outputs", [])]
        # and what the stored widgets show (their Output widgets' captured outputs)
        state = nb["metadata"].get("widgets", {}).get(
            "application/vnd.jupyter.widget-state+json", {}).get("state", {})
        outputs += [out for model in state.values() for out in model["state"].get("outputs", [])]
        for out in outputs:
            text = json.dumps(out.get("text", "")) + json.dumps(out.get("traceback", []))
            text += json.dumps(out.get("data", {}).get("text/plain", ""))
            assert not bad.search(text), f"{path.name}: {bad.search(text).group()} in an output"


def test_committed_widgets_have_their_state_stored():
    """A widget in a committed chapter shows on a static view (GitHub, nbviewer) only if its
    state was stored with the outputs, as `jupyter nbconvert --execute` does (issue 15)."""
    for name in STYLED:
        nb = json.loads((ROOT / "notebooks" / f"{name}.ipynb").read_text())
        state = nb["metadata"].get("widgets", {}).get(
            "application/vnd.jupyter.widget-state+json", {}).get("state", {})
        for cell in nb["cells"]:
            for out in cell.get("outputs", []):
                view = out.get("data", {}).get("application/vnd.jupyter.widget-view+json")
                if view:
                    assert view["model_id"] in state, f"{name}: a widget without stored state"
