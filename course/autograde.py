"""Grade a folder of submissions against the solutions: restore tests, execute, score, report.

``SUBMISSIONS/<student>/<NN_name>.ipynb`` is copied (never modified), rebuilt with the
instructor's test and locked cells (``restore.py``), executed in its own process and kernel
(``worker.py``) with a per-cell and a per-notebook timeout, and scored: a test cell earns its
points when it raises no error. Results go to a CSV and to one feedback file per student.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from nbformat import NotebookNode

from .cells import (
    NotebookError,
    grade_id,
    is_manual,
    is_test,
    points,
    read_notebook,
    write_notebook,
)
from .generate import make_exercise
from .restore import restore

CSV_FIELDS = ("student", "assignment", "points", "max_points", "status")


@dataclass
class Test:
    """One autograded test cell and its outcome."""

    grade_id: str
    points: float
    earned: float = 0.0
    message: str = "not run"


@dataclass
class Result:
    """One student's grade on one assignment."""

    student: str
    assignment: str
    max_points: float
    status: str = "ok"  # ok | missing | invalid | timeout | crashed | error
    note: str = ""
    tests: list[Test] = field(default_factory=list)
    manual: list[str] = field(default_factory=list)

    @property
    def points(self) -> float:
        return sum(t.earned for t in self.tests)


@dataclass
class Assignment:
    """A solution notebook and what grading needs from it."""

    name: str
    solution: NotebookNode
    exercise: NotebookNode

    @property
    def tests(self) -> list[NotebookNode]:
        return [c for c in self.solution.cells if is_test(c)]

    @property
    def max_points(self) -> float:
        return sum(points(c) for c in self.tests)


def load_assignments(solutions: Path) -> dict[str, Assignment]:
    """Every ``solutions/*.ipynb``, keyed by file stem."""
    out = {}
    for path in sorted(solutions.glob("*.ipynb")):
        nb = read_notebook(path)
        out[path.stem] = Assignment(path.stem, nb, make_exercise(nb))
    return out


def grade_all(
    submissions: Path,
    solutions: Path,
    workdir: Path,
    *,
    cell_timeout: float = 60.0,
    notebook_timeout: float = 300.0,
    jobs: int = 2,
    assignments: list[str] | None = None,
) -> list[Result]:
    """Grade every ``<student>/<assignment>.ipynb`` under ``submissions``; one Result per pair."""
    submissions, solutions, workdir = submissions.resolve(), solutions.resolve(), workdir.resolve()
    table = load_assignments(solutions)
    if assignments:
        unknown = sorted(set(assignments) - set(table))
        if unknown:
            raise SystemExit(f"no such assignment in {solutions}: {', '.join(unknown)}")
        table = {k: v for k, v in table.items() if k in assignments}
    students = sorted(p.name for p in submissions.iterdir() if p.is_dir() and not p.name.startswith("."))
    jobs_list = [(s, a) for s in students for a in table.values()]
    workdir.mkdir(parents=True, exist_ok=True)

    def one(job: tuple[str, Assignment]) -> Result:
        student, a = job
        return grade_one(submissions / student / f"{a.name}.ipynb", student, a,
                         workdir / student / a.name, cell_timeout, notebook_timeout)

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(one, jobs_list))


def grade_one(
    path: Path, student: str, a: Assignment, work: Path, cell_timeout: float, notebook_timeout: float
) -> Result:
    """Grade one submission file; every failure becomes a Result, never an exception."""
    try:
        return _grade_one(path, student, a, work, cell_timeout, notebook_timeout)
    except Exception as exc:  # one broken submission must not stop the class's grading
        res = Result(student, a.name, a.max_points, status="error")
        res.note = f"the grader failed on this submission: {type(exc).__name__}: {exc}"
        return res


def _grade_one(
    path: Path, student: str, a: Assignment, work: Path, cell_timeout: float, notebook_timeout: float
) -> Result:
    res = Result(student, a.name, a.max_points,
                 tests=[Test(grade_id(c) or "?", points(c)) for c in a.tests],
                 manual=[grade_id(c) or "?" for c in a.solution.cells if is_manual(c)])
    if not path.is_file():
        res.status, res.note = "missing", f"no submission: expected {student}/{path.name}"
        return res
    try:
        submission = read_notebook(path)
    except NotebookError as exc:
        res.status, res.note = "invalid", str(exc)
        return res

    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    shutil.copy2(path, work / "submitted.ipynb")  # the student's file itself is only ever read
    graded = work / f"{a.name}.ipynb"
    write_notebook(restore(submission, a.solution), graded)
    events = work / "events.jsonl"

    cmd = [sys.executable, "-m", "course.worker", str(graded), str(events),
           "--cell-timeout", str(cell_timeout)]
    env = dict(os.environ, PYTHONPATH=_pythonpath())
    with open(work / "worker.log", "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=work)
        try:
            rc = proc.wait(timeout=notebook_timeout)
        except subprocess.TimeoutExpired:
            _kill_tree(proc)
            rc = None
    _score(res, _read_events(events), graded)
    if rc is None:
        res.status = "timeout"
        res.note = f"the notebook ran longer than {notebook_timeout:g} s and was stopped"
    elif rc == 3:
        res.status, res.note = "crashed", "the kernel died (crash or exit) while running the notebook"
    elif rc != 0:
        res.status = "error"
        res.note = f"the grader could not run the notebook (exit {rc}); see {work}/worker.log"
    return res


def _score(res: Result, events: list[dict], graded: Path) -> None:
    """Fill in each test's outcome from the worker's events."""
    cells = read_notebook(graded).cells
    done = {e["index"]: e for e in events if e.get("event") == "done"}
    started = [e["index"] for e in events if e.get("event") == "start"]
    hung = started[-1] if started and started[-1] not in done else None
    by_id = {t.grade_id: t for t in res.tests}
    for i, cell in enumerate(cells):
        test = by_id.get(grade_id(cell)) if is_test(cell) else None
        if test is None:
            continue
        if i in done:
            ok = done[i]["ok"]
            test.earned = test.points if ok else 0.0
            test.message = "passed" if ok else done[i]["error"]
        elif i == hung:
            test.message = "stopped: this cell was running when the notebook was stopped"
        elif hung is not None and i > hung:
            test.message = "not run: an earlier cell hung"
    for i in sorted(done):
        if not done[i]["ok"] and i < len(cells) and not is_test(cells[i]):
            res.note = res.note or f"first error outside a test, in cell {i + 1}: {done[i]['error']}"
            break


def _read_events(path: Path) -> list[dict]:
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            break  # a line cut short when the worker was killed
    return out


def _kill_tree(proc: subprocess.Popen) -> None:
    """Kill the worker and its kernel (the kernel runs in a session of its own)."""
    import psutil

    try:
        family = psutil.Process(proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        family = []
    for p in [*family]:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass
    proc.kill()
    proc.wait()
    psutil.wait_procs(family, timeout=5)


def _pythonpath() -> str:
    """Let the worker import this package even when it is not installed."""
    here = str(Path(__file__).resolve().parent.parent)
    # the worker starts in another folder: a relative entry would point elsewhere there
    rest = [str(Path(p).resolve()) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    return os.pathsep.join([here, *rest])


def write_csv(results: list[Result], out: Path) -> None:
    """One row per (student, assignment)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(CSV_FIELDS)
        for r in results:
            w.writerow([r.student, r.assignment, _num(r.points), _num(r.max_points), r.status])


def write_feedback(results: list[Result], folder: Path) -> list[Path]:
    """``folder/<student>.txt``: per assignment, the score, each test's outcome and error line."""
    folder.mkdir(parents=True, exist_ok=True)
    by_student: dict[str, list[Result]] = {}
    for r in results:
        by_student.setdefault(r.student, []).append(r)
    written = []
    for student, rs in by_student.items():
        lines = [f"Feedback for {student}", ""]
        for r in rs:
            lines.append(f"{r.assignment}: {_num(r.points)} / {_num(r.max_points)} points"
                         + ("" if r.status == "ok" else f"  [{r.status}]"))
            if r.note:
                lines.append(f"  ! {r.note}")
            if r.status not in ("missing", "invalid"):
                for t in r.tests:
                    mark = "PASS" if t.earned else "FAIL"
                    lines.append(f"  {mark} {t.grade_id} ({_num(t.earned)}/{_num(t.points)})"
                                 + ("" if t.earned else f": {t.message}"))
            for gid in r.manual:
                lines.append(f"  ---- {gid}: graded by hand, not included above")
            lines.append("")
        path = folder / f"{student}.txt"
        path.write_text("\n".join(lines), encoding="utf-8")
        written.append(path)
    return written


def _num(x: float) -> str:
    return f"{x:g}"
