"""Course tooling: exercises generated from nbgrader-format solutions, an autograder, and the
chapters' figure style (``style.py``) and widgets (``widgets/``).

``python -m course --help`` lists the commands; ``course/instructor_guide.md`` explains them.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
EXERCISES = ROOT / "exercises"
