"""From the autograder's Results to grades: merge re-grades, apply overrides and the late policy,
write the CSVs an instructor or an LMS reads.

``grades.json`` (next to the grades CSV) keeps every Result; a re-grade of some students or
assignments replaces just those, and everything else is recomputed from it. Files, for
``--out grades/grades.csv``:

- ``grades.csv`` (long, a row per student and assignment): ``student, assignment, points,
  max_points, status, autograded, late_penalty, hours_late, submitted, due, ungraded``
- ``grades_wide.csv`` (for an LMS, a row per student): ``student``, one column per assignment
  (its points), ``total, max_total, percentage``
- ``grades_parts.csv`` (a row per graded cell): ``student, assignment, grade_id, kind, points,
  max_points, source, comment``
"""

from __future__ import annotations

import csv
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from .autograde import Part, Result
from .deadlines import Deadlines
from .overrides import Overrides

LONG_FIELDS = ("student", "assignment", "points", "max_points", "status", "autograded",
               "late_penalty", "hours_late", "submitted", "due", "ungraded")
PART_FIELDS = ("student", "assignment", "grade_id", "kind", "points", "max_points", "source",
               "comment")
WIDE_TAIL = ("total", "max_total", "percentage")


@dataclass
class GradedPart:
    """A Part with its final score and where that came from."""

    part: Part
    points: float
    source: str  # autograder | override | ungraded
    comment: str = ""


@dataclass
class Grade:
    """One student's final grade on one assignment."""

    result: Result
    parts: list[GradedPart]
    raw: float  # the parts' points, overrides included, before the late policy
    penalty: float
    hours_late: float
    due: datetime | None
    ungraded: int  # hand-graded cells nobody has scored yet
    issues: list[str] = field(default_factory=list)

    @property
    def points(self) -> float:
        return self.raw - self.penalty

    @property
    def late(self) -> bool:
        return self.hours_late > 0


def paths(out: Path) -> dict[str, Path]:
    """The files written beside the grades CSV ``out``."""
    return {"long": out, "json": out.with_suffix(".json"),
            "wide": out.with_name(f"{out.stem}_wide.csv"),
            "parts": out.with_name(f"{out.stem}_parts.csv")}


def save_results(results: list[Result], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [asdict(r) for r in sorted(results, key=lambda r: (r.student, r.assignment))]
    path.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")


def load_results(path: Path) -> list[Result]:
    """The Results saved in ``path`` ([] when it does not exist)."""
    if not path.exists():
        return []
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
        return [Result(**{**r, "parts": [Part(**p) for p in r["parts"]]}) for r in rows]
    except (json.JSONDecodeError, TypeError, KeyError) as exc:
        raise SystemExit(f"{path} is not a saved grading run ({exc}); delete it to start over"
                         ) from None


def merge(old: list[Result], new: list[Result]) -> list[Result]:
    """``old`` with every (student, assignment) that ``new`` graded replaced by the new Result."""
    table = {(r.student, r.assignment): r for r in old}
    table.update({(r.student, r.assignment): r for r in new})
    return [table[k] for k in sorted(table)]


def finalize(result: Result, overrides: Overrides, deadlines: Deadlines) -> Grade:
    """Apply the instructor's overrides, then the late policy, to one Result."""
    parts = []
    for p in result.parts:
        o = overrides.get((result.student, result.assignment, p.grade_id))
        if o is not None:
            parts.append(GradedPart(p, o.points, "override", o.comment))
        elif p.kind == "manual":
            parts.append(GradedPart(p, 0.0, "ungraded"))
        else:
            parts.append(GradedPart(p, p.earned, "autograder"))
    raw = sum(gp.points for gp in parts)
    submitted = datetime.fromisoformat(result.submitted) if result.submitted else None
    if result.status == "missing":
        submitted = None
    hours, kept = deadlines.lateness(result.student, result.assignment, submitted)
    return Grade(result, parts, raw, raw * (1 - kept), hours,
                 deadlines.due_for(result.student, result.assignment),
                 0 if result.status in ("missing", "invalid")
                 else sum(gp.source == "ungraded" for gp in parts))


def write_grades(grades: list[Grade], out: Path) -> dict[str, Path]:
    """Write the long, wide and per-part CSVs; return their paths."""
    files = paths(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with files["long"].open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(LONG_FIELDS)
        for g in grades:
            r = g.result
            w.writerow([r.student, r.assignment, num(g.points), num(r.max_points), r.status,
                        num(r.autograded), num(g.penalty), num(round(g.hours_late, 2)),
                        r.submitted or "", g.due.isoformat() if g.due else "", g.ungraded])
    with files["parts"].open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(PART_FIELDS)
        for g in grades:
            for gp in g.parts:
                w.writerow([g.result.student, g.result.assignment, gp.part.grade_id, gp.part.kind,
                            num(gp.points), num(gp.part.points), gp.source, gp.comment])
    _write_wide(grades, files["wide"])
    return files


def _write_wide(grades: list[Grade], path: Path) -> None:
    """A row per student, a column per assignment; an assignment never graded is left empty."""
    assignments = sorted({g.result.assignment for g in grades})
    maxima = {g.result.assignment: g.result.max_points for g in grades}
    max_total = sum(maxima.values())
    by_student: dict[str, dict[str, Grade]] = {}
    for g in grades:
        by_student.setdefault(g.result.student, {})[g.result.assignment] = g
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["student", *assignments, *WIDE_TAIL])
        for student in sorted(by_student):
            row = by_student[student]
            total = sum(g.points for g in row.values())
            pct = 100 * total / max_total if max_total else 0.0
            w.writerow([student, *(num(row[a].points) if a in row else "" for a in assignments),
                        num(total), num(max_total), f"{pct:.2f}"])


def num(x: float) -> str:
    """A number as the CSVs write it: ``3``, ``2.5``, ``0.333333``."""
    return f"{x:g}"
