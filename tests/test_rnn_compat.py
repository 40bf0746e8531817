"""TF1 recurrent API in a Graph and Session: ``tf.compat.v1.nn.rnn_cell`` cells and
``dynamic_rnn`` with ``sequence_length``, against NumPy versions of TF1's cell formulas, and
``tf.gradients`` against finite differences."""

from __future__ import annotations

import numpy as np
import pytest

import minitf as tf

v1 = tf.compat.v1
rnn_cell = v1.nn.rnn_cell


def _sig(x):
    return 1 / (1 + np.exp(-x))


def _np_step(kind, ws, x, state):
    """TF1's formulas, written again in NumPy."""
    if kind == "rnn":
        k, b = ws
        h = np.tanh(np.concatenate([x, state], 1) @ k + b)
        return h, h
    if kind == "lstm":
        k, b = ws
        c, h = state
        i, j, f, o = np.split(np.concatenate([x, h], 1) @ k + b, 4, axis=1)
        c = c * _sig(f + 1.0) + _sig(i) * np.tanh(j)
        h = np.tanh(c) * _sig(o)
        return h, (c, h)
    gk, gb, ck, cb = ws
    r, u = np.split(_sig(np.concatenate([x, state], 1) @ gk + gb), 2, axis=1)
    cand = np.tanh(np.concatenate([x, r * state], 1) @ ck + cb)
    h = u * state + (1 - u) * cand
    return h, h


def _np_dynamic_rnn(kind, ws, x, lengths, units):
    n = x.shape[0]
    state = (np.zeros((n, units)), np.zeros((n, units))) if kind == "lstm" else np.zeros((n, units))
    outs = []
    for t in range(x.shape[1]):
        out, new = _np_step(kind, ws, x[:, t], state)
        m = (t < lengths)[:, None]
        if kind == "lstm":
            state = tuple(np.where(m, a, b) for a, b in zip(new, state))
        else:
            state = np.where(m, new, state)
        outs.append(np.where(m, out, 0.0))
    return np.stack(outs, 1), state


CELLS = {"rnn": lambda: rnn_cell.BasicRNNCell(3), "lstm": lambda: rnn_cell.BasicLSTMCell(3),
         "lstmcell": lambda: rnn_cell.LSTMCell(3), "gru": lambda: rnn_cell.GRUCell(3)}


def _build(kind):
    g = tf.Graph()
    with g.as_default():
        x = v1.placeholder(tf.float64, [None, 4, 2])
        lengths = v1.placeholder(tf.int32, [None])
        cell = CELLS[kind]()
        out, state = v1.nn.dynamic_rnn(cell, x, sequence_length=lengths, dtype=tf.float64)
    return g, x, lengths, cell, out, state


@pytest.mark.parametrize("kind", list(CELLS))
def test_dynamic_rnn_matches_tf1_formulas(kind, backend):
    rng = np.random.default_rng(0)
    xs, lens = rng.normal(size=(3, 4, 2)), np.array([4, 2, 0])
    g, x, lengths, cell, out, state = _build(kind)
    with v1.Session(graph=g) as sess:
        sess.run(v1.global_variables_initializer())
        ws = sess.run(cell.variables)
        o, s = sess.run([out, state], {x: xs, lengths: lens})
    ref_o, ref_s = _np_dynamic_rnn(kind.replace("cell", ""), ws, xs, lens, 3)
    np.testing.assert_allclose(o, ref_o, rtol=1e-10, atol=1e-12)
    if isinstance(s, tuple):
        assert type(s).__name__ == "LSTMStateTuple"
        for a, b in zip(s, ref_s):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    else:
        np.testing.assert_allclose(s, ref_s, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind", list(CELLS))
def test_dynamic_rnn_gradients_match_finite_differences(kind):
    rng = np.random.default_rng(1)
    xs, lens = rng.normal(size=(3, 4, 2)), np.array([4, 3, 1])
    g, x, lengths, cell, out, state = _build(kind)
    with g.as_default():
        h = state.h if kind.startswith("lstm") else state
        wo = rng.normal(size=(3, 4, 3))
        loss = tf.reduce_sum(out * wo) + tf.reduce_sum(h * h)
        grads = tf.gradients(loss, [x, *cell.variables])
        new_w = v1.placeholder(tf.float64, cell.variables[0].shape)
        assign = cell.variables[0].assign(new_w)
    with v1.Session(graph=g) as sess:
        sess.run(v1.global_variables_initializer())
        feed = {x: xs, lengths: lens}
        got = sess.run(grads, feed)
        eps = 1e-6
        flat = xs.reshape(-1)
        for idx in rng.choice(flat.size, 6, replace=False):
            plus, minus = flat.copy(), flat.copy()
            plus[idx] += eps
            minus[idx] -= eps
            num = (sess.run(loss, {x: plus.reshape(xs.shape), lengths: lens})
                   - sess.run(loss, {x: minus.reshape(xs.shape), lengths: lens})) / (2 * eps)
            np.testing.assert_allclose(got[0].reshape(-1)[idx], num, rtol=1e-5, atol=1e-7)
        var = cell.variables[0]
        w0 = sess.run(var)
        for idx in [(0, 0), (1, 2), (w0.shape[0] - 1, w0.shape[1] - 1)]:
            vals = []
            for d in (eps, -eps):
                w = w0.copy()
                w[idx] += d
                sess.run(assign, {new_w: w})
                vals.append(sess.run(loss, feed))
            sess.run(assign, {new_w: w0})
            np.testing.assert_allclose(got[1][idx], (vals[0] - vals[1]) / (2 * eps), rtol=1e-5,
                                       atol=1e-7)


def test_multi_rnn_cell_stacks_and_time_major():
    rng = np.random.default_rng(2)
    xs = rng.normal(size=(2, 4, 2)).astype(np.float32)
    g = tf.Graph()
    with g.as_default():
        x = v1.placeholder(tf.float32, [2, 4, 2])
        cell = rnn_cell.MultiRNNCell([rnn_cell.BasicLSTMCell(3), rnn_cell.GRUCell(5)])
        out, (s0, s1) = v1.nn.dynamic_rnn(cell, x, dtype=tf.float32)
        out_tm, _ = v1.nn.dynamic_rnn(cell, tf.transpose(x, [1, 0, 2]), dtype=tf.float32,
                                      time_major=True)
        grads = tf.gradients(tf.reduce_sum(out), cell.variables)
    names = [v.name for v in cell.variables]
    assert names[0] == "rnn/multi_rnn_cell/cell_0/basic_lstm_cell/kernel:0"
    assert names[2] == "rnn/multi_rnn_cell/cell_1/gru_cell/gates/kernel:0"
    with v1.Session(graph=g) as sess:
        sess.run(v1.global_variables_initializer())
        o, o_tm, last, gs = sess.run([out, out_tm, s1, grads], {x: xs})
    assert o.shape == (2, 4, 5) and len(gs) == 6
    np.testing.assert_allclose(o_tm.transpose(1, 0, 2), o, rtol=1e-6)
    np.testing.assert_allclose(o[:, -1], last, rtol=1e-6)


def test_cells_step_by_step_eagerly():
    cell = rnn_cell.BasicLSTMCell(2)
    state = cell.zero_state(3, tf.float32)
    x = np.ones((3, 4), np.float32)
    out, state = cell(x, state)
    assert out.shape == (3, 2) and state.c.shape == (3, 2)
    assert [v.shape for v in cell.variables] == [(6, 8), (8,)]


def test_dynamic_rnn_errors_name_the_problem():
    with pytest.raises(ValueError, match="initial_state or dtype"):
        v1.nn.dynamic_rnn(rnn_cell.GRUCell(2), np.ones((1, 2, 2), np.float32))
    with pytest.raises(ValueError, match="state_is_tuple"):
        rnn_cell.BasicLSTMCell(2, state_is_tuple=False)
