"""The instructor guide's commands, run as written, from a fresh copy of the repository.

The copy holds two small chapters (to keep this fast); every ```bash block of the guide runs,
in order, through ``bash`` in the copy's root with relative paths, as an instructor pastes it,
``python`` being this venv's and ``~`` a folder inside the copy.
"""

from __future__ import annotations

import csv
import os
import re
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
    venv = Path(sys.prefix)
    if (venv / "bin" / "activate").is_file():
        (dest / ".venv").symlink_to(venv, target_is_directory=True)
    else:  # a conda environment: the guide's `source .venv/bin/activate` only needs PATH
        (dest / ".venv" / "bin").mkdir(parents=True)
        (dest / ".venv" / "bin" / "activate").write_text(f'export PATH="{venv}/bin:$PATH"\n')
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
    repo = fresh_copy(tmp_path / "repo", CHAPTERS[:1])
    for ch in CHAPTERS[:1]:
        dest = repo / "submissions" / "alice" / f"{ch}.ipynb"
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(repo / "solutions" / f"{ch}.ipynb", dest)
    res = shell(command, repo)
    assert res.returncode == 0, res.stdout + res.stderr
    rows = {r["assignment"]: r for r in read_csv(repo / "grades" / "grades.csv")}
    assert sorted(rows) == [CHAPTERS[0]]
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


def guide_blocks() -> list[str]:
    """The guide's ```bash blocks, in order."""
    return re.findall(r"^```bash\n(.*?)^```$", GUIDE.read_text(encoding="utf-8"), re.S | re.M)


def test_every_command_of_the_guide_works_as_written(tmp_path):
    blocks = guide_blocks()
    assert len(blocks) >= 6
    repo = fresh_copy(tmp_path / "repo")
    for block in blocks:
        res = shell(block, repo)
        assert res.returncode == 0, f"this block of the guide failed:\n{block}\n{res.stdout}\n{res.stderr}"
        assert "Traceback" not in res.stderr, res.stderr

    # the rehearsal: the solutions handed in by test_student, graded, merged, overridden
    rows = {r["assignment"]: r for r in read_csv(repo / "grades" / "grades.csv")
            if r["student"] == "test_student"}
    assert sorted(rows) == sorted(CHAPTERS)
    assert rows["02_computation_graphs"]["points"] == rows["02_computation_graphs"]["max_points"]
    assert float(rows["01_tensors"]["points"]) == float(rows["01_tensors"]["max_points"]) - 1
    feedback = repo / "grades" / "feedback" / "test_student"
    text = (feedback / "01_tensors.txt").read_text()
    assert "PART test_standardize_columns (2/3): partial credit: right idea" in text
    assert "partial credit" in (feedback / "01_tensors.html").read_text()
    wide = read_csv(repo / "grades" / "grades_wide.csv")
    assert list(wide[0]) == ["student", *CHAPTERS, "total", "max_total", "percentage"]
    # nbgrader's flow, and the course's grader on nbgrader's collected folder
    assert (repo / "home" / "minitf-course" / "grades.csv").is_file()
    (row,) = read_csv(repo / "grades" / "nbgrader-class.csv")
    assert (row["student"], row["status"], row["points"]) == ("alice", "ok", row["max_points"])
