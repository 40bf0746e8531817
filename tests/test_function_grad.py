"""A tf.function call differentiated by a tape outside it: the call is one op on the tape
(StatefulPartitionedCall) whose gradient is the traced backward function. Checked against the
same Python function run eagerly, op by op."""

from __future__ import annotations

import numpy as np
import pytest

import minitf as tf
from minitf.framework import registry


def f64(*values):
    return tf.constant(np.array(values, np.float64))


def _mlp(x, w, b):
    return tf.reduce_sum(tf.tanh(tf.matmul(x, w) + b) ** 2)


def _both(fn):
    """The eager function and its tf.function."""
    return fn, tf.function(fn)


def test_watched_input_gets_the_eager_gradient():
    rng = np.random.default_rng(0)
    x = tf.constant(rng.normal(size=(3, 4)))
    w = tf.constant(rng.normal(size=(4, 2)))
    b = tf.constant(rng.normal(size=(2,)))
    grads = []
    for fn in _both(_mlp):
        with tf.GradientTape() as tape:
            tape.watch([x, w, b])
            y = fn(x, w, b)
        grads.append(tape.gradient(y, [x, w, b]))
    for eager, traced in zip(*grads):
        np.testing.assert_allclose(traced.numpy(), eager.numpy(), rtol=1e-12)


def test_captured_variables_are_inputs_of_the_call():
    w = tf.Variable(np.array([[1.0], [-2.0]], np.float32))
    b = tf.Variable(np.array([0.5], np.float32))
    frozen = tf.Variable(np.array([3.0], np.float32), trainable=False)

    def loss(x):
        return tf.reduce_mean((tf.matmul(x, w) + b) * frozen)

    x = tf.constant(np.array([[1.0, 2.0], [3.0, 4.0]], np.float32))
    results = []
    for fn in _both(loss):
        with tf.GradientTape() as tape:
            y = fn(x)
        results.append((tape.watched_variables(), tape.gradient(y, [w, b, frozen])))
    (eager_vars, eager), (traced_vars, traced) = results
    assert set(map(id, traced_vars)) == set(map(id, eager_vars)) == {id(w), id(b)}
    assert traced[2] is None  # not trainable, not watched: no gradient, as eagerly
    for e, t in zip(eager[:2], traced[:2]):
        np.testing.assert_allclose(t.numpy(), e.numpy(), rtol=1e-6)


def test_second_derivative_through_nested_tapes():
    f = tf.function(lambda x: tf.reduce_sum(tf.sin(x) * x))
    x = f64(0.3, 1.2)
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(x)
            y = f(x)
        dy = inner.gradient(y, x)
    d2y = outer.gradient(dy, x)
    xv = x.numpy()
    np.testing.assert_allclose(dy.numpy(), np.cos(xv) * xv + np.sin(xv), rtol=1e-12)
    np.testing.assert_allclose(d2y.numpy(), 2 * np.cos(xv) - np.sin(xv) * xv, rtol=1e-12)


def test_third_derivative_and_a_variable_inside():
    v = tf.Variable(2.0, dtype=tf.float64)
    f = tf.function(lambda x: v * x ** 4)
    x = f64(1.5)
    with tf.GradientTape() as t3:
        t3.watch(x)
        with tf.GradientTape() as t2:
            t2.watch(x)
            with tf.GradientTape() as t1:
                t1.watch(x)
                y = f(x)
            d1 = t1.gradient(y, x)
        d2 = t2.gradient(d1, x)
    d3 = t3.gradient(d2, [x, v])
    np.testing.assert_allclose(d3[0].numpy(), [2.0 * 24 * 1.5], rtol=1e-12)
    np.testing.assert_allclose(d3[1].numpy(), 12 * 1.5 ** 2, rtol=1e-12)  # d/dv of 12 v x^2


def test_several_outputs_and_structures():
    @tf.function
    def f(d):
        return {"sum": d["a"] + d["b"], "prod": d["a"] * d["b"], "n": 3}

    a, b = f64(2.0, 3.0), f64(5.0, 7.0)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([a, b])
        out = f({"a": a, "b": b})
        total = out["sum"] * 2 + out["prod"]
    assert out["n"] == 3
    np.testing.assert_allclose(tape.gradient(total, a).numpy(), 2 + b.numpy())
    np.testing.assert_allclose(tape.gradient(out["prod"], b).numpy(), a.numpy())
    np.testing.assert_allclose(tape.gradient([out["sum"], out["prod"]], a).numpy(),
                               1 + b.numpy())


def test_non_differentiable_outputs_and_unconnected_inputs_give_none():
    @tf.function
    def f(x, y):
        return tf.cast(tf.round(x), tf.int32), tf.stop_gradient(x) * 2.0, x * 3.0

    x, y = f64(1.4), f64(2.0)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([x, y])
        i, s, z = f(x, y)
    assert tape.gradient(i, x) is None  # an integer output, as in TF
    assert tape.gradient(s, x) is None  # stop_gradient inside the function
    assert tape.gradient(z, y) is None  # y is not used
    zero = tape.gradient(z, y, unconnected_gradients="zero")
    assert zero.numpy() == 0.0
    assert tape.gradient(z, x).numpy() == 3.0


def test_unwatched_call_is_not_recorded():
    f = tf.function(lambda x: x * 2.0)
    x = f64(1.0)
    with tf.GradientTape() as tape:
        y = f(x)
    assert tape.gradient(y, x) is None
    assert not tape._ops


def test_call_inside_another_function_is_inlined_and_differentiable():
    inner = tf.function(lambda x: x ** 3)

    @tf.function
    def outer(x):
        return inner(x) + 1.0

    x = f64(2.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = outer(x)
    assert tape.gradient(y, x).numpy() == 12.0
    ops = [op.type for op in outer.get_concrete_function(x).graph.get_operations()]
    assert "StatefulPartitionedCall" not in ops


def test_tape_inside_and_outside_a_traced_training_step():
    w = tf.Variable(np.array([1.0, -1.0]))

    @tf.function
    def step(x):
        with tf.GradientTape() as inner:
            loss = tf.reduce_sum(w * x) ** 2
        g = inner.gradient(loss, w)
        return loss, g

    x = f64(0.5, 2.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss, g = step(x)
    # d/dx of loss = 2 (w.x) w
    np.testing.assert_allclose(tape.gradient(loss, x).numpy(),
                               2 * np.dot(w.numpy(), x.numpy()) * w.numpy())


def test_the_call_op_is_registered_but_framework_level():
    opdef = registry.get("StatefulPartitionedCall")
    assert opdef.gradient is not None and opdef.stateful
    assert not opdef.api  # no public name: only tf.function records it


@pytest.mark.parametrize("persistent", [False, True])
def test_gradient_through_numpy_argument_is_none(persistent):
    f = tf.function(lambda x: x * 2.0)
    with tf.GradientTape(persistent=persistent) as tape:
        y = f(np.array([1.0]))
    assert tape.gradient(y, y) is not None  # the target itself
