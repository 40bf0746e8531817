"""``tf.profiler``: kernel counts in eager mode, Session.run and tf.function replay; shares;
FLOP counts; nesting; start/stop; nothing recorded (and nothing wrapped) when off."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minitf as tf
from minitf import profiler
from minitf.framework import context


def _counts(prof: tf.profiler.Profile, **kw) -> dict[str, int]:
    return {r.key: r.calls for r in prof.stats(**kw)}


def test_exported_as_tf_profiler():
    assert tf.profiler is profiler
    assert tf.profiler.experimental.Profile is tf.profiler.Profile


def test_eager_ops_are_counted_once_each():
    a = tf.constant(np.ones((3, 4), np.float32))
    b = tf.constant(np.ones((4, 2), np.float32))
    with tf.profiler.Profile() as prof:
        c = tf.matmul(a, b)
        d = tf.nn.relu(c) * 2.0
        tf.reduce_sum(d)
        tf.matmul(a, b)
    counts = _counts(prof)
    assert counts["MatMul"] == 2
    assert counts["Relu"] == 1
    assert counts["Mul"] == 1
    assert counts["Sum"] == 1
    assert {e[2] for e in prof.events} == {"eager"}


def test_session_run_counts_every_replayed_kernel():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 3], name="x")
        w = tf.constant(np.ones((3, 2), np.float32), name="w")
        y = tf.reduce_mean(tf.square(tf.matmul(x, w, name="mm")), name="loss")
    with tf.Session(graph=g) as sess:
        sess.run(y, {x: np.ones((2, 3))})  # plan built before profiling: still recorded
        with tf.profiler.Profile() as prof:
            for _ in range(5):
                sess.run(y, {x: np.ones((2, 3))})
    counts = _counts(prof, source="graph")
    assert counts["MatMul"] == 5 and counts["Square"] == 5 and counts["Mean"] == 5
    assert _counts(prof, by="name")["mm"] == 5
    assert _counts(prof, source="eager") == {}


def test_tf_function_replay_is_labelled_and_counted():
    @tf.function
    def step(z):
        return tf.reduce_sum(tf.matmul(z, z) + 1.0)

    z = np.eye(4, dtype=np.float32)
    step(z)  # trace outside the profile
    with tf.profiler.Profile() as prof:
        for _ in range(3):
            step(z)
    counts = _counts(prof, source="tf.function")
    assert counts["MatMul"] == 3 and counts["AddV2"] == 3 and counts["Sum"] == 3
    assert {e[2] for e in prof.events} == {"tf.function"}


def test_shares_sum_to_one_and_rows_are_sorted():
    a = tf.constant(np.random.rand(16, 16).astype(np.float32))
    with tf.profiler.Profile() as prof:
        for _ in range(4):
            tf.exp(tf.matmul(a, a)) - a
    rows = prof.stats()
    assert math.isclose(sum(r.share for r in rows), 1.0, rel_tol=1e-9)
    assert [r.total_s for r in rows] == sorted((r.total_s for r in rows), reverse=True)
    assert math.isclose(prof.total_s, sum(r.total_s for r in rows), rel_tol=1e-9)
    assert prof.wall_s >= prof.total_s > 0


@pytest.mark.parametrize("ta,tb", [(False, False), (True, False), (False, True), (True, True)])
def test_matmul_flops(ta, tb):
    m, k, n = 5, 7, 3
    a = np.ones((k, m) if ta else (m, k), np.float32)
    b = np.ones((n, k) if tb else (k, n), np.float32)
    with tf.profiler.Profile() as prof:
        tf.matmul(a, b, transpose_a=ta, transpose_b=tb)
    (row,) = [r for r in prof.stats() if r.key == "MatMul"]
    assert row.flops == 2 * m * k * n
    assert row.gflops_per_s is None or row.gflops_per_s > 0


def test_elementwise_and_reduction_flops_and_unknown_ops():
    x = tf.constant(np.ones((4, 5), np.float32))
    with tf.profiler.Profile() as prof:
        tf.reduce_sum(tf.tanh(x), axis=1)
        tf.transpose(x)
    flops = {r.key: r.flops for r in prof.stats()}
    assert flops["Tanh"] == 20
    assert flops["Sum"] == 20  # one add per input element
    assert flops["Transpose"] is None  # data movement: no FLOPs claimed


def test_conv_flop_rules():
    # filters are [height, width, in_channels, out_channels]: 2 * kh * kw * c_in per output
    x = np.zeros((2, 8, 8, 3))
    f = np.zeros((3, 3, 3, 4))
    y = np.zeros((2, 6, 6, 4))
    per_output = 2 * 3 * 3 * 3
    assert profiler.flop_count("Conv2D", [x, f], y, {}) == y.size * per_output
    for inputs in ([x, f, y], [np.array(x.shape), f, y]):  # minitf's and TF's input order
        assert profiler.flop_count("Conv2DBackpropInput", inputs, x, {}) == y.size * per_output
    for inputs in ([x, f, y], [x, np.array(f.shape), y]):
        assert profiler.flop_count("Conv2DBackpropFilter", inputs, f, {}) == y.size * per_output
    bias = np.zeros(4)
    assert profiler.flop_count("FusedConv2D", [x, f, bias], y, {}) == y.size * (per_output + 2)
    assert profiler.flop_count("NoSuchOp", [x], y, {}) is None


def test_nothing_recorded_when_off():
    prof = tf.profiler.Profile()
    a = tf.constant(np.ones((2, 2), np.float32))
    with prof:
        tf.add(a, a)
    n = len(prof.events)
    tf.add(a, a)  # after the block
    g = tf.Graph()
    with g.as_default():
        y = tf.square(tf.constant(2.0))
    with tf.Session(graph=g) as sess:
        sess.run(y)
    assert len(prof.events) == n == 1
    assert context.state.profiler is None


def test_off_path_runs_the_plan_unwrapped(monkeypatch):
    """With no profile active, Session.run must use the plan's own kernels (no wrappers)."""
    def boom(*args):
        raise AssertionError("timed_steps called while not profiling")

    monkeypatch.setattr(tf.profiler.Profile, "timed_steps", boom)
    monkeypatch.setattr(tf.profiler.Profile, "run_eager", boom)
    g = tf.Graph()
    with g.as_default():
        y = tf.square(tf.constant(3.0))
    with tf.Session(graph=g) as sess:
        assert sess.run(y) == 9.0
    assert float(tf.square(tf.constant(2.0))) == 4.0


def test_profiles_nest_and_restore():
    a = tf.constant(1.0)
    with tf.profiler.Profile() as outer:
        tf.add(a, a)
        with tf.profiler.Profile() as inner:
            tf.multiply(a, a)
        assert context.state.profiler is outer
        tf.subtract(a, a)
    assert context.state.profiler is None
    assert _counts(inner) == {"Mul": 1}
    assert _counts(outer) == {"AddV2": 1, "Mul": 1, "Sub": 1}


def test_errors_leave_the_profiler_off_and_kernels_unrecorded():
    a = tf.constant(np.ones((2, 3), np.float32))
    with pytest.raises(tf.errors.InvalidArgumentError):
        with tf.profiler.Profile() as prof:
            tf.matmul(a, a)  # 2x3 @ 2x3: the shape rule rejects it before any kernel runs
    assert context.state.profiler is None
    assert prof.events == []


def test_start_stop():
    prof = tf.profiler.experimental.start("unused-logdir")
    tf.add(tf.constant(1.0), 2.0)
    assert tf.profiler.experimental.stop() is prof
    assert _counts(prof) == {"AddV2": 1}
    with pytest.raises(RuntimeError):
        tf.profiler.stop()


def test_table_html_and_plot():
    a = tf.constant(np.ones((4, 4), np.float32))
    with tf.profiler.Profile() as prof:
        tf.matmul(a, a)
        tf.sigmoid(a)
        tf.transpose(a)
    text = prof.table()
    assert text.splitlines()[0].split()[:3] == ["op", "type", "calls"]
    assert "MatMul" in text and "Sigmoid" in text and "3 kernel calls" in text
    assert "... 2 more op types" in prof.table(top=1)
    page = prof._repr_html_()
    assert page.startswith("<table") and "Transpose" in page
    import matplotlib

    matplotlib.use("Agg")
    ax = prof.plot()
    assert len(ax.patches) == 3
    with pytest.raises(ValueError, match="by must be"):
        prof.stats(by="device")


def test_keras_fit_profile():
    x = np.random.rand(64, 8).astype(np.float32)
    y = (x.sum(axis=1) > 4).astype(np.int32)
    model = tf.keras.Sequential([tf.keras.layers.Dense(4, activation="relu", input_shape=(8,)),
                                 tf.keras.layers.Dense(2)])
    model.compile(optimizer="sgd",
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    with tf.profiler.Profile() as prof:
        model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    counts = _counts(prof)
    assert counts["MatMul"] % 4 == 0 and counts["MatMul"] >= 4 * 2  # >= 2 per step, 4 steps
    assert counts["Relu"] == 4


def test_a_failing_flop_counter_does_not_fail_the_op(monkeypatch):
    def broken(inputs, result, attrs):
        raise TypeError("unexpected inputs")

    monkeypatch.setitem(profiler._FLOPS, "Neg", broken)
    with tf.profiler.Profile() as prof:
        y = tf.negative(tf.constant([1.0, 2.0]))
    np.testing.assert_allclose(y.numpy(), [-1.0, -2.0])
    assert [(r.key, r.calls, r.flops) for r in prof.stats()] == [("Neg", 1, None)]


def test_register_flops_teaches_new_ops(monkeypatch):
    monkeypatch.setitem(profiler._FLOPS, "Transpose", lambda inputs, result, attrs: 7)
    with tf.profiler.Profile() as prof:
        tf.transpose(tf.constant(np.ones((2, 3), np.float32)))
    assert prof.stats()[0].flops == 7
    profiler.register_flops("MyCustomOp", lambda inputs, result, attrs: 1)
    assert profiler.flop_count("MyCustomOp", [], None, {}) == 1
    del profiler._FLOPS["MyCustomOp"]


def test_conv2d_training_step_is_profiled_with_flops():
    x = tf.constant(np.random.rand(2, 6, 6, 3).astype(np.float32))
    w = tf.Variable(np.random.rand(3, 3, 3, 4).astype(np.float32))
    with tf.profiler.Profile() as prof:
        with tf.GradientTape() as tape:
            y = tf.nn.conv2d(x, w, strides=1, padding="VALID")
            loss = tf.reduce_sum(y)
        tape.gradient(loss, w)
    rows = {r.key: r for r in prof.stats()}
    assert rows["Conv2D"].flops == 2 * (2 * 4 * 4 * 4) * (3 * 3 * 3)
    assert rows["Conv2DBackpropFilter"].flops == rows["Conv2D"].flops
