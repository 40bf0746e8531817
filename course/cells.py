"""Reading notebooks and the nbgrader cell metadata (schema version 3) the tools act on."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat
from nbformat import NotebookNode


class NotebookError(ValueError):
    """A file that is not a readable Jupyter notebook."""


def read_notebook(path: Path) -> NotebookNode:
    """Parse ``path`` as an nbformat-4 notebook; raise NotebookError saying what is wrong."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise NotebookError(f"cannot read {path.name}: {exc.strerror}") from None
    return parse_notebook(raw, path.name)


def parse_notebook(raw: bytes, name: str = "notebook") -> NotebookNode:
    """Parse notebook bytes; raise NotebookError for corrupt JSON or a non-notebook document."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise NotebookError(f"{name} is not a notebook: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise NotebookError(
            f"{name} is not a notebook: corrupt JSON at line {exc.lineno} column {exc.colno}"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise NotebookError(f"{name} is not a notebook: the JSON has no 'cells' list")
    if data.get("nbformat") != 4:
        raise NotebookError(f"{name}: nbformat {data.get('nbformat')!r} is not supported (need 4)")
    for i, cell in enumerate(data["cells"]):
        if not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown", "raw"):
            raise NotebookError(f"{name}: cell {i} is not a notebook cell")
        src = cell.get("source", "")
        if isinstance(src, list) and all(isinstance(x, str) for x in src):
            src = "".join(src)
        if not isinstance(src, str):
            raise NotebookError(f"{name}: cell {i} has a source that is not text")
        cell["source"] = src
        if not isinstance(cell.get("metadata", {}), dict):
            cell["metadata"] = {}
        cell.setdefault("metadata", {})
        if cell["cell_type"] == "code":
            cell.setdefault("outputs", [])
            cell.setdefault("execution_count", None)
    if not isinstance(data.get("metadata", {}), dict):
        data["metadata"] = {}
    data.setdefault("metadata", {})
    data.setdefault("nbformat_minor", 5)
    return nbformat.from_dict(data)


def write_notebook(nb: NotebookNode, path: Path) -> None:
    """Write ``nb`` as nbformat's canonical JSON (sorted keys, indent 1, trailing newline)."""
    path.write_text(dumps(nb), encoding="utf-8")


def dumps(nb: NotebookNode) -> str:
    """The canonical text of ``nb``: byte-identical for equal notebooks."""
    return nbformat.writes(nb, version=4) + "\n"


def meta(cell: NotebookNode) -> dict[str, Any]:
    """The cell's nbgrader metadata, or {} for an ordinary cell."""
    m = cell.get("metadata", {}).get("nbgrader", {})
    return m if isinstance(m, dict) else {}


def grade_id(cell: NotebookNode) -> str | None:
    """The cell's nbgrader grade_id, or None."""
    gid = meta(cell).get("grade_id")
    return gid if isinstance(gid, str) and gid else None


def is_answer(cell: NotebookNode) -> bool:
    """A cell the student writes in (nbgrader ``solution: true``)."""
    return bool(meta(cell).get("solution"))


def is_test(cell: NotebookNode) -> bool:
    """An autograded test: a code cell with ``grade: true`` that is not also an answer."""
    m = meta(cell)
    return cell.cell_type == "code" and bool(m.get("grade")) and not m.get("solution")


def is_manual(cell: NotebookNode) -> bool:
    """A graded answer cell, marked by hand (``grade`` and ``solution`` both true)."""
    m = meta(cell)
    return bool(m.get("grade")) and bool(m.get("solution"))


def is_protected(cell: NotebookNode) -> bool:
    """A cell whose source the instructor owns: tests and locked cells."""
    return is_test(cell) or (bool(meta(cell).get("locked")) and not is_answer(cell))


def points(cell: NotebookNode) -> float:
    """The points a graded cell is worth (0 for others)."""
    try:
        return float(meta(cell).get("points") or 0)
    except (TypeError, ValueError):
        return 0.0
