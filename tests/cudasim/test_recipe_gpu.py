"""CONTRIBUTING.md's recipe on the GPU simulator: a throw-away element-wise op declared
``device="kernels"`` (``tests/recipe_op.py``) runs on '/GPU:0' with a CUDA kernel compiled from
its kernel_table row, and agrees with the CPU."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: recipe_op, op_cases

from recipe_op import KERNEL, OP, throwaway_op  # noqa: E402

import minitf as tf  # noqa: E402
from minitf.backends.cuda import elementwise, placement  # noqa: E402
from minitf.framework import registry  # noqa: E402

pytestmark = pytest.mark.gpu_sim


def test_throwaway_op_runs_on_the_gpu(monkeypatch):
    ran = []
    real_run = placement.run

    def run(opdef, rt, values, attrs, where):
        res = real_run(opdef, rt, values, attrs, where)
        ran.append((opdef.type, hasattr(res, "copy_to_host")))
        return res

    monkeypatch.setattr(placement, "run", run)
    with throwaway_op() as case:
        x = case.arrays(np.float32)[0]
        with tf.device("/GPU:0"):
            y = tf.math.throwaway_cube(tf.constant(x))
        assert (OP, True) in ran and KERNEL in elementwise.UNARY_KERNELS
        np.testing.assert_allclose(y.numpy(), x ** 3, rtol=1e-6)
        with tf.device("/GPU:0"), tf.GradientTape() as tape:
            t = tf.constant(x)
            tape.watch(t)
            z = tf.math.throwaway_cube(t)
        np.testing.assert_allclose(tape.gradient(z, t).numpy(), 3 * x ** 2, rtol=1e-6)


def test_placement_tables_are_derived_from_the_registry():
    assert placement.DEVICE_OPS == registry.device_ops("kernels")
    assert set(placement.DEVICE_FORWARD) == registry.device_ops("forward")
