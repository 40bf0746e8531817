"""The course's figure style: ``use_course_style()`` at the top of a chapter."""

from __future__ import annotations

from pathlib import Path

STYLE = Path(__file__).with_name("minitf.mplstyle")
MAX_WIDTH_IN = 9.5  # wider figures are shrunk by the notebook, and their text with them
MIN_FONT_PT = 9


def use_course_style() -> None:
    """Apply ``course/minitf.mplstyle`` to every later matplotlib figure."""
    import matplotlib.pyplot as plt

    plt.style.use(STYLE)
