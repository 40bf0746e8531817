"""Scores set by hand: a CSV of ``student,assignment,grade_id,points,comment`` rows.

A row sets the points of one test cell (replacing what the autograder gave, e.g. partial credit)
or of one hand-graded answer cell; ``comment`` goes into the student's feedback. Blank lines and
lines starting with ``#`` are skipped.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

FIELDS = ("student", "assignment", "grade_id", "points", "comment")


@dataclass(frozen=True)
class Override:
    """The instructor's score for one cell of one student's assignment."""

    points: float
    comment: str
    where: str  # "overrides.csv line 3", for error messages


Overrides = dict[tuple[str, str, str], Override]


def load_overrides(path: Path | None) -> Overrides:
    """Read ``path`` (None: no overrides); raise SystemExit naming the line that is wrong."""
    if path is None:
        return {}
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise SystemExit(f"cannot read {path}: {exc.strerror}") from None
    lines = [(n, line) for n, line in enumerate(text.splitlines(), 1)
             if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        return {}
    header = next(csv.reader([lines[0][1]]))
    if [h.strip() for h in header] != list(FIELDS):
        raise SystemExit(f"{path}: the first line must be {','.join(FIELDS)}, not {lines[0][1]!r}")
    out: Overrides = {}
    for n, line in lines[1:]:
        row = [x.strip() for x in next(csv.reader([line]))]
        where = f"{path.name} line {n}"
        if len(row) not in (4, 5):
            raise SystemExit(f"{where}: expected {len(FIELDS)} fields, got {len(row)}")
        student, assignment, gid, pts = row[:4]
        if not (student and assignment and gid):
            raise SystemExit(f"{where}: student, assignment and grade_id must not be empty")
        try:
            value = float(pts)
        except ValueError:
            raise SystemExit(f"{where}: points {pts!r} is not a number") from None
        key = (student, assignment, gid)
        if key in out:
            raise SystemExit(f"{where}: {student}/{assignment}/{gid} is already set on "
                             f"{out[key].where}")
        out[key] = Override(value, row[4] if len(row) == 5 else "", where)
    return out


def check_overrides(overrides: Overrides, parts: dict[str, dict[str, float]]) -> list[str]:
    """Problems with overrides given each assignment's ``{grade_id: max points}``."""
    problems = []
    for (_, assignment, gid), o in overrides.items():
        if assignment not in parts:
            problems.append(f"{o.where}: no assignment {assignment!r}")
        elif gid not in parts[assignment]:
            problems.append(f"{o.where}: {assignment} has no graded cell {gid!r} "
                            f"(there are: {', '.join(parts[assignment])})")
        elif not 0 <= o.points <= parts[assignment][gid]:
            problems.append(f"{o.where}: {o.points:g} points is outside 0..{parts[assignment][gid]:g} "
                            f"for {assignment}/{gid}")
    return problems
