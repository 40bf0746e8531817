"""CONTRIBUTING.md's recipe for an element-wise op is true: a throw-away op added by it (a
kernel_table row, one op definition, one test case; ``recipe_op.py``) is in ``tf.*``, in the
registry's coverage checks and in the parity and gradient matrices of every backend."""

from __future__ import annotations

import numpy as np
import op_cases
import pytest
import test_gradcheck
import test_parity
from recipe_op import KERNEL, OP, throwaway_op

import minitf as tf
from minitf.framework import registry


def test_the_op_is_in_the_namespaces_and_the_registry():
    with throwaway_op():
        assert tf.math.throwaway_cube is tf.throwaway_cube
        opdef = registry.get(OP)
        assert (opdef.kernel, opdef.device) == (KERNEL, "kernels")
        assert OP in registry.device_ops("kernels")
        x = np.array([[-1.5, 0.0, 2.0]], np.float32)
        np.testing.assert_allclose(tf.math.throwaway_cube(x).numpy(), x ** 3)
    assert not hasattr(tf.math, "throwaway_cube") and OP not in registry.all_ops()


def test_the_coverage_check_asks_for_its_case(monkeypatch):
    with throwaway_op() as case:
        with pytest.raises(AssertionError, match=f"op {OP} has no test case"):
            test_gradcheck.test_every_op_has_a_case()
        monkeypatch.setattr(test_gradcheck, "CASES", [*op_cases.CASES, case])
        monkeypatch.setattr(test_gradcheck, "DIFF_CASES", [*op_cases.DIFF_CASES, case])
        test_gradcheck.test_every_op_has_a_case()
        test_gradcheck.test_every_differentiable_op_is_gradient_checked()


def test_the_op_is_in_the_parity_and_gradient_matrices(backend):
    with throwaway_op() as case:
        test_parity.test_forward_parity(case, backend)
        if backend == "numba":  # compiled from the table row, not the NumPy fallback
            from minitf.backends.numba_cpu import elementwise

            assert hasattr(elementwise.UNARY_KERNELS[KERNEL], "py_func")
        test_parity.test_gradient_parity(case, backend)
        test_parity.test_graph_build_matches_eager(case, backend)
        test_gradcheck.test_tape_gradient_matches_finite_differences(case, backend)
        test_gradcheck.test_graph_gradients_equal_tape(case, backend)


def test_op_metadata_is_consistent():
    """Each op's kernel is a kernel_table entry (of any kind), each public name it declares is bound (to
    the function ``op_export`` gave it), and ``device`` is one the placement knows."""
    from minitf.backends import kernel_table

    for op_type, opdef in registry.all_ops().items():
        if opdef.kernel is not None:
            assert any(opdef.kernel in kernel_table.exprs(binary, kind)
                       for kind in kernel_table.KINDS for binary in (False, True)), op_type
        for name in opdef.api:
            namespace, _, short = name.rpartition(".")
            assert short in registry.exports(namespace), f"{op_type}: tf.{name} is not bound"
        assert opdef.device in registry.DEVICE_KINDS


def test_defop_rejects_an_unknown_device():
    with pytest.raises(ValueError, match="device must be one of"):
        registry.OpDef("Nothing", lambda *a: [], lambda rt: None, device="tpu")
