"""Check that solution notebooks are well-formed nbgrader assignments."""

from __future__ import annotations

import re
from pathlib import Path

from .cells import NotebookError, grade_id, is_answer, is_test, meta, points, read_notebook
from .generate import leaks, make_exercise

_ID = re.compile(r"^[A-Za-z0-9_-]+$")
_PAIRS = (("BEGIN SOLUTION", "END SOLUTION"), ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS"))


def validate_notebook(path: Path) -> list[str]:
    """Problems with one solution notebook, each naming the notebook and the cell."""
    try:
        nb = read_notebook(path)
    except NotebookError as exc:
        return [str(exc)]
    problems, seen, n_tests = [], set(), 0
    for i, cell in enumerate(nb.cells, 1):
        where = f"{path.name} cell {i}"
        m = meta(cell)
        for begin, end in _PAIRS:
            opened = sum(begin in ln for ln in cell.source.splitlines())
            closed = sum(end in ln for ln in cell.source.splitlines())
            if opened != closed:
                problems.append(f"{where}: {opened} '{begin}' but {closed} '{end}'")
        if "BEGIN SOLUTION" in cell.source and not is_answer(cell):
            problems.append(f"{where}: a solution region in a cell not marked solution: true")
        if "BEGIN HIDDEN TESTS" in cell.source and not is_test(cell):
            problems.append(f"{where}: hidden tests in a cell that is not an autograded test")
        if not m:
            continue
        gid = grade_id(cell)
        if m.get("schema_version") != 3:
            problems.append(f"{where}: nbgrader schema_version {m.get('schema_version')!r}, need 3")
        if gid is None or not _ID.match(gid):
            problems.append(f"{where}: grade_id {gid!r} must be letters, digits, _ and -")
        elif gid in seen:
            problems.append(f"{where}: duplicate grade_id {gid!r}")
        seen.add(gid)
        if m.get("grade") and points(cell) <= 0:
            problems.append(f"{where} ({gid}): a graded cell needs points > 0")
        if is_test(cell):
            n_tests += 1
        if is_answer(cell) and cell.cell_type == "code" and "BEGIN SOLUTION" not in cell.source:
            problems.append(f"{where} ({gid}): answer cell without '### BEGIN SOLUTION'")
    if n_tests == 0:
        problems.append(f"{path.name}: no autograded test cells (grade: true, solution: false)")
    if not problems:
        problems += [f"{path.name}: leak {x}" for x in leaks(nb, make_exercise(nb))]
    return problems


def validate(solutions: Path) -> list[str]:
    """Problems across all ``solutions/*.ipynb``."""
    out = []
    for path in sorted(solutions.glob("*.ipynb")):
        out += validate_notebook(path)
    return out
