"""Feedback students read: ``FOLDER/<student>/<assignment>.txt`` and ``.html``.

Each gives the score, the late penalty, and per graded cell its points, what failed (the error
and, unless it lies in the hidden tests, the failing line) and the instructor's comment. Nothing
in it names a file on the instructor's machine (``autograde.scrub_paths`` removed those).
"""

from __future__ import annotations

import html
from pathlib import Path

from .gradebook import Grade, GradedPart, num


def part_line(gp: GradedPart, show_hidden: bool) -> str:
    """``PASS test_x (2/2)`` or ``FAIL test_x (0/2): AssertionError: ...  (line 3: assert ...)``."""
    p = gp.part
    if gp.source == "ungraded":
        return f"---- {p.grade_id} (?/{num(p.points)}): graded by hand, not graded yet"
    mark = "PASS" if gp.points >= p.points else ("PART" if gp.points > 0 else "FAIL")
    text = f"{mark} {p.grade_id} ({num(gp.points)}/{num(p.points)})"
    if gp.source == "override":
        return text + (f": {gp.comment}" if gp.comment else ": set by your instructor")
    if p.earned:
        return text
    where = ""
    if p.line is not None:
        where = ("  (in a hidden test)" if p.hidden and not show_hidden
                 else f"  (line {p.line}: {p.code})")
    return f"{text}: {p.message}{where}"


def header(g: Grade) -> list[str]:
    """The score, status, note and lateness lines of one assignment."""
    r = g.result
    lines = [f"{r.assignment}: {num(g.points)} / {num(r.max_points)} points"
             + ("" if r.status == "ok" else f"  [{r.status}]")]
    if r.note:
        lines.append(f"! {r.note}")
    if g.late:
        lines.append(f"! submitted {g.hours_late:.1f} hours after the due date "
                     f"({g.due.isoformat() if g.due else '?'}): {num(g.penalty)} points off")
    if g.ungraded:
        lines.append(f"! {g.ungraded} answer(s) still to be graded by hand")
    return lines


def render_text(g: Grade, show_hidden: bool) -> str:
    body = [f"Feedback for {g.result.student}", "", *header(g), ""]
    if g.result.status in ("missing", "invalid"):
        body += [part_line(gp, show_hidden) for gp in g.parts if gp.source == "override"]
    else:
        body += [part_line(gp, show_hidden) for gp in g.parts]
    return "\n".join(body) + "\n"


def render_html(g: Grade, show_hidden: bool) -> str:
    r = g.result
    e = html.escape
    rows = []
    for gp in g.parts:
        if r.status in ("missing", "invalid") and gp.source != "override":
            continue
        line = part_line(gp, show_hidden)
        mark, _, rest = line.partition(" ")
        rows.append(f'<tr class="{e(mark.lower().strip("-") or "todo")}"><td>{e(mark)}</td>'
                    f"<td><code>{e(rest)}</code></td></tr>")
    head = header(g)
    notes = "".join(f"<p>{e(x.removeprefix('! '))}</p>" for x in head[1:])
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{e(r.assignment)}: feedback for {e(r.student)}</title>
<style>
body {{ font-family: sans-serif; max-width: 60em; margin: 2em auto; }}
td {{ padding: .2em .6em; vertical-align: top; }} code {{ white-space: pre-wrap; }}
.pass td:first-child {{ color: #17692f; }} .fail td:first-child {{ color: #b00020; }}
.part td:first-child {{ color: #8a5a00; }}
</style></head><body>
<h1>{e(r.assignment)}</h1>
<p>Feedback for <b>{e(r.student)}</b>: <b>{e(num(g.points))} / {e(num(r.max_points))}</b> points
{'' if r.status == 'ok' else f'[{e(r.status)}]'}</p>
{notes}
<table>
{chr(10).join(rows)}
</table>
</body></html>
"""


def write_feedback(grades: list[Grade], folder: Path, show_hidden: bool = False) -> list[Path]:
    """Write each grade's text and HTML feedback; return the paths written."""
    written = []
    for g in grades:
        d = folder / g.result.student
        d.mkdir(parents=True, exist_ok=True)
        for ext, text in (("txt", render_text(g, show_hidden)), ("html", render_html(g, show_hidden))):
            path = d / f"{g.result.assignment}.{ext}"
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written
