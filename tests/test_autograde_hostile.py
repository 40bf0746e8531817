"""Hostile submissions: each loses its points and the grader goes on with the next student.

One ``python -m course autograde`` call grades the fixture assignment for a control student and
one student per attack: writing outside the scratch folder, reading the instructor's notebook,
a (bounded) fork bomb, a memory hog, replacing ``numpy.testing.assert_allclose``, patching a
builtin. Small limits keep it quick. The file-system checks that need bubblewrap are skipped
where it is not installed.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("nbclient")
pytest.importorskip("psutil")

from course import ROOT  # noqa: E402
from course.cells import grade_id, read_notebook, write_notebook  # noqa: E402
from course.jail import bwrap  # noqa: E402

FIXTURE = ROOT / "tests" / "fixtures" / "course" / "solutions"
RIGHT = "def square(x):\n    return x * x\n"
ATTACKS = {
    # writes next to the submissions (outside its scratch folder), then answers correctly
    "writer": "open({outside!r}, 'w').write('pwned')\n" + RIGHT,
    # looks for the hidden tests in the grader's copy of the notebook
    "reader": "import glob, json\n"
              "found = [p for p in glob.glob({work!r} + '/**/*.ipynb', recursive=True)\n"
              "         if 'HIDDEN' in open(p).read()]\n"
              "assert not found, found\n" + RIGHT,
    # forks far more than the grader allows (bounded here, so a broken sandbox cannot hurt)
    "forker": "import os, time\n"
              "for _ in range(300):\n"
              "    if os.fork() == 0:\n"
              "        time.sleep(20)\n"
              "        os._exit(0)\n" + RIGHT,
    "hog": "hog = bytearray(8 << 30)\n" + RIGHT,
    # a wrong answer, and an assertion helper that never fails
    "patcher": "import numpy.testing\n"
               "numpy.testing.assert_allclose = lambda *a, **k: None\n"
               "def square(x):\n    return 0\n",
    "builtins": "import builtins\nbuiltins.round = lambda *a: 0\n" + RIGHT,
}


def _grade(tmp: Path) -> tuple[dict[str, dict[str, str]], Path, str]:
    subs = tmp / "subs"
    for student, source in {"control": RIGHT, **ATTACKS}.items():
        nb = read_notebook(FIXTURE / "00_fixture.ipynb")
        for cell in nb.cells:
            if grade_id(cell) == "square":
                cell.source = source.format(outside=str(subs / "PWNED"), work=str(tmp))
        (subs / student).mkdir(parents=True)
        write_notebook(nb, subs / student / "00_fixture.ipynb")
    env = dict(os.environ, PYTHONPATH=str(ROOT), COURSE_MEMORY_MIB="2048")
    res = subprocess.run([sys.executable, "-m", "course", "--solutions", str(FIXTURE),
                          "autograde", str(subs), "--out", str(tmp / "grades.csv"),
                          "--cell-timeout", "20", "--timeout", "90", "--jobs", "2"],
                         cwd=tmp, env=env, capture_output=True, text=True, timeout=400)
    assert res.returncode == 0, res.stdout + res.stderr
    with (tmp / "grades.csv").open(newline="") as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}
    return rows, tmp / "feedback", res.stdout


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    return _grade(tmp_path_factory.mktemp("hostile"))


def _square(feedback: Path, student: str) -> str:
    text = (feedback / student / "00_fixture.txt").read_text()
    return next(line for line in text.splitlines() if "test_square" in line)


def test_control_scores_and_every_student_is_graded(graded):
    rows, _, _ = graded
    assert set(rows) == {"control", *ATTACKS}
    assert rows["control"]["points"] == "3"


@pytest.mark.skipif(bwrap() is None, reason="bubblewrap (bwrap) is not installed")
def test_sandbox_keeps_files_and_hidden_tests_away(graded, tmp_path_factory):
    rows, feedback, _ = graded
    assert not any(tmp_path_factory.getbasetemp().rglob("PWNED")), "wrote outside its scratch"
    assert "FAIL test_square" in _square(feedback, "writer")  # Read-only file system
    assert rows["reader"]["points"] == "3", "the hidden tests were readable"  # saw no notebook


def test_fork_bomb_and_memory_hog_lose_their_points(graded):
    rows, feedback, _ = graded
    assert float(rows["forker"]["points"]) < 3
    assert float(rows["hog"]["points"]) < 3
    assert "MemoryError" in (feedback / "hog" / "00_fixture.txt").read_text()
    assert rows["forker"]["status"] == "crashed"  # the grader killed it and went on
    assert "started more than 64 processes" in (feedback / "forker" / "00_fixture.txt").read_text()


def test_replaced_helpers_and_builtins_fail_the_tests(graded):
    rows, feedback, _ = graded
    assert rows["patcher"]["points"] == "0" and rows["builtins"]["points"] == "0"
    assert "numpy.testing.assert_allclose" in _square(feedback, "patcher")
    assert "builtins.round" in _square(feedback, "builtins")


def test_without_bwrap_the_grader_says_so(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "course.jail", "--scratch", str(tmp_path), "--",
                           sys.executable, "-c", "import os; print(os.getcwd())"],
                          env=dict(os.environ, PYTHONPATH=str(ROOT), COURSE_NO_BWRAP="1"),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(tmp_path) and "bwrap (bubblewrap) not found" in proc.stderr
