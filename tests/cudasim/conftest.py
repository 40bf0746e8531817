"""The CUDA kernels under Numba's simulator: run this directory in its own process with
``NUMBA_ENABLE_CUDASIM=1`` set before Numba is imported (``./run.sh test`` does). In any other
process every test here is skipped, since Numba would then target a real GPU."""

from __future__ import annotations

import os

import pytest

SIMULATED = os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"


def pytest_collection_modifyitems(config, items):
    if SIMULATED:
        return
    skip = pytest.mark.skip(reason="needs a separate process: NUMBA_ENABLE_CUDASIM=1 "
                                   "python -m pytest -p no:nbval tests/cudasim")
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _fresh_state():
    """Eager mode, a fresh default graph and a fixed seed for every test (this directory is
    its own pytest root, so tests/conftest.py does not apply)."""
    if not SIMULATED:  # skipped anyway; do not import minitf (Numba would target a real GPU)
        yield
        return
    import minitf as tf

    tf.enable_eager_execution()
    tf.reset_default_graph()
    tf.random.set_seed(0)
    yield
