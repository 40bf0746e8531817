"""Mutation tests for the graders: plausible wrong answers must lose points, with feedback.

``tests/fixtures/mutants/<assignment>/<answer grade_id>/<mutant>.txt`` is the source of a wrong
answer cell (its first line says what is wrong). An answer's tests are the test cells between it
and the next answer cell; a mutant loses points when one of them fails, and every failure must
say more than the exception's name (what was expected, what came back).

Grading a notebook per mutant costs a kernel start and the whole notebook each; instead each
assignment is one notebook, run once by the grader's own executor (``run_worker``: a process,
the sandbox, ``course.guard`` in front of every test cell). It holds the solution's cells but its
tests, then per mutant a block: the mutant's cell and the cells after it up to its part's last
test cell (the next mutant's cell replaces what this one defined); after a part's last mutant the
solution's cell again where a later cell reads what it defines. Then the same blocks with the
solution's cells, which must pass: a mutant's failure is its own, not the notebook's. The cells
after the solution's last test (a server's stop) run last. The assignments run two at a time.
"""

from __future__ import annotations

import ast
import copy
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

pytest.importorskip("nbclient")

from course import ROOT, SOLUTIONS  # noqa: E402
from course.autograde import _read_events, run_worker  # noqa: E402
from course.cells import grade_id, is_answer, is_test, read_notebook, write_notebook  # noqa: E402

MUTANTS = ROOT / "tests" / "fixtures" / "mutants"
CASES = sorted(MUTANTS.glob("*/*/*.txt"))
ASSIGNMENTS = sorted({p.parent.parent.name for p in CASES})


def _case_id(path: Path) -> str:
    return f"{path.parent.parent.name}/{path.parent.name}/{path.stem}"


def _part(cells: list, answer: str) -> tuple[int, list]:
    """The answer cell's index and the code cells after it, up to its last test cell."""
    starts = [i for i, c in enumerate(cells) if grade_id(c) == answer]
    assert len(starts) == 1, f"no answer cell {answer!r}"
    i = starts[0]
    after = []
    for c in cells[i + 1:]:
        if is_answer(c):
            break
        if c.cell_type == "code":
            after.append(c)
    tests = [k for k, c in enumerate(after) if is_test(c)]
    assert tests, f"answer {answer!r} has no test cell after it"
    return i, after[:tests[-1] + 1]


def _used_later(cells: list, i: int, after: list) -> bool:
    """Whether a cell after the part of answer ``i`` reads a name that answer defines."""
    try:
        tree = ast.parse(cells[i].source)
    except SyntaxError:  # IPython syntax: assume it is
        return True
    names = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    names |= {t.id for n in tree.body if isinstance(n, ast.Assign) for t in ast.walk(n)
              if isinstance(t, ast.Name) and isinstance(t.ctx, ast.Store)}
    end = cells.index(after[-1]) if after else i
    later = " ".join(c.source for c in cells[end + 1:] if c.cell_type == "code")
    return any(re.search(rf"\b{re.escape(name)}\b", later) for name in names)


def build(assignment: str) -> tuple[object, dict[int, tuple[str, str | None]]]:
    """The mutation notebook of ``assignment`` and {index: (case id, test grade_id or None)} of
    the mutants' cells (every other cell must run without error)."""
    sol = read_notebook(SOLUTIONS / f"{assignment}.ipynb")
    code = [c for c in sol.cells if c.cell_type == "code"]
    last = max(k for k, c in enumerate(code) if is_test(c))
    nb = copy.deepcopy(sol)
    nb.cells = [c for c in code[:last + 1] if not is_test(c)]
    where: dict[int, tuple[str, str | None]] = {}

    def block(answer, after: list, path: Path | None) -> None:
        """``answer`` and copies of ``after``; a mutant's cells are noted in ``where``."""
        for cell in [answer, *after]:
            cell = copy.deepcopy(cell)
            test = grade_id(cell) if is_test(cell) else None
            if test:  # an id of its own: the worker puts the guard in front of it all the same
                cell.metadata["nbgrader"]["grade_id"] = f"{test}--{path.stem if path else 'ok'}"
            if path is not None:
                where[len(nb.cells)] = (_case_id(path), test)
            nb.cells.append(cell)

    parts = [_part(sol.cells, p.name) + (sorted(p.glob("*.txt")),)
             for p in sorted((MUTANTS / assignment).iterdir()) if p.is_dir()]
    for i, after, paths in parts:
        for path in paths:
            mutant = copy.deepcopy(sol.cells[i])
            mutant.source = path.read_text()
            block(mutant, after, path)
        if _used_later(sol.cells, i, after):  # the right answer again for the later parts
            nb.cells.append(copy.deepcopy(sol.cells[i]))
    for i, after, _ in parts:  # the right answers pass the same blocks
        block(sol.cells[i], after, None)
    nb.cells += code[last + 1:]  # what follows the last test (a server's stop) runs last
    for n, cell in enumerate(nb.cells):
        cell.id = f"cell-{n}"  # the copies' ids must be unique too
    return nb, where


@pytest.fixture(scope="module")
def outcomes(request, tmp_path_factory):
    """{case id: [(test grade_id, done event)]} of every mutant selected (``-k 01_``: only 01's)."""
    tmp = tmp_path_factory.mktemp("mutants")
    chosen = sorted({item.callspec.params["path"].parent.parent.name
                     for item in request.session.items
                     if getattr(item, "callspec", None) and "path" in item.callspec.params
                     and item.module.__name__ == __name__})

    def run(assignment: str):
        nb, where = build(assignment)
        work = tmp / assignment
        work.mkdir()
        write_notebook(nb, work / f"{assignment}.ipynb")
        t0 = time.monotonic()
        rc = run_worker(work / f"{assignment}.ipynb", work / "events.jsonl", work,
                        cell_timeout=60, notebook_timeout=240)
        log = _read_events(work / "events.jsonl")
        return assignment, rc, log, where, time.monotonic() - t0

    found: dict[str, list] = {}
    seconds = {}
    with ThreadPoolExecutor(max_workers=2) as pool:
        for assignment, rc, log, where, dt in pool.map(run, chosen):
            seconds[assignment] = round(dt, 1)
            assert rc == 0, f"{assignment}: the worker exited with {rc}: {log[-3:]}"
            done = {e["index"]: e for e in log if e.get("event") == "done"}
            for index, event in done.items():
                if index not in where and not event["ok"]:
                    pytest.fail(f"{assignment}: cell {index} (a solution's) failed: "
                                f"{event.get('error')}")
            for index, (case, test) in where.items():
                assert index in done, f"{case}: cell {index} did not run"
                if test:
                    found.setdefault(case, []).append((test, done[index]))
    print("mutation notebooks, seconds:", seconds)
    return found


@pytest.mark.parametrize("path", CASES, ids=_case_id)
def test_each_mutant_loses_points_with_specific_feedback(outcomes, path):
    tests = outcomes[_case_id(path)]
    failed = [(test, e) for test, e in tests if not e["ok"]]
    assert failed, f"{path.name} ({path.read_text().splitlines()[0]}) passes {[t for t, _ in tests]}"
    for test, e in failed:
        print(f"{_case_id(path)}: FAIL {test}: {e.get('error', '')[:300]}")
        name, _, message = e.get("error", "").partition(":")
        assert message.strip(), f"{test} fails {path.name} with a bare {name}: say what was wrong"


def test_every_answer_has_mutants_that_say_what_is_wrong():
    for path in CASES:
        assert path.read_text().startswith("# "), f"{path}: first line is '# what is wrong'"
    for assignment in ASSIGNMENTS:
        assert (SOLUTIONS / f"{assignment}.ipynb").exists(), f"mutants for no assignment {assignment}"
    few = []
    for path in sorted(SOLUTIONS.glob("*.ipynb")):
        for cell in read_notebook(path).cells:
            if is_answer(cell) and cell.cell_type == "code":
                n = len(list((MUTANTS / path.stem / grade_id(cell)).glob("*.txt")))
                if not 2 <= n <= 4:
                    few.append(f"{path.stem}/{grade_id(cell)}: {n}")
    assert not few, f"expected 2 to 4 mutants per answer, got {few}"


def test_every_assert_in_a_test_cell_says_what_came_back():
    """A bare ``assert x == y`` tells a student only ``AssertionError``; each must have a message
    (or be a ``course.checks`` call, whose failures say what was expected and what came back)."""
    bare = []
    for path in sorted(SOLUTIONS.glob("*.ipynb")):
        for cell in read_notebook(path).cells:
            if is_test(cell):
                bare += [f"{path.stem}/{grade_id(cell)} line {n.lineno}"
                         for n in ast.walk(ast.parse(cell.source))
                         if isinstance(n, ast.Assert) and n.msg is None]
    assert not bare, f"asserts without a message: {bare}"
