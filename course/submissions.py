"""Find each student's notebook for an assignment, when it was submitted, and what else is there.

Two layouts are read: ``<student>/<assignment>.ipynb`` (a folder of files; the submission time is
the file's modification time) and nbgrader's collected ``<student>/<assignment>/<assignment>.ipynb``
with the ``timestamp.txt`` that ``nbgrader collect`` writes beside it.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

TIMESTAMP = "timestamp.txt"


@dataclass
class Submission:
    """Where a student's notebook for one assignment is, and when it was handed in."""

    path: Path | None
    submitted: datetime | None = None
    hint: str = ""  # "did you mean ...?" when the file is missing


def students(folder: Path, only: list[str] | None = None) -> list[str]:
    """The student folders under ``folder`` (hidden ones skipped), or ``only`` of them."""
    found = sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if only:
        unknown = sorted(set(only) - set(found))
        if unknown:
            raise SystemExit(f"no such student folder in {folder}: {', '.join(unknown)}")
        found = [s for s in found if s in only]
    return found


def find(folder: Path, student: str, assignment: str, known: frozenset[str] = frozenset()
         ) -> Submission:
    """The submission of ``student`` for ``assignment``; ``path`` None (with a hint) if missing.

    ``known`` are the other assignments' names: their notebooks are never suggested.
    """
    home = folder / student
    for path, stamp in ((home / assignment / f"{assignment}.ipynb", home / assignment / TIMESTAMP),
                        (home / f"{assignment}.ipynb", None)):
        if path.is_file():
            return Submission(path, submitted_at(path, stamp))
    guess = _closest(assignment, [p for p in _notebooks(home) if p.stem not in known | {assignment}])
    hint = f"; did you mean {guess.relative_to(home).as_posix()}?" if guess else ""
    return Submission(None, hint=hint)


def submitted_at(path: Path, stamp: Path | None) -> datetime:
    """nbgrader's timestamp.txt when there is one, else the file's modification time (UTC)."""
    if stamp is not None and stamp.is_file():
        from nbgrader.utils import parse_utc

        text = stamp.read_text(encoding="utf-8").strip()
        try:
            return parse_utc(text).replace(tzinfo=timezone.utc)
        except (ValueError, OverflowError):
            raise SystemExit(f"{stamp}: {text!r} is not a timestamp") from None
    return datetime.fromtimestamp(path.stat().st_mtime, tz=timezone.utc)


def extras(folder: Path, student: str, assignments: list[str]) -> list[str]:
    """Files in the student's folder that are not a submission of a known assignment."""
    home = folder / student
    keep = set()
    for a in assignments:
        keep |= {home / f"{a}.ipynb", home / a / f"{a}.ipynb", home / a / TIMESTAMP, home / a}
    out = []
    for p in sorted(home.rglob("*")):
        rel = p.relative_to(home)
        if any(part.startswith(".") for part in rel.parts) or p in keep or p.is_dir():
            continue
        out.append(rel.as_posix())
    return out


def _notebooks(home: Path) -> list[Path]:
    if not home.is_dir():
        return []
    return sorted(p for p in home.rglob("*.ipynb")
                  if not any(part.startswith(".") for part in p.relative_to(home).parts))


def _closest(assignment: str, candidates: list[Path]) -> Path | None:
    """A notebook named like the assignment: same number prefix first, else a similar name."""
    number = re.match(r"\d+", assignment)
    if number:
        same = [p for p in candidates if re.match(rf"0*{int(number.group())}\D", p.stem + " ")]
        if same:
            return same[0]
    names = {p.stem.lower(): p for p in candidates}
    close = difflib.get_close_matches(assignment.lower(), list(names), n=1, cutoff=0.6)
    return names[close[0]] if close else None
