"""The instructor guide's commands, run as written, from a fresh copy of the repository.

The copy holds two small chapters (to keep this fast); commands run through ``bash`` in the
copy's root with relative paths, as an instructor pastes them, ``python`` being this venv's.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("nbclient")
pytest.importorskip("nbgrader")

from course import ROOT  # noqa: E402

GUIDE = ROOT / "course" / "instructor_guide.md"
CHAPTERS = ("01_tensors", "02_computation_graphs")
_SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints")


def fresh_copy(dest: Path, chapters: tuple[str, ...] = CHAPTERS) -> Path:
    """A clone-like tree: the packages, and only ``chapters`` of solutions/ and exercises/."""
    for pkg in ("course", "minitf"):
        shutil.copytree(ROOT / pkg, dest / pkg, ignore=_SKIP)
    for name in ("pyproject.toml", ".gitignore", "README.md"):
        shutil.copyfile(ROOT / name, dest / name)
    for folder in ("solutions", "exercises"):
        (dest / folder).mkdir()
        for ch in chapters:
            shutil.copyfile(ROOT / folder / f"{ch}.ipynb", dest / folder / f"{ch}.ipynb")
    (dest / "home").mkdir()
    return dest


def shell(command: str, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run ``command`` as pasted into bash in ``cwd`` (venv on PATH, HOME inside the copy)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    env["HOME"] = str(cwd / "home")
    return subprocess.run(["bash", "-euo", "pipefail", "-c", command], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_the_guides_autograde_command_gives_the_solutions_full_marks(tmp_path):
    command = "python -m course autograde submissions --out grades/grades.csv"
    assert command in GUIDE.read_text(encoding="utf-8")
    repo = fresh_copy(tmp_path / "repo")
    for ch in CHAPTERS:
        dest = repo / "submissions" / "alice" / f"{ch}.ipynb"
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(repo / "solutions" / f"{ch}.ipynb", dest)
    res = shell(command, repo)
    assert res.returncode == 0, res.stdout + res.stderr
    rows = {r["assignment"]: r for r in read_csv(repo / "grades" / "grades.csv")}
    assert sorted(rows) == sorted(CHAPTERS)
    for ch, row in rows.items():
        assert (row["status"], row["points"]) == ("ok", row["max_points"]), (ch, res.stdout)
        assert float(row["max_points"]) > 0


def test_a_grader_failure_exits_non_zero_and_names_the_notebook(tmp_path):
    repo = fresh_copy(tmp_path / "repo", CHAPTERS[:1])
    dest = repo / "submissions" / "bob" / f"{CHAPTERS[0]}.ipynb"
    dest.parent.mkdir(parents=True)
    shutil.copyfile(repo / "solutions" / dest.name, dest)
    (repo / "course" / "worker.py").write_text("raise SystemExit(1)\n")  # a broken grader
    res = shell("python -m course autograde submissions --out grades/grades.csv", repo)
    assert res.returncode == 1
    assert f"bob/{CHAPTERS[0]}" in res.stderr and "could not be graded" in res.stderr
