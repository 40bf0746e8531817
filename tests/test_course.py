"""The course tooling: exercises generated from solutions/, and the autograder that scores them.

Every ``solutions/*.ipynb`` is covered as it lands (parametrised): its solution scores full
marks, and its exercise 0, also with its test cells edited. The tiny fixture
assignment in tests/fixtures/course/ exercises the failure modes: a hanging cell, a hang the
kernel cannot interrupt, a kernel crash, corrupt and missing files, tampered metadata.
Each group of notebooks runs in one ``python -m course autograde`` call, two kernels at a time.
"""

from __future__ import annotations

import copy
import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbclient")
pytest.importorskip("nbgrader")

from course import EXERCISES, ROOT, SOLUTIONS  # noqa: E402
from course.cells import dumps, grade_id, is_answer, is_test, read_notebook, write_notebook  # noqa: E402
from course.generate import leaks, make_exercise  # noqa: E402
from course.restore import restore  # noqa: E402
from course.validate import validate_notebook  # noqa: E402

FIXTURE = ROOT / "tests" / "fixtures" / "course"
SOLUTION_FILES = sorted(SOLUTIONS.glob("*.ipynb"))
NAMES = [p.stem for p in SOLUTION_FILES]


def course(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run ``python -m course ARGS`` as a user would."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "course", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def read_grades(path: Path) -> dict[tuple[str, str], dict[str, str]]:
    with path.open(newline="") as f:
        return {(r["student"], r["assignment"]): r for r in csv.DictReader(f)}


def emptied_tests(nb):
    """A submission whose test cells were emptied out (and their points inflated)."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if is_test(cell):
            cell.source = "pass"
            cell.metadata["nbgrader"]["points"] = 100
    return nb


def with_answer(nb, gid: str, source: str):
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if grade_id(cell) == gid:
            cell.source = source
    return nb


def save(nb, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_notebook(nb, path)
    return path


# ---------------------------------------------------------------- generation


@pytest.mark.parametrize("solutions, exercises", [
    (SOLUTIONS, EXERCISES), (FIXTURE / "solutions", FIXTURE / "exercises")], ids=["course", "fixture"])
def test_exercises_are_up_to_date(solutions, exercises):
    if not any(solutions.glob("*.ipynb")):
        pytest.skip(f"no notebooks in {solutions} yet")
    res = course("--solutions", str(solutions), "--exercises", str(exercises), "generate", "--check")
    assert res.returncode == 0, res.stdout + res.stderr


@pytest.mark.parametrize("path", SOLUTION_FILES + [FIXTURE / "solutions" / "00_fixture.ipynb"],
                         ids=lambda p: p.stem)
def test_solution_is_valid_and_exercise_leaks_nothing(path):
    assert validate_notebook(path) == []
    solution = read_notebook(path)
    exercise = make_exercise(solution)
    assert leaks(solution, exercise) == []
    text = dumps(exercise)
    assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text
    assert all(not c.get("outputs") for c in exercise.cells)
    answers = [c for c in exercise.cells if is_answer(c) and c.cell_type == "code"]
    assert answers and all("raise NotImplementedError()" in c.source for c in answers)
    assert dumps(make_exercise(solution)) == text  # deterministic


def test_generate_writes_and_removes(tmp_path):
    sol, ex = tmp_path / "solutions", tmp_path / "exercises"
    sol.mkdir()
    (sol / "00_fixture.ipynb").write_bytes((FIXTURE / "solutions" / "00_fixture.ipynb").read_bytes())
    save(read_notebook(FIXTURE / "exercises" / "00_fixture.ipynb"), ex / "99_stale.ipynb")
    assert course("--solutions", str(sol), "--exercises", str(ex), "generate", "--check").returncode == 1
    assert course("--solutions", str(sol), "--exercises", str(ex), "generate").returncode == 0
    assert sorted(p.name for p in ex.iterdir()) == ["00_fixture.ipynb"]
    assert (ex / "00_fixture.ipynb").read_bytes() == (FIXTURE / "exercises" / "00_fixture.ipynb").read_bytes()


def test_validate_names_the_problem(tmp_path):
    nb = read_notebook(FIXTURE / "solutions" / "00_fixture.ipynb")
    for cell in nb.cells:
        if grade_id(cell) == "mean":
            cell.metadata["nbgrader"]["grade_id"] = "square"
            cell.source = cell.source.replace("### END SOLUTION", "")
    problems = validate_notebook(save(nb, tmp_path / "00_bad.ipynb"))
    assert any("duplicate grade_id 'square'" in p for p in problems), problems
    assert any("'BEGIN SOLUTION' but 0 'END SOLUTION'" in p for p in problems), problems


def test_list_and_cli_errors(tmp_path):
    res = course("--solutions", str(FIXTURE / "solutions"), "--exercises", str(FIXTURE / "exercises"),
                 "list")
    assert res.returncode == 0, res.stderr
    assert "2 tests     3 points (+1 by hand)   exercise up to date" in res.stdout
    res = course("autograde", str(tmp_path / "nowhere"), "--out", str(tmp_path / "g.csv"))
    assert res.returncode == 2 and "is not a folder" in res.stderr


def test_restore_keeps_student_cells_and_instructor_tests():
    sol = read_notebook(FIXTURE / "solutions" / "00_fixture.ipynb")
    sub = copy.deepcopy(sol)
    own = nbformat.v4.new_code_cell("def square(x):\n    return x ** 2")
    own.metadata["nbgrader"] = {"grade": True, "grade_id": "forged", "points": 50,
                                "solution": False, "locked": True, "schema_version": 3}
    sub.cells = [c for c in sub.cells if grade_id(c) not in ("square", "test_mean")]
    sub.cells.insert(2, own)  # after the set-up cell, in place of the deleted answer
    graded = restore(sub, sol)
    ids = [grade_id(c) for c in graded.cells]
    assert "square" not in ids and "forged" not in ids  # no stub overwrites the student's code
    assert ids.count("test_mean") == 1 and ids.index("test_square") < ids.index("test_mean")
    assert "def square(x):\n    return x ** 2" in [c.source for c in graded.cells]
    hidden = next(c for c in graded.cells if grade_id(c) == "test_mean").source
    assert "BEGIN HIDDEN TESTS" in hidden
    nbformat.validate(graded)


# ---------------------------------------------------------------- the fixture's failure modes

# The kernel restores its SIGINT handler before each cell, so ignore SIGINT inside the call.
HANG_HARD = ("import signal\n\ndef square(x):\n    signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
             "    while True:\n        pass")


@pytest.fixture(scope="module")
def fixture_grades(tmp_path_factory):
    """Grade the fixture assignment for one student per failure mode, in one CLI call."""
    tmp = tmp_path_factory.mktemp("fixture-grading")
    subs = tmp / "submissions"
    sol = read_notebook(FIXTURE / "solutions" / "00_fixture.ipynb")
    ex = read_notebook(FIXTURE / "exercises" / "00_fixture.ipynb")
    name = "00_fixture.ipynb"
    save(sol, subs / "solution" / name)
    save(ex, subs / "exercise" / name)
    save(emptied_tests(ex), subs / "tampered" / name)
    deleted = copy.deepcopy(sol)
    deleted.cells = [c for c in deleted.cells if not is_test(c)]
    save(deleted, subs / "deleted_tests" / name)
    save(with_answer(sol, "square", "def square(x):\n    while True:\n        pass"),
         subs / "loop" / name)
    save(with_answer(sol, "mean", "import os\nos._exit(1)"), subs / "crash" / name)
    save(with_answer(sol, "square", HANG_HARD), subs / "hang" / name)
    (subs / "corrupt").mkdir()
    (subs / "corrupt" / name).write_text('{"cells": [ oops')
    (subs / "not_notebook").mkdir()
    (subs / "not_notebook" / name).write_text('{"hello": "world"}')
    (subs / "missing").mkdir()
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in subs.rglob("*.ipynb")}
    out = tmp / "grades.csv"
    res = course("--solutions", str(FIXTURE / "solutions"), "--exercises", str(FIXTURE / "exercises"),
                 "autograde", str(subs), "--out", str(out), "--cell-timeout", "4",
                 "--timeout", "120", "--jobs", "2")
    assert res.returncode == 0, res.stdout + res.stderr
    after = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in subs.rglob("*.ipynb")}
    assert after == before, "autograde modified a submission"
    return read_grades(out), tmp / "feedback", res.stdout


def _row(grades, student):
    row = grades[(student, "00_fixture")]
    return float(row["points"]), float(row["max_points"]), row["status"]


def test_solution_full_marks_exercise_zero(fixture_grades):
    grades, _, _ = fixture_grades
    assert _row(grades, "solution") == (3, 4, "ok")
    assert _row(grades, "exercise") == (0, 4, "ok")


def test_editing_or_deleting_tests_gains_nothing(fixture_grades):
    grades, _, _ = fixture_grades
    assert _row(grades, "tampered") == (0, 4, "ok")
    assert _row(grades, "deleted_tests") == (3, 4, "ok")  # the tests are restored and pass


def test_infinite_loop_stopped_by_cell_timeout(fixture_grades):
    grades, feedback, _ = fixture_grades
    assert _row(grades, "loop") == (2, 4, "ok")  # test_square times out; test_mean still passes
    text = (feedback / "loop" / "00_fixture.txt").read_text()
    assert "FAIL test_square (0/1): Timeout" in text and "PASS test_mean" in text


def test_uninterruptible_hang_scores_zero(fixture_grades):
    grades, feedback, _ = fixture_grades
    points, _, status = _row(grades, "hang")
    assert points == 0 and status in ("ok", "timeout")
    assert "FAIL test_square (0/1): Timeout" in (feedback / "hang" / "00_fixture.txt").read_text()


def test_notebook_timeout_kills_the_run_while_others_proceed(tmp_path):
    sol = read_notebook(FIXTURE / "solutions" / "00_fixture.ipynb")
    save(with_answer(sol, "mean", "def mean(xs):\n    while True:\n        pass"),
         tmp_path / "subs" / "slow" / "00_fixture.ipynb")
    save(sol, tmp_path / "subs" / "fast" / "00_fixture.ipynb")
    out = tmp_path / "grades.csv"
    res = course("--solutions", str(FIXTURE / "solutions"), "autograde", str(tmp_path / "subs"),
                 "--out", str(out), "--cell-timeout", "600", "--timeout", "12", "--jobs", "2")
    assert res.returncode == 0, res.stdout + res.stderr
    assert _row(read_grades(out), "slow")[2] == "timeout"
    assert _row(read_grades(out), "fast") == (3, 4, "ok")
    # the hanging notebook held one job; the other was graded (and reported) meanwhile
    done = [line.split("] ")[1].split(":")[0] for line in res.stdout.splitlines()
            if line.startswith("[")]
    assert done == ["fast/00_fixture", "slow/00_fixture"], res.stdout
    text = (tmp_path / "feedback" / "slow" / "00_fixture.txt").read_text()
    assert "ran longer than 12 s" in text
    assert "FAIL test_mean (0/2): stopped: this cell was running" in text


def test_kernel_crash_keeps_earlier_points(fixture_grades):
    grades, feedback, _ = fixture_grades
    assert _row(grades, "crash") == (1, 4, "crashed")
    assert "kernel died" in (feedback / "crash" / "00_fixture.txt").read_text()


def test_bad_files_get_a_clear_line(fixture_grades):
    grades, feedback, _ = fixture_grades
    assert _row(grades, "corrupt") == (0, 4, "invalid")
    assert "corrupt JSON at line 1" in (feedback / "corrupt" / "00_fixture.txt").read_text()
    assert _row(grades, "not_notebook") == (0, 4, "invalid")
    assert "no 'cells' list" in (feedback / "not_notebook" / "00_fixture.txt").read_text()
    assert _row(grades, "missing") == (0, 4, "missing")
    assert "no submission" in (feedback / "missing" / "00_fixture.txt").read_text()


def test_feedback_names_failed_tests_with_error_line(fixture_grades):
    _, feedback, _ = fixture_grades
    text = (feedback / "exercise" / "00_fixture.txt").read_text()
    assert "00_fixture: 0 / 4 points" in text
    assert "FAIL test_square (0/1): NameError" not in text  # the stub is defined; it raises
    assert "FAIL test_square (0/1): NotImplementedError" in text
    assert "why_fsum (?/1): graded by hand" in text


# ---------------------------------------------------------------- every course assignment


def test_restoring_makes_tampered_tests_whole():
    """Grading an exercise with emptied tests runs exactly what grading the exercise runs."""
    for path in SOLUTION_FILES + [FIXTURE / "solutions" / "00_fixture.ipynb"]:
        sol = read_notebook(path)
        ex = make_exercise(sol)
        assert dumps(restore(emptied_tests(ex), sol)) == dumps(restore(ex, sol)), path.name


@pytest.fixture(scope="module")
def course_grades(tmp_path_factory):
    """Grade every assignment as solved, and as released with its tests emptied, in one call.

    By test_restoring_makes_tampered_tests_whole, the second also grades the exercise itself.
    """
    if not SOLUTION_FILES:
        pytest.skip("no solutions/*.ipynb yet")
    tmp = tmp_path_factory.mktemp("course-grading")
    subs = tmp / "submissions"
    for path in SOLUTION_FILES:
        sol = read_notebook(path)
        save(sol, subs / "solution" / path.name)
        save(emptied_tests(make_exercise(sol)), subs / "exercise_tampered" / path.name)
    out = tmp / "grades.csv"
    res = course("autograde", str(subs), "--out", str(out), "--cell-timeout", "120",
                 "--timeout", "400", "--jobs", "2", timeout=1800)
    assert res.returncode == 0, res.stdout + res.stderr
    return read_grades(out), tmp / "feedback"


@pytest.mark.parametrize("name", NAMES)
def test_solution_scores_full_marks(course_grades, name):
    grades, feedback = course_grades
    row = grades[("solution", name)]
    assert float(row["max_points"]) > 0
    assert (row["status"], row["points"]) == ("ok", row["max_points"]), \
        (feedback / "solution" / f"{name}.txt").read_text()


@pytest.mark.parametrize("name", NAMES)
def test_exercise_scores_zero_even_with_edited_tests(course_grades, name):
    grades, feedback = course_grades
    row = grades[("exercise_tampered", name)]
    assert (row["status"], row["points"]) == ("ok", "0"), \
        (feedback / "exercise_tampered" / f"{name}.txt").read_text()
