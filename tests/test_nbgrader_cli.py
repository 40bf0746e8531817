"""nbgrader's own CLI on the course's files: release, autograde and export one assignment.

Instructors may run nbgrader instead of ``python -m course`` (course/instructor_guide.md, §9);
this checks, once, on the small fixture assignment, that nbgrader accepts our notebooks, that
its release equals our generated exercise, and that it scores a solution and a blank submission
as our autograder does (both count the hand-graded point in the maximum, left at 0).
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("nbgrader")
nbformat = pytest.importorskip("nbformat")

from course.nbgrader_export import export  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures" / "course"
NAME = "00_fixture"


def _nbgrader(course: Path, *args: str) -> None:
    # nbgrader runs the `alembic` executable, which lives beside this interpreter
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    proc = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{proc.stderr[-3000:]}"


def _sources(path: Path) -> list[str]:
    return [c.source for c in nbformat.read(path, as_version=4).cells]


def test_nbgrader_releases_and_grades_the_fixture_assignment(tmp_path: Path) -> None:
    course = tmp_path / "course"
    assert export(FIXTURES / "solutions", course) == [NAME]
    for student in ("alice", "bob"):
        _nbgrader(course, "db", "student", "add", student)
    _nbgrader(course, "db", "assignment", "add", NAME)
    _nbgrader(course, "generate_assignment", NAME, "--force")

    released = course / "release" / NAME / f"{NAME}.ipynb"
    assert _sources(released) == _sources(FIXTURES / "exercises" / f"{NAME}.ipynb")

    submissions = {"alice": course / "source" / NAME / f"{NAME}.ipynb", "bob": released}
    for student, notebook in submissions.items():
        dest = course / "submitted" / student / NAME
        dest.mkdir(parents=True)
        shutil.copyfile(notebook, dest / f"{NAME}.ipynb")
    _nbgrader(course, "autograde", NAME, "--force")
    _nbgrader(course, "export", "--to", str(course / "grades.csv"))

    with open(course / "grades.csv", newline="") as f:
        scores = {row["student_id"]: float(row["score"]) for row in csv.DictReader(f)}
    max_score = 4.0  # 3 autograded points + 1 hand-graded point nbgrader leaves at 0
    assert scores == {"alice": max_score - 1, "bob": 0.0}
