"""Every op of the registry placed on '/GPU:0' (Numba's simulator) against the same op on
'/CPU:0', generated from ``tests/op_cases.py``: forward values of every case, and gradients of
the differentiable ones. Ops with a GPU kernel run there; the others must fall back to the CPU
and still agree (so must an op whose kernel has no CUDA complex form, on complex operands)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: op_cases

from op_cases import CASES, DIFF_CASES  # noqa: E402

import minitf as tf  # noqa: E402
from minitf.backends.cuda import placement  # noqa: E402
from minitf.backends.cuda.placement import DEVICE_FORWARD, DEVICE_OPS  # noqa: E402
from minitf.framework import registry  # noqa: E402

pytestmark = pytest.mark.gpu_sim

ON_DEVICE = DEVICE_OPS | set(DEVICE_FORWARD)
HOST_CASES = {"Transpose-perm": "only swaps of the last two axes have a GPU kernel"}


def _ids(cases):
    return [c.id for c in cases]


def test_device_op_names_are_registered():
    assert ON_DEVICE <= set(registry.all_ops())


def _forward(case, arrays, where):
    with tf.device(where):
        outs = case.run(*[tf.constant(a) for a in arrays])
    return outs, [o.numpy() for o in outs]


def _close(got, want, case, what):
    assert got.dtype == want.dtype and got.shape == want.shape, f"{case.id}: {what}"
    if got.dtype.kind in "fc":
        scale = max(1.0, float(np.max(np.abs(want)))) if want.size else 1.0
        np.testing.assert_allclose(got, want, rtol=max(case.parity_rtol, 1e-5),
                                   atol=1e-5 * scale, err_msg=f"{case.id}: {what}")
    else:
        np.testing.assert_array_equal(got, want, err_msg=f"{case.id}: {what}")


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_forward_on_gpu(case, monkeypatch):
    ran_on_gpu = set()  # op types that produced device arrays
    real_run = placement.run

    def run(opdef, rt, values, attrs, where):
        res = real_run(opdef, rt, values, attrs, where)
        if any(hasattr(r, "copy_to_host") for r in (res if isinstance(res, tuple) else [res])):
            ran_on_gpu.add(opdef.type)
        return res

    monkeypatch.setattr(placement, "run", run)
    arrays = case.arrays(np.float32)
    outs, got = _forward(case, arrays, "/GPU:0")
    _, want = _forward(case, arrays, "/CPU:0")
    for k, (g, w) in enumerate(zip(got, want)):
        _close(g, w, case, f"output {k}")
    on_host = case.id in HOST_CASES or (any(a.dtype.kind == "c" for a in arrays)
                                        and placement.complex_on_host(registry.get(case.op)))
    if case.op in ON_DEVICE and case.op not in ("Identity", "StopGradient"):
        assert (case.op in ran_on_gpu) != on_host, case.id
    if case.op not in ON_DEVICE:
        assert case.op not in ran_on_gpu


def _gradient(case, arrays, ws, where):
    with tf.device(where):
        _, grads = case.tape_gradients(arrays, ws)
    return [None if g is None else g.numpy() for g in grads]


@pytest.mark.parametrize("case", DIFF_CASES, ids=_ids(DIFF_CASES))
def test_gradient_on_gpu(case):
    arrays = case.arrays(np.float32)
    _, outs = _forward(case, arrays, "/CPU:0")
    rng = np.random.default_rng(1)
    ws = [rng.uniform(-1, 1, o.shape).astype(o.dtype) for o in outs]
    got = _gradient(case, arrays, ws, "/GPU:0")
    want = _gradient(case, arrays, ws, "/CPU:0")
    for k, (g, w) in enumerate(zip(got, want)):
        assert (g is None) == (w is None), f"{case.id}: gradient {k}"
        if g is not None:
            _close(g, w, case, f"gradient {k}")
