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
