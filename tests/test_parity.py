"""Backend parity, generated from the registry through ``op_cases``: every op on every backend,
forward and gradient, in float32, against the NumPy reference (float64 for the values, float32
for the dtypes); and every case built as a graph agrees with its eager run."""

from __future__ import annotations

import numpy as np
import pytest
from op_cases import CASES, DIFF_CASES, STATEFUL_CASES

import minitf as tf


def _ids(cases):
    return [c.id for c in cases]


def _with_backend(name, fn):
    previous = tf.config.get_backend()
    tf.config.set_backend(name)
    try:
        return fn()
    finally:
        tf.config.set_backend(previous)


def _forward(case, arrays):
    return [o.numpy() for o in case.run(*[tf.constant(a) for a in arrays])]


def _gradient(case, arrays, ws):
    return [g.numpy() for g in case.tape_gradients(arrays, ws)[1]]


def _reference(case, fn32):
    """``fn32(dtype)`` run by the NumPy backend on float64 copies of the float32 inputs."""
    return _with_backend("numpy", lambda: fn32(np.float64))


def _close(got, ref, case, what):
    if got.dtype.kind in "fc":
        scale = max(1.0, float(np.max(np.abs(ref)))) if ref.size else 1.0
        np.testing.assert_allclose(got, ref, rtol=case.parity_rtol, atol=1e-6 * scale,
                                   err_msg=f"{case.id}: {what}")
    else:
        np.testing.assert_array_equal(got, ref, err_msg=f"{case.id}: {what}")


def _as64(arrays):
    wide = {np.dtype(np.float32): np.float64, np.dtype(np.complex64): np.complex128}
    return [a.astype(wide[a.dtype]) if a.dtype in wide else a for a in arrays]


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_forward_parity(case, backend):
    arrays = case.arrays(np.float32)
    got = _forward(case, arrays)
    want32 = _with_backend("numpy", lambda: _forward(case, arrays))
    ref = _with_backend("numpy", lambda: _forward(case, _as64(arrays)))
    assert len(got) == len(want32)
    for k, (g, w, r) in enumerate(zip(got, want32, ref)):
        assert g.dtype == w.dtype, (
            f"{case.id}: output {k} is {g.dtype} on {backend}, {w.dtype} on numpy")
        assert g.shape == w.shape, f"{case.id}: output {k} shape"
        _close(g, r.astype(g.dtype) if g.dtype.kind in "fc" else r, case, f"output {k}")
        _close(g, w, case, f"output {k} vs numpy float32")


@pytest.mark.parametrize("case", DIFF_CASES, ids=_ids(DIFF_CASES))
def test_gradient_parity(case, backend):
    arrays = case.arrays(np.float32)
    outs = _forward(case, arrays)
    rng = np.random.default_rng(1)
    ws = [(rng.uniform(-1, 1, o.shape) + (1j * rng.uniform(-1, 1, o.shape) if o.dtype.kind == "c"
           else 0)).astype(o.dtype) for o in outs]
    got = _gradient(case, arrays, ws)
    want32 = _with_backend("numpy", lambda: _gradient(case, arrays, ws))
    ref = _with_backend("numpy", lambda: _gradient(case, _as64(arrays), _as64(ws)))
    for k, (g, w, r) in enumerate(zip(got, want32, ref)):
        assert g.dtype == w.dtype == arrays[case.diff[k]].dtype, f"{case.id}: gradient {k} dtype"
        _close(g, r.astype(g.dtype), case, f"gradient {k}")
        _close(g, w, case, f"gradient {k} vs numpy float32")


@pytest.mark.parametrize("case", STATEFUL_CASES, ids=_ids(STATEFUL_CASES))
def test_stateful_parity(case, backend):
    got = case.run()
    want = _with_backend("numpy", case.run)
    for k, (g, w) in enumerate(zip(got, want)):
        assert g.dtype == w.dtype, f"{case.id}: state {k} dtype"
        np.testing.assert_allclose(g, w, rtol=2e-6, atol=1e-7, err_msg=f"{case.id}: state {k}")


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_graph_build_matches_eager(case, backend):
    """The case builds its op; static shapes/dtypes agree with the run-time ones; a Session
    gives the eager values."""
    arrays = case.arrays(np.float32)
    eager = _forward(case, arrays)
    g = tf.Graph()
    with g.as_default():
        phs = [tf.placeholder(tf.as_dtype(a.dtype), a.shape) for a in arrays]
        outs = case.run(*phs)
    types = {op.type for op in g.get_operations()}
    assert case.op in types, f"case {case.id} does not build a {case.op} op (built {types})"
    for k, (t, e) in enumerate(zip(outs, eager)):
        assert t.dtype == tf.as_dtype(e.dtype), f"{case.id}: output {k} static dtype"
        assert t.shape.is_compatible_with(e.shape), (
            f"{case.id}: static shape {t.shape} vs run-time {e.shape}")
    with tf.Session(graph=g) as sess:
        values = sess.run(outs, feed_dict=dict(zip(phs, arrays)))
    for k, (v, e) in enumerate(zip(values, eager)):
        assert np.asarray(v).dtype == e.dtype
        np.testing.assert_array_equal(v, e, err_msg=f"{case.id}: output {k} graph vs eager")
