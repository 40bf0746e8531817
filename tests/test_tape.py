"""tf.GradientTape: what it watches, persistence, higher derivatives, unconnected and integer
sources, broadcasting, structured sources, stop_gradient, jacobians and variable updates."""

from __future__ import annotations

import numpy as np
import pytest

import minitf as tf


def f64(*values):
    return tf.constant(np.array(values, np.float64))


# -- watching --------------------------------------------------------------------------------------


def test_constants_are_watched_only_on_request():
    x = tf.constant(3.0)
    with tf.GradientTape(persistent=True) as tape:
        y = x * x
    assert tape.gradient(y, x) is None
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    assert tape.gradient(y, x).numpy() == 6.0


def test_trainable_variables_are_watched_when_read():
    v = tf.Variable(2.0)
    frozen = tf.Variable(5.0, trainable=False)
    with tf.GradientTape(persistent=True) as tape:
        y = v * frozen
    assert tape.watched_variables() == (v,)
    assert tape.gradient(y, v).numpy() == 5.0
    assert tape.gradient(y, frozen) is None


def test_watch_makes_non_trainable_variables_differentiable():
    frozen = tf.Variable(5.0, trainable=False)
    with tf.GradientTape() as tape:
        tape.watch(frozen)
        y = frozen * frozen
    assert tape.gradient(y, frozen).numpy() == 10.0


def test_watch_accessed_variables_false_watches_only_what_is_asked():
    a = tf.Variable(2.0)
    b = tf.Variable(3.0)
    with tf.GradientTape(watch_accessed_variables=False, persistent=True) as tape:
        tape.watch(b)
        y = a * b
    assert tape.watched_variables() == (b,)
    assert tape.gradient(y, a) is None
    assert tape.gradient(y, b).numpy() == 2.0


def test_watch_rejects_non_tensors():
    with tf.GradientTape() as tape, pytest.raises(TypeError, match="eager tensors or variables"):
        tape.watch(3.0)


def test_only_ops_inside_the_with_block_are_recorded():
    x = tf.constant(2.0)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x * 3.0
        with tape.stop_recording():
            z = y * y  # not recorded
    w = y * 5.0  # after the block: not recorded
    assert tape.gradient(y, x).numpy() == 3.0
    assert tape.gradient(z, x) is None
    assert tape.gradient(w, x) is None


# -- persistence -----------------------------------------------------------------------------------


def test_persistent_tape_computes_several_gradients():
    x = tf.constant(2.0)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x * x
        z = y * x
    assert tape.gradient(y, x).numpy() == 4.0
    assert tape.gradient(z, x).numpy() == 12.0
    assert tape.gradient(z, x).numpy() == 12.0


def test_non_persistent_tape_refuses_a_second_call():
    x = tf.constant(2.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    assert tape.gradient(y, x).numpy() == 4.0
    with pytest.raises(RuntimeError, match="persistent"):
        tape.gradient(y, x)


# -- higher derivatives ----------------------------------------------------------------------------


def test_nested_tapes_give_second_derivatives():
    x = f64(-1.0, 0.5, 2.0)
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(x)
            y = x**3
        dy = inner.gradient(y, x)
    d2y = outer.gradient(dy, x)
    np.testing.assert_allclose(dy.numpy(), 3 * x.numpy() ** 2)
    np.testing.assert_allclose(d2y.numpy(), 6 * x.numpy())


def test_third_derivative_with_a_persistent_outer_tape():
    x = tf.Variable(np.float64(1.5))
    with tf.GradientTape() as t3:
        with tf.GradientTape() as t2:
            with tf.GradientTape() as t1:
                y = tf.sin(x)
            d1 = t1.gradient(y, x)
        d2 = t2.gradient(d1, x)
    d3 = t3.gradient(d2, x)
    np.testing.assert_allclose([d1.numpy(), d2.numpy(), d3.numpy()],
                               [np.cos(1.5), -np.sin(1.5), -np.cos(1.5)])


def test_second_derivative_through_a_variable():
    v = tf.Variable(np.array([1.0, 2.0]))
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            y = tf.reduce_sum(tf.exp(v) * v)
        g = inner.gradient(y, v)
    h = outer.gradient(g, v)
    x = v.numpy()
    np.testing.assert_allclose(g.numpy(), np.exp(x) * (x + 1))
    np.testing.assert_allclose(h.numpy(), np.exp(x) * (x + 2))


# -- unconnected, integer and structured sources ---------------------------------------------------


def test_unconnected_sources_give_none_or_zeros():
    x, unused = f64(1.0, 2.0), tf.zeros([2, 3])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([x, unused])
        y = tf.reduce_sum(x * x)
    assert tape.gradient(y, unused) is None
    z = tape.gradient(y, unused, unconnected_gradients="zero")
    assert z.shape == (2, 3) and z.dtype == tf.float32
    np.testing.assert_array_equal(z.numpy(), np.zeros((2, 3)))
    gx, gu = tape.gradient(y, [x, unused], unconnected_gradients="zero")
    np.testing.assert_allclose(gx.numpy(), [2.0, 4.0])
    assert gu.shape == (2, 3)


def test_integer_sources_give_none():
    i = tf.constant([1, 2, 3])
    x = tf.constant([1.0, 2.0, 3.0])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([i, x])
        y = tf.reduce_sum(tf.cast(i, tf.float32) * x)
    assert tape.gradient(y, i) is None
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), [1.0, 2.0, 3.0])


def test_gradient_through_broadcast_bias_is_summed():
    x = tf.constant(np.arange(12, dtype=np.float32).reshape(4, 3))
    bias = tf.Variable([0.5, -1.0, 2.0])
    w = np.array([[1.0, 2.0, 3.0]] * 4, np.float32)
    with tf.GradientTape() as tape:
        y = tf.reduce_sum((x + bias) * w)
    g = tape.gradient(y, bias)
    assert g.shape == (3,)
    np.testing.assert_allclose(g.numpy(), [4.0, 8.0, 12.0])


def test_gradient_through_size_one_axis_broadcast():
    col = tf.Variable(np.ones((4, 1), np.float32))
    row = tf.Variable(np.ones((1, 3), np.float32))
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(col * row * 2.0)
    gc, gr = tape.gradient(y, [col, row])
    np.testing.assert_allclose(gc.numpy(), np.full((4, 1), 6.0))
    np.testing.assert_allclose(gr.numpy(), np.full((1, 3), 8.0))


def test_nested_sources_keep_their_structure():
    a, b, c = tf.Variable(1.0), tf.Variable(2.0), tf.Variable(3.0)
    with tf.GradientTape() as tape:
        y = a * b * c
    grads = tape.gradient(y, {"first": [a, (b,)], "second": {"c": c}})
    assert isinstance(grads, dict) and set(grads) == {"first", "second"}
    assert isinstance(grads["first"], list) and isinstance(grads["first"][1], tuple)
    assert grads["first"][0].numpy() == 6.0
    assert grads["first"][1][0].numpy() == 3.0
    assert grads["second"]["c"].numpy() == 2.0


def test_sources_must_be_tensors_or_variables():
    x = tf.constant(1.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = x * 2.0
    with pytest.raises(TypeError, match="tensors or variables"):
        tape.gradient(y, [x, "x"])


def test_list_targets_are_summed_and_output_gradients_weight_them():
    x = f64(1.0, 2.0)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y1, y2 = x * 2.0, x * x
    np.testing.assert_allclose(tape.gradient([y1, y2], x).numpy(), [4.0, 6.0])
    g = tape.gradient([y1, y2], x, output_gradients=[f64(1.0, 0.0), f64(0.5, 2.0)])
    np.testing.assert_allclose(g.numpy(), [2.0 + 1.0, 0.0 + 8.0])


def test_a_value_used_twice_accumulates():
    v = tf.Variable(3.0)
    with tf.GradientTape() as tape:
        y = v * v + v
    assert tape.gradient(y, v).numpy() == 7.0


# -- stop_gradient, jacobian -----------------------------------------------------------------------


def test_stop_gradient_blocks_the_path():
    x = tf.constant(2.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = x * tf.stop_gradient(x * x)
    assert tape.gradient(y, x).numpy() == 4.0  # d/dx [x * c] with c = 4


def test_jacobian_of_a_small_function():
    x = f64(1.0, 2.0, 3.0)
    w = tf.constant(np.array([[1.0, 0.0, 2.0], [0.0, -1.0, 1.0]]))
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        sq = x * x
        lin = tf.reshape(tf.matmul(w, tf.reshape(x, [3, 1])), [2])
    jsq = tape.jacobian(sq, x)
    jlin = tape.jacobian(lin, x)
    assert jsq.shape == (3, 3) and jlin.shape == (2, 3)
    np.testing.assert_allclose(jsq.numpy(), np.diag([2.0, 4.0, 6.0]))
    np.testing.assert_allclose(jlin.numpy(), w.numpy())


def test_jacobian_of_a_matrix_output_has_both_shapes():
    x = tf.constant(np.array([[1.0, 2.0], [3.0, 4.0]]))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(x, axis=0) * 2.0  # (2,)
    j = tape.jacobian(y, x)
    assert j.shape == (2, 2, 2)
    expect = np.zeros((2, 2, 2))
    for i in range(2):
        expect[i, :, i] = 2.0
    np.testing.assert_allclose(j.numpy(), expect)


# -- variables -------------------------------------------------------------------------------------


def test_assign_inside_a_tape_uses_the_new_value():
    v = tf.Variable(1.0)
    with tf.GradientTape() as tape:
        v.assign(3.0)
        y = v * v
    assert tape.gradient(y, v).numpy() == 6.0
    assert v.numpy() == 3.0


def test_assign_does_not_connect_the_assigned_value():
    x = tf.constant(2.0)
    v = tf.Variable(0.0)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        v.assign(x * 5.0)
        y = v * 1.5
    assert y.numpy() == 15.0
    assert tape.gradient(y, x) is None  # assignment is not differentiable, as in TF
    assert tape.gradient(y, v).numpy() == 1.5


def test_assign_sub_training_step_inside_tape_loop_converges():
    w = tf.Variable(np.float32(0.0))
    for _ in range(50):
        with tf.GradientTape() as tape:
            loss = tf.square(w - 3.0)
        w.assign_sub(0.1 * tape.gradient(loss, w))
    assert abs(w.numpy() - 3.0) < 1e-3


def test_gradient_dtype_follows_the_variable():
    v = tf.Variable(np.array([1.0, 2.0], np.float64))
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(v * v)
    g = tape.gradient(y, v)
    assert g.dtype == tf.float64


def test_reset_forgets_recorded_ops():
    x = tf.constant(1.0)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x * 2.0
        tape.reset()
        z = x * 3.0
        tape.watch(x)
        w = x * 4.0
    assert tape.gradient(y, x) is None
    assert tape.gradient(z, x) is None
    assert tape.gradient(w, x).numpy() == 4.0
