"""Build the notebook that is graded from a student's submission and the instructor's solution.

The instructor's cells win: every test and locked cell is taken from the solution (hidden tests
included), in the solution's order, whatever the student did to it (edited, moved, deleted,
duplicated). The student's answer cells are matched by ``grade_id``; any other cell the student
added stays after the instructor cell it followed. Forged nbgrader metadata is dropped.
"""

from __future__ import annotations

import copy

from nbformat import NotebookNode

from .cells import grade_id, is_answer, is_protected


def restore(submission: NotebookNode, solution: NotebookNode) -> NotebookNode:
    """Return the graded notebook; neither input is modified.

    An answer cell the student deleted stays deleted (no stub comes back to overwrite code the
    student may have moved to a cell of their own); one turned into another kind of cell is
    kept as the student's own cell.
    """
    official = {grade_id(c): c for c in solution.cells if grade_id(c)}

    answers: dict[str, NotebookNode] = {}
    trailing: dict[str | None, list[NotebookNode]] = {None: []}
    anchor: str | None = None
    for cell in submission.cells:
        gid = grade_id(cell)
        if gid in official and gid not in answers and gid not in trailing:
            anchor = gid
            trailing[gid] = []
            if is_answer(official[gid]) and cell.cell_type == official[gid].cell_type:
                answers[gid] = cell
            elif is_answer(official[gid]):
                trailing[gid].append(_plain(cell))
            continue
        trailing[anchor].append(_plain(cell))  # a student's own cell, or a duplicate

    n = 0
    for own in trailing.values():
        for cell in own:
            n += 1
            cell.id = f"student-{n}"  # unique even where the student duplicated a cell
    cells = list(trailing[None])
    for i, cell in enumerate(solution.cells):
        gid = grade_id(cell)
        if gid is None:
            continue  # prose and unmarked cells: the student's copy (if any) is kept in place
        if is_protected(cell) or not is_answer(cell):
            new = copy.deepcopy(cell)
        elif gid in answers:
            new = copy.deepcopy(answers[gid])
            new.metadata["nbgrader"] = copy.deepcopy(cell.metadata["nbgrader"])
        else:
            cells.extend(trailing.get(gid, []))
            continue
        if new.cell_type == "code":
            new.outputs, new.execution_count = [], None
        new.id = cell.get("id") or f"cell-{i}"
        cells.append(new)
        cells.extend(trailing.get(gid, []))

    nb = copy.deepcopy(solution)
    nb.nbformat_minor = max(nb.get("nbformat_minor", 5), 5)  # 4.5+: cells carry ids
    nb.cells = cells
    nb.metadata.pop("widgets", None)
    return nb


def _plain(cell: NotebookNode) -> NotebookNode:
    """A copy of a student cell with any nbgrader metadata removed (so it earns nothing)."""
    new = copy.deepcopy(cell)
    new.metadata.pop("nbgrader", None)
    if new.cell_type == "code":
        new.outputs, new.execution_count = [], None
    return new
