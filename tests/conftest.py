"""Shared fixtures: a fresh default graph and fixed seeds for every test, and ``backend``,
which runs a test once per kernel backend."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import minitf as tf

sys.path.insert(0, str(Path(__file__).parent))  # `import op_cases` under any import mode

BACKENDS = ("numpy", "numba")


@pytest.fixture(autouse=True)
def _fresh_state():
    """Every test starts eager, with an empty default graph and seeded generators."""
    tf.enable_eager_execution()
    tf.reset_default_graph()
    tf.random.set_seed(0)
    np.random.seed(0)
    yield
    tf.enable_eager_execution()


@pytest.fixture(params=BACKENDS)
def backend(request):
    """Run the test with each backend ('numpy' reference, 'numba' compiled); restore after."""
    previous = tf.config.get_backend()
    tf.config.set_backend(request.param)
    yield request.param
    tf.config.set_backend(previous)


# `./run.sh test` runs the suite in two passes: everything else on two pytest-xdist workers,
# then these alone. They start MPI ranks (MPICH's ranks spin: never more busy processes than
# cores), servers and browsers, or grade notebooks under second-scale time limits
# (test_course.py's 4 s cells and 12 s notebook), which another worker's load could overrun.
SERIAL = (
    "tests/test_distribute.py", "tests/test_serving.py", "tests/test_serving_named.py",
    "tests/test_serving_processes.py",
    "tests/test_browser_smoke.py", "tests/test_draw_pad_browser.py", "tests/test_student_lab.py",
    "tests/test_course.py", "notebooks/14_", "notebooks/16_", "solutions/14_", "solutions/16_",
)


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(config, items):
    root = Path(str(config.rootpath))
    for item in items:
        path = Path(str(item.path))
        rel = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.name
        if rel.startswith(SERIAL):
            item.add_marker(pytest.mark.serial)
