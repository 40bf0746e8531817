"""Due dates, extensions and the late policy, read from a small TOML file.

::

    timezone = "Europe/Berlin"      # for due dates written without an offset (default "UTC")

    [late]
    grace_minutes = 10              # this late still counts as on time (default 0)
    penalty_per_day = 0.1           # fraction of the points lost per day or part of one (default 0)
    max_days = 7                    # later than this: 0 points (default: no limit)

    [due]
    01_tensors = 2027-01-18T23:59:00
    02_computation_graphs = "2027-01-25 23:59"

    [extensions]                    # a later due date for one student and assignment
    "alice/01_tensors" = 2027-01-20T23:59:00

A late submission keeps ``(1 - penalty_per_day * days)`` of its points (never below 0), where
``days`` counts started days past the due date plus the grace period.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


@dataclass
class Deadlines:
    """Due dates per assignment (and per student and assignment), and the late policy."""

    due: dict[str, datetime] = field(default_factory=dict)
    extensions: dict[tuple[str, str], datetime] = field(default_factory=dict)
    grace_minutes: float = 0.0
    penalty_per_day: float = 0.0
    max_days: float | None = None

    def due_for(self, student: str, assignment: str) -> datetime | None:
        """The due date that applies to this student's assignment, or None."""
        return self.extensions.get((student, assignment), self.due.get(assignment))

    def lateness(self, student: str, assignment: str, submitted: datetime | None
                 ) -> tuple[float, float]:
        """``(hours late, fraction of the points kept)``; ``(0, 1)`` when on time or undated."""
        due = self.due_for(student, assignment)
        if due is None or submitted is None or submitted <= due:
            return 0.0, 1.0
        hours = (submitted - due).total_seconds() / 3600
        if hours * 60 <= self.grace_minutes:
            return hours, 1.0
        days = math.ceil(hours / 24)
        if self.max_days is not None and days > self.max_days:
            return hours, 0.0
        return hours, max(0.0, 1.0 - self.penalty_per_day * days)


def load_deadlines(path: Path | None) -> Deadlines:
    """Read ``path`` (None: no due dates); raise SystemExit naming the file and key that is wrong."""
    if path is None:
        return Deadlines()
    try:
        import tomllib
    except ImportError:  # Python 3.10
        try:
            import tomli as tomllib
        except ImportError:
            raise SystemExit(f"reading {path} needs Python 3.11+, or `pip install tomli`") from None
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SystemExit(f"{path}: {exc}") from None
    unknown = sorted(set(data) - {"timezone", "late", "due", "extensions"})
    if unknown:
        raise SystemExit(f"{path}: unknown key(s) {', '.join(unknown)}")
    try:
        tz = ZoneInfo(str(data.get("timezone", "UTC")))
    except (ZoneInfoNotFoundError, ValueError):
        raise SystemExit(f"{path}: timezone {data.get('timezone')!r} is not an IANA name") from None
    late = data.get("late", {})
    bad = sorted(set(late) - {"grace_minutes", "penalty_per_day", "max_days"})
    if bad:
        raise SystemExit(f"{path}: unknown key(s) in [late]: {', '.join(bad)}")
    out = Deadlines(grace_minutes=_number(path, late, "grace_minutes", 0.0),
                    penalty_per_day=_number(path, late, "penalty_per_day", 0.0),
                    max_days=_number(path, late, "max_days", None))
    for name, value in data.get("due", {}).items():
        out.due[name] = _when(path, f"due.{name}", value, tz)
    for key, value in data.get("extensions", {}).items():
        student, _, assignment = key.partition("/")
        if not student or not assignment:
            raise SystemExit(f"{path}: extension {key!r} is not \"student/assignment\"")
        out.extensions[(student, assignment)] = _when(path, f"extensions.{key}", value, tz)
    return out


def _number(path: Path, table: dict, key: str, default: float | None) -> float | None:
    value = table.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise SystemExit(f"{path}: late.{key} must be a number >= 0, not {value!r}")
    return float(value)


def _when(path: Path, key: str, value: object, tz: ZoneInfo) -> datetime:
    """A TOML datetime or a string like "2027-01-18 23:59"; local times are in ``tz``."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise SystemExit(f"{path}: {key} = {value!r} is not a date and time") from None
    elif isinstance(value, date) and not isinstance(value, datetime):
        raise SystemExit(f"{path}: {key} needs a time of day too (e.g. {value}T23:59:00)")
    if not isinstance(value, datetime):
        raise SystemExit(f"{path}: {key} = {value!r} is not a date and time")
    return value.replace(tzinfo=tz) if value.tzinfo is None else value
