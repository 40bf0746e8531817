"""Generate student exercises from instructor solutions with nbgrader's own preprocessors.

The rules are nbgrader's ``generate_assignment``: solution regions become
``# YOUR CODE HERE`` / ``raise NotImplementedError()``, hidden tests are removed, outputs are
cleared; nbgrader metadata is kept. The output is canonical JSON, so regenerating is a no-op.
"""

from __future__ import annotations

import copy
import difflib
from dataclasses import dataclass
from pathlib import Path

from nbformat import NotebookNode

from .cells import dumps, grade_id, is_answer, is_test, read_notebook

# Volatile metadata that execution or a front-end adds; never part of an exercise.
_CELL_META_DROP = ("execution", "ExecuteTime", "collapsed", "scrolled")
_NB_META_DROP = ("widgets", "celltoolbar")
_SOLUTION_MARKERS = ("BEGIN SOLUTION", "END SOLUTION")
_HIDDEN_MARKERS = ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS")


def make_exercise(solution: NotebookNode) -> NotebookNode:
    """Return the student version of ``solution`` (which is left unchanged)."""
    from nbgrader.preprocessors import ClearHiddenTests, ClearOutput, ClearSolutions

    nb = copy.deepcopy(solution)
    resources: dict = {}
    for pre in (ClearSolutions(), ClearHiddenTests(), ClearOutput()):
        nb, resources = pre.preprocess(nb, resources)
    for key in _NB_META_DROP:
        nb.metadata.pop(key, None)
    # Executing a solution records the Python version here; the exercise must not depend on it.
    lang = nb.metadata.get("language_info", {}).get("name")
    if lang:
        nb.metadata["language_info"] = {"name": lang}
    for i, cell in enumerate(nb.cells):
        for key in _CELL_META_DROP:
            cell.metadata.pop(key, None)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        if nb.nbformat_minor >= 5 and not cell.get("id"):
            cell.id = grade_id(cell) or f"cell-{i}"  # deterministic, unlike nbformat's random ids
    return nb


def leaks(solution: NotebookNode, exercise: NotebookNode) -> list[str]:
    """Solution or hidden-test lines of ``solution`` that survive in ``exercise``."""
    found = []
    text = dumps(exercise)
    for marker in _SOLUTION_MARKERS + _HIDDEN_MARKERS:
        if marker in text:
            found.append(f"marker {marker!r} present")
    ex_cells = {grade_id(c): c for c in exercise.cells if grade_id(c)}
    for cell in solution.cells:
        gid = grade_id(cell)
        markers = _SOLUTION_MARKERS if is_answer(cell) else _HIDDEN_MARKERS if is_test(cell) else ()
        if not markers or gid not in ex_cells:
            continue
        secret, public = _split_regions(cell.source, *markers)
        ex_lines = {ln.strip() for ln in ex_cells[gid].source.splitlines()}
        for line in sorted(secret - public):
            if line in ex_lines:
                found.append(f"{gid}: {line!r}")
    return found


def _split_regions(source: str, begin: str, end: str) -> tuple[set[str], set[str]]:
    """Non-blank stripped lines inside and outside the ``begin``..``end`` regions."""
    inside, outside, in_region = set(), set(), False
    for line in source.splitlines():
        if begin in line:
            in_region = True
        elif end in line:
            in_region = False
        elif line.strip():
            (inside if in_region else outside).add(line.strip())
    return inside, outside


@dataclass
class Change:
    """One exercise file that generation writes, rewrites or removes."""

    path: Path
    action: str  # "create" | "update" | "remove"
    diff: str = ""


def generate(solutions: Path, exercises: Path, *, check: bool = False) -> list[Change]:
    """Bring ``exercises`` in line with ``solutions``; with ``check`` only report what differs."""
    changes: list[Change] = []
    wanted = {}
    for src in sorted(solutions.glob("*.ipynb")):
        solution = read_notebook(src)
        exercise = make_exercise(solution)
        bad = leaks(solution, exercise)
        if bad:
            raise RuntimeError(f"{src.name}: solution text would leak into the exercise: {bad}")
        wanted[exercises / src.name] = dumps(exercise)
    for path, text in wanted.items():
        old = path.read_text(encoding="utf-8") if path.exists() else None
        if old == text:
            continue
        diff = "" if old is None else "".join(difflib.unified_diff(
            old.splitlines(True), text.splitlines(True), str(path), "generated", n=1))
        changes.append(Change(path, "create" if old is None else "update", diff))
    if exercises.is_dir():
        for path in sorted(exercises.glob("*.ipynb")):
            if path not in wanted:
                changes.append(Change(path, "remove"))
    if not check:
        exercises.mkdir(parents=True, exist_ok=True)
        for ch in changes:
            if ch.action == "remove":
                ch.path.unlink()
            else:
                ch.path.write_text(wanted[ch.path], encoding="utf-8")
    return changes
