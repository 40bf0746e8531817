"""Finite-difference gradient checks for every differentiable op, generated from the registry
through ``op_cases``: float64 inputs, central differences, ``tf.GradientTape`` against the
numbers, ``tf.gradients`` in a Session against the tape, and second derivatives."""

from __future__ import annotations

import numpy as np
import pytest
from op_cases import CASES, DIFF_CASES, NO_CASE, NOT_FD, SECOND_ORDER_FD, STATEFUL_CASES

import minitf as tf
from minitf.framework.registry import all_ops

SECOND_CASES = [c for c in DIFF_CASES if not c.second]
NO_GRAD_CASES = [c for c in CASES if c.no_grad]


def _ids(cases):
    return [c.id for c in cases]


# -- helpers ------------------------------------------------------------------------------------


def _weights(case, outs, seed=1):
    """Fixed random output gradients, one per float output."""
    rng = np.random.default_rng(seed)
    out = []
    for o in outs:
        w = rng.uniform(-1.0, 1.0, np.shape(o))
        if o.dtype.is_complex:
            w = w + 1j * rng.uniform(-1.0, 1.0, np.shape(o))
        out.append(np.asarray(w).astype(o.dtype.np))
    return out


def _dot(w, o):
    """The real loss whose gradient with respect to ``o`` is ``w``: Re(sum(conj(w) * o)) (TF's
    complex convention: the gradient is dL/dRe + i dL/dIm; sum(w * o) for real tensors)."""
    return float(np.real(np.vdot(w, np.asarray(o))))


def _loss(case, arrays, ws):
    """sum(out * w) over the outputs (complex: see ``_dot``), computed from an eager run."""
    outs = case.run(*[tf.constant(a) for a in arrays])
    return sum(_dot(w, o.numpy()) for o, w in zip(outs, ws))


def _numeric(f, arrays, positions, eps):
    """Central differences of scalar f(arrays) with respect to arrays[i] for i in positions;
    for a complex input, dL/dRe + i dL/dIm (real and imaginary parts perturbed in turn)."""
    grads = []
    for i in positions:
        g = np.zeros(arrays[i].shape, arrays[i].dtype if arrays[i].dtype.kind == "c" else np.float64)
        steps = (eps, 1j * eps) if g.dtype.kind == "c" else (eps,)
        for j in np.ndindex(*arrays[i].shape):
            for step in steps:
                plus = [a.copy() for a in arrays]
                minus = [a.copy() for a in arrays]
                plus[i][j] += step
                minus[i][j] -= step
                g[j] += (step / abs(step)) * (f(plus) - f(minus)) / (2 * eps)
        grads.append(g)
    return grads


# -- the registry is covered ---------------------------------------------------------------------


def test_every_op_has_a_case():
    cased = {c.op for c in CASES} | {c.op for c in STATEFUL_CASES} | set(NO_CASE)
    missing = sorted(set(all_ops()) - cased)
    assert not missing, "\n".join(f"op {op} has no test case in tests/op_cases.py"
                                  for op in missing)


def test_every_differentiable_op_is_gradient_checked():
    checked = {c.op for c in DIFF_CASES}
    missing = sorted(op for op in all_ops() if op not in checked and op not in NOT_FD)
    assert not missing, "\n".join(
        f"op {op} has no gradient-checked case in tests/op_cases.py (add one, or list it in "
        "NOT_FD with the reason)" for op in missing)


def test_case_lists_name_only_registered_ops():
    ops = set(all_ops())
    named = {c.op for c in CASES} | {c.op for c in STATEFUL_CASES} | set(NO_CASE) | set(NOT_FD)
    assert named <= ops, f"stale entries: {sorted(named - ops)}"
    assert not {c.op for c in DIFF_CASES} & set(NOT_FD), "an op is both checked and excused"
    assert len({c.id for c in CASES}) == len(CASES), "case ids must be unique"


def test_ops_without_gradient_are_excused():
    for op, opdef in all_ops().items():
        if opdef.gradient is None:
            assert op in NOT_FD, f"op {op} has no gradient but is not listed in NOT_FD"


# -- first order -----------------------------------------------------------------------------------


@pytest.mark.parametrize("case", DIFF_CASES, ids=_ids(DIFF_CASES))
def test_tape_gradient_matches_finite_differences(case, backend):
    arrays = case.arrays(np.float64)
    ws = _weights(case, case.run(*[tf.constant(a) for a in arrays]))
    _, grads = case.tape_gradients(arrays, ws)
    numeric = _numeric(lambda arrs: _loss(case, arrs, ws), arrays, case.diff, case.eps)
    for i, g, n in zip(case.diff, grads, numeric):
        assert g is not None, f"{case.id}: no gradient for input {i}"
        assert g.shape == arrays[i].shape, f"{case.id}: gradient {i} has shape {g.shape}"
        assert g.dtype == tf.as_dtype(arrays[i].dtype), f"{case.id}: gradient {i} dtype"
        np.testing.assert_allclose(g.numpy(), n, rtol=case.rtol, atol=case.atol,
                                   err_msg=f"{case.id}: d/d input {i}")


@pytest.mark.parametrize("case", DIFF_CASES, ids=_ids(DIFF_CASES))
def test_graph_gradients_equal_tape(case, backend):
    arrays = case.arrays(np.float64)
    eager_outs = case.run(*[tf.constant(a) for a in arrays])
    ws = _weights(case, eager_outs)
    _, tape_grads = case.tape_gradients(arrays, ws)
    g = tf.Graph()
    with g.as_default():
        phs = [tf.placeholder(tf.as_dtype(a.dtype), a.shape) for a in arrays]
        outs = case.run(*phs)
        grads = tf.gradients(outs, [phs[i] for i in case.diff],
                             grad_ys=[tf.constant(w) for w in ws])
        assert all(gr is not None for gr in grads), f"{case.id}: tf.gradients gave None"
    with tf.Session(graph=g) as sess:
        values = sess.run(grads, feed_dict=dict(zip(phs, arrays)))
    for v, t in zip(values, tape_grads):
        np.testing.assert_allclose(v, t.numpy(), rtol=1e-10, atol=1e-12, err_msg=case.id)


DYNAMIC_CASES = [c for c in DIFF_CASES if not c.static]


@pytest.mark.parametrize("case", DYNAMIC_CASES, ids=_ids(DYNAMIC_CASES))
def test_graph_gradients_with_unknown_dims_equal_tape(case, backend):
    """Placeholders of unknown shape ([None, None]) and fed output gradients: the gradient
    graph must work from run-time shapes (the ``*Like`` ops) and give the tape's values."""
    arrays = case.arrays(np.float64)
    ws = _weights(case, case.run(*[tf.constant(a) for a in arrays]))
    _, tape_grads = case.tape_gradients(arrays, ws)
    g = tf.Graph()
    with g.as_default():
        phs = [tf.placeholder(tf.as_dtype(a.dtype), [None] * a.ndim) for a in arrays]
        outs = case.run(*phs)
        wphs = [tf.placeholder(tf.as_dtype(w.dtype), [None] * w.ndim) for w in ws]
        grads = tf.gradients(outs, [phs[i] for i in case.diff], grad_ys=wphs)
    feed = dict(zip(phs, arrays)) | dict(zip(wphs, ws))
    with tf.Session(graph=g) as sess:
        values = sess.run(grads, feed_dict=feed)
    for v, t in zip(values, tape_grads):
        np.testing.assert_allclose(v, t.numpy(), rtol=1e-10, atol=1e-12, err_msg=case.id)


@pytest.mark.parametrize("case", NO_GRAD_CASES, ids=_ids(NO_GRAD_CASES))
def test_gradient_is_none_by_definition(case, backend):
    arrays = case.arrays(np.float64)
    xs = [tf.constant(a) for a in arrays]
    with tf.GradientTape() as tape:
        tape.watch([xs[i] for i in case.no_grad])
        outs = [o for o in case.run(*xs) if o.dtype.is_differentiable]
    grads = tape.gradient(outs, [xs[i] for i in case.no_grad])
    assert grads == [None] * len(case.no_grad), case.id


# -- second order ----------------------------------------------------------------------------------


def _first(case, xs, ws):
    """First derivatives of sum(out * w) w.r.t. the differentiable inputs (None -> zeros)."""
    with tf.GradientTape() as inner:
        inner.watch([xs[i] for i in case.diff])
        outs = case.run(*xs)
    grads = inner.gradient(outs, [xs[i] for i in case.diff], output_gradients=ws)
    return [tf.zeros_like(xs[i]) if g is None else g for i, g in zip(case.diff, grads)]


@pytest.mark.parametrize("case", SECOND_CASES, ids=_ids(SECOND_CASES))
def test_second_order_tape_matches_finite_differences(case, backend):
    """d/d(x, w) of sum(grad_x(sum(out * w)) * v): tape inside tape against central
    differences of the first derivative. Also checks the gradient of every gradient exists."""
    arrays = case.arrays(np.float64)
    outs0 = case.run(*[tf.constant(a) for a in arrays])
    ws0 = _weights(case, outs0)
    vs = [np.random.default_rng(2).uniform(-1, 1, arrays[i].shape) * (1 + 0.5j)
          if arrays[i].dtype.kind == "c" else np.random.default_rng(2).uniform(-1, 1, arrays[i].shape)
          for i in case.diff]
    vs = [v.astype(arrays[i].dtype) for i, v in zip(case.diff, vs)]
    n_in = len(arrays)

    xs = [tf.constant(a) for a in arrays]
    ws = [tf.constant(w) for w in ws0]
    with tf.GradientTape() as outer:
        outer.watch([xs[i] for i in case.diff] + ws)
        firsts = _first(case, xs, ws)
    sources = [xs[i] for i in case.diff] + ws
    second = outer.gradient(firsts, sources, output_gradients=[tf.constant(v) for v in vs])

    def f(arrs):
        xs_ = [tf.constant(a) for a in arrs[:n_in]]
        ws_ = [tf.constant(w) for w in arrs[n_in:]]
        return sum(_dot(v, g.numpy()) for g, v in zip(_first(case, xs_, ws_), vs))

    allarr = list(arrays) + list(ws0)
    positions = list(case.diff) + list(range(n_in, n_in + len(ws0)))
    numeric = _numeric(f, allarr, positions, 1e-5 if case.eps == 1e-6 else case.eps)
    for k, (s, n) in enumerate(zip(second, numeric)):
        got = np.zeros_like(n) if s is None else s.numpy()
        np.testing.assert_allclose(got, n, rtol=1e-4, atol=1e-6,
                                   err_msg=f"{case.id}: second derivative, source {k}")


GRAPH_SECOND = [c for c in SECOND_CASES if c.op in SECOND_ORDER_FD]


@pytest.mark.parametrize("case", GRAPH_SECOND, ids=_ids(GRAPH_SECOND))
def test_graph_second_order_equals_tape(case, backend):
    """tf.gradients of tf.gradients in a Session equals nested tapes."""
    arrays = case.arrays(np.float64)
    outs0 = case.run(*[tf.constant(a) for a in arrays])
    ws0 = _weights(case, outs0)
    xs = [tf.constant(a) for a in arrays]
    with tf.GradientTape() as outer:
        outer.watch([xs[i] for i in case.diff])
        firsts = _first(case, xs, [tf.constant(w) for w in ws0])
    tape_second = outer.gradient(firsts, [xs[i] for i in case.diff])

    g = tf.Graph()
    with g.as_default():
        phs = [tf.placeholder(tf.as_dtype(a.dtype), a.shape) for a in arrays]
        outs = case.run(*phs)
        d = [phs[i] for i in case.diff]
        firsts = tf.gradients(outs, d, grad_ys=[tf.constant(w) for w in ws0])
        seconds = tf.gradients(firsts, d, unconnected_gradients="zero")
    with tf.Session(graph=g) as sess:
        values = sess.run(seconds, feed_dict=dict(zip(phs, arrays)))
    for v, t in zip(values, tape_second):
        expect = np.zeros_like(v) if t is None else t.numpy()
        np.testing.assert_allclose(v, expect, rtol=1e-9, atol=1e-12, err_msg=case.id)


def test_second_derivative_of_cube_in_graph_mode():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float64, [3])
        y = x ** 3
        (dy,) = tf.gradients(y, x)
        (d2y,) = tf.gradients(dy, x)
    with tf.Session(graph=g) as sess:
        a = np.array([-1.0, 0.5, 2.0])
        d1, d2 = sess.run([dy, d2y], {x: a})
    np.testing.assert_allclose(d1, 3 * a**2)
    np.testing.assert_allclose(d2, 6 * a)
