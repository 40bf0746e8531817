"""The set-up files agree with each other: pyproject vs environment.yml, README vs CI."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

ROOT = Path(__file__).resolve().parent.parent


def _pyproject_deps() -> dict[str, str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    reqs = list(data["project"]["dependencies"])
    for extra in data["project"]["optional-dependencies"].values():
        reqs += extra
    return dict(_split(r) for r in reqs)


def _conda_deps() -> dict[str, str]:
    deps, in_deps = {}, False
    for line in (ROOT / "environment.yml").read_text().splitlines():
        if not line.startswith(" "):
            in_deps = line.startswith("dependencies:")
        m = re.match(r"^(?:  |      )- ([A-Za-z][\w.-]*)(.*)$", line)  # conda, or pip: below
        if in_deps and m and m.group(1) not in ("python", "pip"):
            deps[m.group(1)] = m.group(2).strip()
    return deps


def _split(req: str) -> tuple[str, str]:
    m = re.match(r"^([A-Za-z][\w.-]*)(.*)$", req)
    assert m, req
    return m.group(1).lower(), m.group(2).strip()


def test_environment_yml_matches_pyproject():
    assert _conda_deps() == _pyproject_deps()


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)```", readme, re.S)
    commands = [line.split("#")[0].strip() for b in blocks for line in b.splitlines()]
    assert "./run.sh test" in commands and "./run.sh lab" in commands
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^exec \./run\.sh test$", ci, re.M)


def test_scripts_are_executable():
    assert os.access(ROOT / "run.sh", os.X_OK)
    assert os.access(ROOT / ".ci" / "run", os.X_OK)


def test_exercises_hold_no_solutions():
    for p in (ROOT / "exercises").rglob("*.ipynb"):
        text = p.read_text()
        assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text, p


def test_run_sh_checks_generated_files():
    """Generated sources (kernels, exercises) are checked for drift before the tests run."""
    run = (ROOT / "run.sh").read_text()
    for check in ("-m minitf.backends.codegen --check", "-m minitf.backends.cuda.codegen --check",
                  "-m course generate --check"):
        assert check in run, check


def test_dev_dependencies_are_bounded():
    for name, spec in _pyproject_deps().items():
        exact = spec.startswith("==")  # a pin to one local wheel (torch: any other spec
        # would download the CUDA build)
        assert exact or (">=" in spec and "<" in spec), \
            f"{name}{spec}: give a lower and an upper bound"
