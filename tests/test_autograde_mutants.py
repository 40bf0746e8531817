"""Mutation tests for the graders: plausible wrong answers must lose points.

``tests/fixtures/mutants/<assignment>/<answer grade_id>/<mutant>.txt`` is the source of a wrong
answer cell. Each is put into the assignment's solution in place of the right answer, all are
graded in one ``python -m course autograde`` call, and each must fail ``test_<grade_id>``.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("nbclient")

from course import ROOT, SOLUTIONS  # noqa: E402
from course.cells import grade_id, read_notebook, write_notebook  # noqa: E402

MUTANTS = ROOT / "tests" / "fixtures" / "mutants"
CASES = sorted(MUTANTS.glob("*/*/*.txt"))


def _student(path: Path) -> str:
    return f"{path.parent.name}-{path.stem}"


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("mutants")
    for path in CASES:
        assignment, answer = path.parent.parent.name, path.parent.name
        nb = read_notebook(SOLUTIONS / f"{assignment}.ipynb")
        cells = [c for c in nb.cells if grade_id(c) == answer]
        assert len(cells) == 1, f"{path}: no answer cell {answer!r} in {assignment}"
        cells[0].source = path.read_text()
        (tmp / "subs" / _student(path)).mkdir(parents=True)
        write_notebook(nb, tmp / "subs" / _student(path) / f"{assignment}.ipynb")
    res = subprocess.run([sys.executable, "-m", "course", "autograde", str(tmp / "subs"),
                          "--out", str(tmp / "grades.csv"), "--cell-timeout", "60",
                          "--timeout", "180", "--jobs", "2"],
                         cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)),
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stdout + res.stderr
    with (tmp / "grades.csv").open(newline="") as f:
        rows = {(r["student"], r["assignment"]): r for r in csv.DictReader(f)}
    return rows, tmp / "feedback"


@pytest.mark.parametrize("path", CASES, ids=lambda p: f"{p.parent.parent.name}/{_student(p)}")
def test_each_mutant_loses_points(graded, path):
    rows, feedback = graded
    assignment, answer = path.parent.parent.name, path.parent.name
    row = rows[(_student(path), assignment)]
    assert row["status"] == "ok", row
    assert float(row["points"]) < float(row["max_points"]), f"{path.name} scored full marks"
    text = (feedback / _student(path) / f"{assignment}.txt").read_text()
    assert f"FAIL test_{answer} " in text, text
