"""Lay the solutions out as an nbgrader course directory, to use nbgrader's own tools on them.

nbgrader wants ``source/<assignment>/<notebook>.ipynb``; each chapter becomes an assignment of
one notebook with the same name.
"""

from __future__ import annotations

import shutil
from pathlib import Path

CONFIG = Path(__file__).resolve().parent / "nbgrader_config.py"


def export(solutions: Path, course_dir: Path) -> list[str]:
    """Copy ``solutions/*.ipynb`` into ``course_dir/source/`` plus nbgrader_config.py; return ids."""
    names = []
    for nb in sorted(solutions.glob("*.ipynb")):
        dest = course_dir / "source" / nb.stem
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(nb, dest / nb.name)
        names.append(nb.stem)
    shutil.copyfile(CONFIG, course_dir / "nbgrader_config.py")
    return names
