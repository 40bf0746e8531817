"""Grade a folder of submissions against the solutions: restore tests, execute, score.

Each submission (found by ``submissions.py``) is copied (never modified), rebuilt with the
instructor's test and locked cells (``restore.py``), executed in a process and kernel of its own
(``worker.py``, started by ``run_worker``) with a per-cell and a per-notebook timeout, and scored:
a test cell earns its points when it raises no error. ``gradebook.py`` turns the Results into
grades (overrides, late policy, CSVs), ``feedback.py`` into what students read.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
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
from .submissions import Submission, extras, find, students

_ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Part:
    """One graded cell of an assignment (an autograded test or a hand-graded answer)."""

    grade_id: str
    points: float  # the most it can earn
    kind: str = "test"  # test | manual
    earned: float = 0.0
    message: str = "not run"  # "passed", or the error's "Name: message"
    line: int | None = None  # the failing line of the cell, when known
    code: str = ""  # that line's source
    hidden: bool = False  # the failing line is in the hidden tests


@dataclass
class Result:
    """What the autograder found for one student's assignment."""

    student: str
    assignment: str
    status: str = "ok"  # ok | missing | invalid | timeout | crashed | error
    note: str = ""  # for the student: no instructor paths
    detail: str = ""  # for the instructor only (e.g. where the worker's log is)
    submitted: str | None = None  # ISO 8601, UTC
    seconds: float = 0.0
    parts: list[Part] = field(default_factory=list)

    @property
    def tests(self) -> list[Part]:
        return [p for p in self.parts if p.kind == "test"]

    @property
    def autograded(self) -> float:
        """The points the tests earned (before overrides and late policy)."""
        return sum(p.earned for p in self.tests)

    @property
    def max_points(self) -> float:
        """Autograded and hand-graded points together, as nbgrader's ``max_score``."""
        return sum(p.points for p in self.parts)


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
        """The autograded points."""
        return sum(points(c) for c in self.tests)

    @property
    def manual_points(self) -> float:
        """The points graded by hand."""
        return sum(points(c) for c in self.solution.cells if is_manual(c))

    def parts(self) -> list[Part]:
        """A fresh, ungraded Part per test and hand-graded cell, in notebook order."""
        return [Part(grade_id(c) or "?", points(c), "test" if is_test(c) else "manual",
                     message="not run" if is_test(c) else "graded by hand: not graded yet")
                for c in self.solution.cells if is_test(c) or is_manual(c)]


def load_assignments(solutions: Path) -> dict[str, Assignment]:
    """Every ``solutions/*.ipynb``, keyed by file stem."""
    out = {}
    for path in sorted(solutions.glob("*.ipynb")):
        nb = read_notebook(path)
        out[path.stem] = Assignment(path.stem, nb, make_exercise(nb))
    return out


def select(table: dict[str, Assignment], names: list[str] | None, where: Path
           ) -> dict[str, Assignment]:
    """``table`` restricted to ``names`` (all when None); SystemExit for an unknown name."""
    if not names:
        return table
    unknown = sorted(set(names) - set(table))
    if unknown:
        raise SystemExit(f"no such assignment in {where}: {', '.join(unknown)}")
    return {k: v for k, v in table.items() if k in names}


@dataclass
class Batch:
    """A grading run: its Results, the files it ignored, and how long it took."""

    results: list[Result]
    ignored: dict[str, list[str]]  # student -> files that are not a known submission
    seconds: float
    unsubmitted: list[str] = field(default_factory=list)  # assignments nobody handed in, skipped

    def missing(self) -> dict[str, list[str]]:
        """student -> the assignments of this run they did not hand in (each listed once)."""
        out: dict[str, list[str]] = {}
        for r in self.results:
            if r.status == "missing":
                out.setdefault(r.student, []).append(r.assignment)
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
    only_students: list[str] | None = None,
    on_result: Callable[[Result, int, int], None] | None = None,
    loaded: dict[str, Assignment] | None = None,
) -> Batch:
    """Grade ``<student>/<assignment>`` under ``submissions``, ``jobs`` notebooks at a time.

    Each notebook runs in its own process with its own timeout, so a hanging one holds one job
    slot and the others go on. ``on_result(result, done, total)`` is called as each finishes;
    ``loaded`` is ``load_assignments(solutions)`` when the caller has it already.
    """
    # Absolute from here on: the worker runs in another folder, in another process.
    submissions, solutions, workdir = submissions.resolve(), solutions.resolve(), workdir.resolve()
    full = loaded if loaded is not None else load_assignments(solutions)
    table = select(full, assignments, solutions)
    names = students(submissions, only_students)
    workdir.mkdir(parents=True, exist_ok=True)
    known = frozenset(full)
    subs = {(s, a): find(submissions, s, a, known) for s in names for a in table}
    # Without a list of assignments, grade what was handed in: an assignment no student
    # submitted is not due yet, and is skipped rather than given everyone a 0.
    unsubmitted = [] if assignments else [
        a for a in table if all(subs[s, a].path is None for s in names)]
    table = {k: v for k, v in table.items() if k not in unsubmitted}
    # Missing work costs nothing to grade: it is a Result at once, not a progress line.
    results = [grade_one(subs[s, a.name], s, a, workdir, cell_timeout, notebook_timeout)
               for s in names for a in table.values() if subs[s, a.name].path is None]
    todo = [(s, a) for s in names for a in table.values() if subs[s, a.name].path is not None]

    def one(job: tuple[str, Assignment]) -> Result:
        student, a = job
        t0 = time.monotonic()
        res = grade_one(subs[student, a.name], student, a, workdir / student / a.name,
                        cell_timeout, notebook_timeout, hide=[submissions, solutions, workdir])
        res.seconds = round(time.monotonic() - t0, 2)
        return res

    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [pool.submit(one, job) for job in todo]
        for n, fut in enumerate(as_completed(futures), 1):
            results.append(fut.result())
            if on_result:
                on_result(results[-1], n, len(todo))
    results.sort(key=lambda r: (r.student, r.assignment))
    ignored = {s: x for s in names if (x := extras(submissions, s, sorted(full)))}
    return Batch(results, ignored, time.monotonic() - t0, unsubmitted)


def grade_one(sub: Submission, student: str, a: Assignment, work: Path, cell_timeout: float,
              notebook_timeout: float, hide: list[Path] = ()) -> Result:
    """Grade one submission; every failure becomes a Result, never an exception.

    ``hide`` are folders the student's code must not see (in the sandbox, where there is one).
    """
    res = Result(student, a.name, parts=a.parts())
    if sub.submitted is not None:
        res.submitted = sub.submitted.isoformat(timespec="seconds")
    try:
        _grade_one(res, sub, a, work, cell_timeout, notebook_timeout, hide)
    except Exception as exc:  # one broken submission must not stop the class's grading
        res.status = "error"
        res.note = "the grader failed on this submission; your instructor will look into it"
        res.detail = f"{type(exc).__name__}: {exc}"
    return res


def _grade_one(res: Result, sub: Submission, a: Assignment, work: Path, cell_timeout: float,
               notebook_timeout: float, hide: list[Path]) -> None:
    if sub.path is None:
        res.status, res.note = "missing", f"no submission: expected {a.name}.ipynb{sub.hint}"
        return
    try:
        submission = read_notebook(sub.path)
    except NotebookError as exc:
        res.status, res.note = "invalid", str(exc)
        return

    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    shutil.copy2(sub.path, work / "submitted.ipynb")  # the student's file itself is only read
    graded = work / f"{a.name}.ipynb"
    write_notebook(restore(submission, a.solution), graded)
    events = work / "events.jsonl"
    rc = run_worker(graded, events, work, cell_timeout, notebook_timeout, hide)
    log = _read_events(events)
    _score(res, log, graded, scrub=[work, sub.path.parent, Path.home(), _ROOT])
    killed = next((e["why"] for e in log if e.get("event") == "killed"), None)
    if rc is None:
        res.status = "timeout"
        res.note = f"the notebook ran longer than {notebook_timeout:g} s and was stopped"
    elif rc == 3:
        res.status, res.note = "crashed", "the kernel died (crash or exit) while running the notebook"
        if killed:
            res.note = f"the grader stopped the kernel: {killed}"
    elif rc != 0:
        res.status = "error"
        res.note = "the grader could not run the notebook; your instructor will look into it"
        res.detail = f"the worker exited with {rc}; see {work / 'worker.log'}"


def worker_command(graded: Path, events: Path, cell_timeout: float, scratch: Path | None = None,
                   jail: list[str] = ()) -> list[str]:
    """The command that executes one graded notebook (absolute paths: it runs in its folder).

    The student's code runs in ``scratch`` (its only writable folder), under ``jail``:
    ``course.jail`` options (limits, folders to hide).
    """
    cmd = [sys.executable, "-m", "course.worker", str(graded.resolve()), str(events.resolve()),
           "--cell-timeout", str(cell_timeout)]
    if scratch is not None:
        cmd += ["--scratch", str(scratch.resolve())]
    return [*cmd, "--", *jail] if jail else cmd


def jail_options(notebook_timeout: float, hide: list[Path] = ()) -> list[str]:
    """``course.jail`` options for one notebook: its limits, and the folders it must not see.

    ``COURSE_MEMORY_MIB`` (default 4096, address space) and ``COURSE_FSIZE_MIB`` (default 64,
    largest file) override the limits.
    """
    out = ["--memory-mib", os.environ.get("COURSE_MEMORY_MIB", "4096"),
           "--fsize-mib", os.environ.get("COURSE_FSIZE_MIB", "64"),
           "--cpu-s", str(int(notebook_timeout) + 10)]
    for path in hide:
        out += ["--hide", str(Path(path).resolve())]
    return out


def run_worker(graded: Path, events: Path, work: Path, cell_timeout: float,
               notebook_timeout: float, hide: list[Path] = ()) -> int | None:
    """Execute ``graded`` in a process of its own in ``work``; its exit code, None on timeout.

    The one place a student's code is started: its kernel runs in ``work/scratch`` under
    ``course.jail`` (resource limits; bubblewrap where installed, with ``hide`` hidden, so the
    instructor's notebook next to the scratch folder cannot be read).
    """
    env = dict(os.environ, PYTHONPATH=_pythonpath())
    scratch = work / "scratch"
    scratch.mkdir(exist_ok=True)
    command = worker_command(graded, events, cell_timeout, scratch,
                             jail_options(notebook_timeout, [*hide, work]))
    with open(work / "worker.log", "wb") as log:
        proc = subprocess.Popen(command, stdout=log,
                                stderr=subprocess.STDOUT, env=env, cwd=work)
        try:
            return proc.wait(timeout=notebook_timeout)
        except subprocess.TimeoutExpired:
            _kill_tree(proc)
            return None


def hidden_lines(source: str) -> set[int]:
    """1-based numbers of the lines inside ``### BEGIN/END HIDDEN TESTS`` markers."""
    out, inside = set(), False
    for n, line in enumerate(source.splitlines(), 1):
        if "BEGIN HIDDEN TESTS" in line:
            inside = True
        elif "END HIDDEN TESTS" in line:
            inside = False
        elif inside:
            out.add(n)
    return out


def _score(res: Result, events: list[dict], graded: Path, scrub: list[Path]) -> None:
    """Fill in each test's outcome from the worker's events."""
    cells = read_notebook(graded).cells
    done = {e["index"]: e for e in events if e.get("event") == "done"}
    started = [e["index"] for e in events if e.get("event") == "start"]
    hung = started[-1] if started and started[-1] not in done else None
    by_id = {p.grade_id: p for p in res.tests}
    for i, cell in enumerate(cells):
        test = by_id.get(grade_id(cell)) if is_test(cell) else None
        if test is None:
            continue
        if i in done:
            ev = done[i]
            test.earned = test.points if ev["ok"] else 0.0
            test.message = "passed" if ev["ok"] else scrub_paths(ev["error"], scrub)
            if not ev["ok"] and ev.get("line"):
                test.line, test.code = ev["line"], ev.get("code", "")
                test.hidden = ev["line"] in hidden_lines(cell.source)
        elif i == hung:
            test.message = "stopped: this cell was running when the notebook was stopped"
        elif hung is not None and i > hung:
            test.message = "not run: an earlier cell hung"
    for i in sorted(done):
        if not done[i]["ok"] and i < len(cells) and not is_test(cells[i]):
            error = scrub_paths(done[i]["error"], scrub)
            res.note = res.note or f"first error outside a test, in cell {i + 1}: {error}"
            break


def scrub_paths(text: str, roots: list[Path]) -> str:
    """``text`` without the grader's folders (nothing a student reads names the instructor's)."""
    for root in sorted({str(r.resolve()) for r in roots}, key=len, reverse=True):
        if len(root) > 1:
            text = re.sub(re.escape(root) + r"(?:/|(?![\w.-]))", "", text)
    return text


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
    here = str(_ROOT)
    # the worker starts in another folder: a relative entry would point elsewhere there
    rest = [str(Path(p).resolve()) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    return os.pathsep.join([here, *rest])
