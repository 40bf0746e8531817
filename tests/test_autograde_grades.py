"""Grades from the autograder's results: re-grades that merge, the LMS CSVs, deadlines and the
late policy, overrides, feedback students read (HTML and text, hidden tests hidden, no
instructor paths), submissions found in either layout. Most tests build Results by hand and
run no notebook; one grades the fixture assignment through the CLI.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

pytest.importorskip("nbclient")
pytest.importorskip("nbgrader")

from course import ROOT  # noqa: E402
from course.autograde import Part, Result, hidden_lines, scrub_paths  # noqa: E402
from course.deadlines import load_deadlines  # noqa: E402
from course.feedback import render_html, render_text, write_feedback  # noqa: E402
from course.gradebook import (  # noqa: E402
    LONG_FIELDS,
    PART_FIELDS,
    finalize,
    load_results,
    merge,
    save_results,
    write_grades,
)
from course.overrides import check_overrides, load_overrides  # noqa: E402
from course.submissions import extras, find  # noqa: E402

FIXTURE = ROOT / "tests" / "fixtures" / "course"
UTC = timezone.utc


def course(*args: str, cwd: Path = ROOT, timeout: float = 600) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "course", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def result(student: str, assignment: str, earned=(2.0, 0.0), submitted: str | None = None,
           status: str = "ok") -> Result:
    parts = [Part("t1", 2.0, earned=earned[0], message="passed" if earned[0] else "Error: x"),
             Part("t2", 3.0, earned=earned[1], message="AssertionError: too big",
                  line=4, code="assert secret(3) == 42", hidden=True),
             Part("essay", 1.0, kind="manual", message="graded by hand: not graded yet")]
    return Result(student, assignment, status=status, submitted=submitted, parts=parts)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------- deadlines


DEADLINES = """timezone = "Europe/Berlin"
[late]
grace_minutes = 10
penalty_per_day = 0.25
max_days = 3
[due]
a1 = 2027-01-18T23:59:00
a2 = "2027-01-25 23:59"
[extensions]
"bob/a1" = 2027-01-20T23:59:00+00:00
"""


def test_deadlines_late_policy(tmp_path):
    d = load_deadlines(write(tmp_path / "deadlines.toml", DEADLINES))
    due = datetime(2027, 1, 18, 22, 59, tzinfo=UTC)  # 23:59 in Berlin, winter time
    assert d.due_for("alice", "a1") == due
    assert d.due_for("bob", "a1") == datetime(2027, 1, 20, 23, 59, tzinfo=UTC)
    assert d.due_for("alice", "a3") is None
    assert d.lateness("alice", "a1", due) == (0.0, 1.0)
    assert d.lateness("alice", "a1", due + timedelta(minutes=5))[1] == 1.0  # grace
    assert d.lateness("alice", "a1", due + timedelta(hours=1))[1] == 0.75  # a started day
    hours, kept = d.lateness("alice", "a1", due + timedelta(hours=30))
    assert (hours, kept) == (30.0, 0.5)
    assert d.lateness("alice", "a1", due + timedelta(days=3, hours=1))[1] == 0.0  # > max_days
    assert d.lateness("bob", "a1", due + timedelta(days=1)) == (0.0, 1.0)  # extension
    assert d.lateness("alice", "a3", due + timedelta(days=9)) == (0.0, 1.0)  # no due date


@pytest.mark.parametrize("text, error", [
    ("[due]\na1 = 2027-01-18\n", "due.a1 needs a time of day"),
    ("[due]\na1 = \"next monday\"\n", "is not a date and time"),
    ("[late]\npenalty = 0.1\n", "unknown key(s) in [late]: penalty"),
    ("[late]\npenalty_per_day = -1\n", "late.penalty_per_day must be a number >= 0"),
    ("timezone = \"Mars/Olympus\"\n", "is not an IANA name"),
    ("[extensions]\na1 = 2027-01-18T10:00:00\n", "is not \"student/assignment\""),
    ("[due\n", "deadlines.toml"),
])
def test_bad_deadlines_name_the_problem(tmp_path, text, error):
    with pytest.raises(SystemExit, match=None) as exc:
        load_deadlines(write(tmp_path / "deadlines.toml", text))
    assert error in str(exc.value)


# ---------------------------------------------------------------- overrides


def test_overrides_load_and_check(tmp_path):
    path = write(tmp_path / "overrides.csv",
                 "# scores set by hand\nstudent,assignment,grade_id,points,comment\n"
                 "alice,a1,essay,1,\"clear, short\"\n\nbob,a1,t2,1.5\n")
    o = load_overrides(path)
    assert o[("alice", "a1", "essay")].points == 1 and o[("alice", "a1", "essay")].comment == "clear, short"
    assert o[("bob", "a1", "t2")].comment == ""
    parts = {"a1": {"t1": 2.0, "t2": 3.0, "essay": 1.0}}
    assert check_overrides(o, parts) == []
    bad = load_overrides(write(tmp_path / "bad.csv", "student,assignment,grade_id,points,comment\n"
                               "alice,a1,t9,1,\nalice,a2,t1,1,\nalice,a1,t1,5,\n"))
    problems = check_overrides(bad, parts)
    assert any("bad.csv line 2: a1 has no graded cell 't9'" in p for p in problems), problems
    assert any("line 3: no assignment 'a2'" in p for p in problems), problems
    assert any("line 4: 5 points is outside 0..2 for a1/t1" in p for p in problems), problems


@pytest.mark.parametrize("text, error", [
    ("name,points\n", "the first line must be student,assignment,grade_id,points,comment"),
    ("student,assignment,grade_id,points,comment\na,b,c,lots,\n", "line 2: points 'lots' is not"),
    ("student,assignment,grade_id,points,comment\na,b,c,1\na,b,c,2\n", "already set on"),
    ("student,assignment,grade_id,points,comment\na,b\n", "expected 5 fields, got 2"),
])
def test_bad_overrides_name_the_line(tmp_path, text, error):
    with pytest.raises(SystemExit) as exc:
        load_overrides(write(tmp_path / "overrides.csv", text))
    assert error in str(exc.value)


# ---------------------------------------------------------------- grades and CSVs


def test_finalize_applies_overrides_then_the_late_penalty(tmp_path):
    d = load_deadlines(write(tmp_path / "deadlines.toml", DEADLINES))
    o = load_overrides(write(tmp_path / "o.csv", "student,assignment,grade_id,points,comment\n"
                             "alice,a1,t2,1.5,partial credit\nalice,a1,essay,1,good\n"))
    late = (datetime(2027, 1, 18, 22, 59, tzinfo=UTC) + timedelta(hours=2)).isoformat()
    g = finalize(result("alice", "a1", submitted=late), o, d)
    assert [(gp.part.grade_id, gp.points, gp.source) for gp in g.parts] == [
        ("t1", 2.0, "autograder"), ("t2", 1.5, "override"), ("essay", 1.0, "override")]
    assert (g.raw, g.penalty, g.points, g.ungraded) == (4.5, 4.5 * 0.25, 4.5 * 0.75, 0)
    assert g.late and g.result.max_points == 6.0
    on_time = finalize(result("bob", "a1", submitted=late), {}, d)  # bob has an extension
    assert (on_time.points, on_time.ungraded, on_time.late) == (2.0, 1, False)
    missing = finalize(result("carol", "a1", earned=(0, 0), status="missing"), {}, d)
    assert (missing.points, missing.ungraded) == (0.0, 0)


def test_csvs_long_wide_and_parts(tmp_path):
    grades = [finalize(r, {}, load_deadlines(None)) for r in (
        result("alice", "a1"), result("alice", "a2", earned=(2, 3)), result("bob", "a1", (0, 0)))]
    files = write_grades(grades, tmp_path / "grades" / "grades.csv")
    long = read_csv(files["long"])
    assert tuple(long[0]) == LONG_FIELDS and len(long) == 3
    assert (long[1]["points"], long[1]["max_points"], long[1]["ungraded"]) == ("5", "6", "1")
    wide = read_csv(files["wide"])
    assert list(wide[0]) == ["student", "a1", "a2", "total", "max_total", "percentage"]
    assert wide[0] == {"student": "alice", "a1": "2", "a2": "5", "total": "7", "max_total": "12",
                       "percentage": "58.33"}
    assert wide[1] == {"student": "bob", "a1": "0", "a2": "", "total": "0", "max_total": "12",
                       "percentage": "0.00"}
    parts = read_csv(files["parts"])
    assert tuple(parts[0]) == PART_FIELDS and len(parts) == 9
    assert parts[2] == {"student": "alice", "assignment": "a1", "grade_id": "essay",
                        "kind": "manual", "points": "0", "max_points": "1", "source": "ungraded",
                        "comment": ""}


def test_results_round_trip_and_merge(tmp_path):
    old = [result("alice", "a1"), result("alice", "a2"), result("bob", "a1")]
    save_results(old, tmp_path / "grades.json")
    back = load_results(tmp_path / "grades.json")
    assert back == old
    regraded = result("alice", "a2", earned=(2, 3))
    merged = merge(back, [regraded])
    assert [(r.student, r.assignment) for r in merged] == [("alice", "a1"), ("alice", "a2"),
                                                           ("bob", "a1")]
    assert merged[1] == regraded and merged[0] == old[0]
    write(tmp_path / "broken.json", "[{\"student\": 1}]")
    with pytest.raises(SystemExit, match="is not a saved grading run"):
        load_results(tmp_path / "broken.json")


# ---------------------------------------------------------------- feedback


def test_feedback_hides_hidden_tests_unless_asked(tmp_path):
    g = finalize(result("alice", "a1"), {}, load_deadlines(None))
    text = render_text(g, show_hidden=False)
    assert "FAIL t2 (0/3): AssertionError: too big  (in a hidden test)" in text
    assert "secret" not in text and "secret" not in render_html(g, show_hidden=False)
    assert "(line 4: assert secret(3) == 42)" in render_text(g, show_hidden=True)
    assert "---- essay (?/1): graded by hand, not graded yet" in text
    written = write_feedback([g], tmp_path / "feedback")
    assert sorted(p.relative_to(tmp_path).as_posix() for p in written) == [
        "feedback/alice/a1.html", "feedback/alice/a1.txt"]
    page = (tmp_path / "feedback" / "alice" / "a1.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "<b>2 / 6</b>" in page


def test_hidden_lines_and_path_scrubbing(tmp_path):
    src = "assert f(1) == 1\n### BEGIN HIDDEN TESTS\nassert f(2) == 4\n### END HIDDEN TESTS\nx"
    assert hidden_lines(src) == {3}
    work = tmp_path / "grades" / "autograded" / "alice"
    msg = f"FileNotFoundError: [Errno 2] No such file: '{work}/data.csv' (not {tmp_path}x/y)"
    assert scrub_paths(msg, [work, tmp_path]) == \
        f"FileNotFoundError: [Errno 2] No such file: 'data.csv' (not {tmp_path}x/y)"


# ---------------------------------------------------------------- finding submissions


def test_find_reads_both_layouts_and_suggests_renamed_files(tmp_path):
    subs = tmp_path / "submissions"
    write(subs / "alice" / "01_tensors.ipynb", "{}")
    write(subs / "alice" / "notes.txt", "")
    write(subs / "alice" / ".ipynb_checkpoints" / "01_tensors-checkpoint.ipynb", "{}")
    write(subs / "bob" / "02_graphs" / "02_graphs.ipynb", "{}")
    write(subs / "bob" / "02_graphs" / "timestamp.txt", "2027-01-18 10:00:00.123456 UTC\n")
    write(subs / "bob" / "01_Tensors (1).ipynb", "{}")
    write(subs / "carol" / "tensors.ipynb", "{}")
    known = frozenset({"01_tensors", "02_graphs"})
    alice = find(subs, "alice", "01_tensors", known)
    assert alice.path == subs / "alice" / "01_tensors.ipynb" and alice.submitted.tzinfo
    bob = find(subs, "bob", "02_graphs", known)
    assert bob.submitted == datetime(2027, 1, 18, 10, 0, 0, 123456, tzinfo=UTC)
    assert find(subs, "bob", "01_tensors", known).hint == "; did you mean 01_Tensors (1).ipynb?"
    assert find(subs, "carol", "01_tensors", known).hint == "; did you mean tensors.ipynb?"
    assert find(subs, "alice", "02_graphs", known).hint == ""  # never another assignment's file
    assert extras(subs, "alice", sorted(known)) == ["notes.txt"]
    assert extras(subs, "bob", sorted(known)) == ["01_Tensors (1).ipynb"]
    write(subs / "dan" / "02_graphs" / "02_graphs.ipynb", "{}")
    write(subs / "dan" / "02_graphs" / "timestamp.txt", "soon")
    with pytest.raises(SystemExit, match="'soon' is not a timestamp"):
        find(subs, "dan", "02_graphs", known)


# ---------------------------------------------------------------- the CLI on the fixture


def test_regrading_merges_and_deadlines_overrides_apply(tmp_path):
    """Two assignments, two students; re-grade one student's one assignment; then overrides."""
    sol = tmp_path / "solutions"
    sol.mkdir()
    for name in ("00_fixture", "00_second", "00_third"):  # nobody hands in 00_third
        shutil.copyfile(FIXTURE / "solutions" / "00_fixture.ipynb", sol / f"{name}.ipynb")
    subs = tmp_path / "submissions"
    # alice: nbgrader's collected layout, one day late for 00_fixture
    for name in ("00_fixture", "00_second"):
        write(subs / "alice" / name / "timestamp.txt", "2027-01-19 12:00:00.000000 UTC\n")
        shutil.copyfile(sol / f"{name}.ipynb", subs / "alice" / name / f"{name}.ipynb")
    # bob: the blank exercise for one, a renamed file for the other
    write(subs / "bob" / "00_fixture.ipynb",
          (FIXTURE / "exercises" / "00_fixture.ipynb").read_text())
    shutil.copyfile(sol / "00_fixture.ipynb", subs / "bob" / "00_Second.ipynb")
    grades = tmp_path / "grades"
    write(grades / "deadlines.toml", "[late]\npenalty_per_day = 0.5\n[due]\n"
          "00_fixture = 2027-01-19T00:00:00\n00_second = 2027-01-20T00:00:00\n")
    cmd = ("--solutions", str(sol), "autograde", "submissions", "--cell-timeout", "30",
           "--jobs", "2")
    res = course(*cmd, cwd=tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    # what was handed in is graded; missing work is listed once per student, not per chapter
    assert "graded 3 notebook(s) in" in res.stdout and "notebooks/s" in res.stdout
    assert "[missing]" not in res.stdout and "/00_third" not in res.stdout
    assert "not graded (no student handed them in): 00_third" in res.stdout
    assert "missing work (0 points in the grades), 1 student(s):\n  bob: 00_second\n" \
        in res.stdout
    assert "ignored in bob/: 00_Second.ipynb" in res.stdout
    assert "late work (1):\n  alice/00_fixture: 12.0 h late, -1.5 points" in res.stdout
    rows = {(r["student"], r["assignment"]): r for r in read_csv(grades / "grades.csv")}
    assert len(rows) == 4
    assert [rows[("alice", "00_fixture")][k] for k in ("points", "autograded", "late_penalty")] \
        == ["1.5", "3", "1.5"]
    assert rows[("alice", "00_second")]["points"] == "3"
    assert rows[("bob", "00_second")]["status"] == "missing"
    missing = (grades / "feedback" / "bob" / "00_second.txt").read_text()
    assert "did you mean 00_Second.ipynb?" in missing

    # bob renames the file; re-grading him on that assignment leaves the other rows alone
    (subs / "bob" / "00_Second.ipynb").rename(subs / "bob" / "00_second.ipynb")
    before = (grades / "feedback" / "alice" / "00_fixture.html").read_text()
    res = course(*cmd, "--student", "bob", "--assignment", "00_second", cwd=tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "graded 1 notebook(s)" in res.stdout
    rows = {(r["student"], r["assignment"]): r for r in read_csv(grades / "grades.csv")}
    assert len(rows) == 4 and rows[("bob", "00_second")]["points"] == "3"
    assert rows[("alice", "00_fixture")]["points"] == "1.5"
    assert (grades / "feedback" / "alice" / "00_fixture.html").read_text() == before

    # the essay graded by hand, and partial credit, without running anything
    write(grades / "overrides.csv", "student,assignment,grade_id,points,comment\n"
          "bob,00_second,why_fsum,1,exact sums\nbob,00_fixture,test_mean,1,half right\n")
    res = course("--solutions", str(sol), "grades", cwd=tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    wide = {r["student"]: r for r in read_csv(grades / "grades_wide.csv")}
    assert wide["bob"] == {"student": "bob", "00_fixture": "1", "00_second": "4", "total": "5",
                           "max_total": "8", "percentage": "62.50"}
    text = (grades / "feedback" / "bob" / "00_fixture.txt").read_text()
    assert "PART test_mean (1/2): half right" in text
    for path in grades.joinpath("feedback").rglob("*.*"):
        assert str(tmp_path) not in path.read_text(), path

    write(grades / "overrides.csv", "student,assignment,grade_id,points,comment\n"
          "bob,00_second,why_fsum,7,too many\n")
    res = course("--solutions", str(sol), "grades", cwd=tmp_path)
    assert res.returncode != 0 and "7 points is outside 0..1" in res.stderr


def test_export_hint_and_a_closed_pipe(tmp_path):
    res = course("--solutions", str(FIXTURE / "solutions"), "nbgrader-export", str(tmp_path / "c"))
    assert res.returncode == 0, res.stderr
    assert "nbgrader generate_assignment 00_fixture --force" in res.stdout
    assert "--all" not in res.stdout
    # `python -m course list | head -n 0`: the reader is gone before the first line
    proc = subprocess.Popen([sys.executable, "-m", "course", "list"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)))
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0 and "Traceback" not in err and "BrokenPipe" not in err, err
    proc.stderr.close()
