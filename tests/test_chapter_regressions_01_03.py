"""Regressions found while writing chapters 01 (tensors) and 03 (sessions and variables):
scalar reprs as TensorFlow prints them, and TF1's function forms ``tf.assign*``."""

from __future__ import annotations

import numpy as np
import pytest

import minitf as tf


@pytest.mark.parametrize(
    ("value", "dtype", "shown"),
    [(0.1, tf.float32, "0.1"), (2.0261679, tf.float32, "2.0261679"), (3, tf.int32, "3"),
     (True, tf.bool, "True"), (0.1, tf.float64, "0.1")],
)
def test_eager_scalar_prints_its_own_precision(value, dtype, shown):
    t = tf.constant(value, dtype=dtype)
    assert str(t) == f"tf.Tensor({shown}, shape=(), dtype={dtype.name})"
    assert repr(t) == f"<tf.Tensor: shape=(), dtype={dtype.name}, numpy={shown}>"


def test_scalar_loss_prints_short():
    loss = tf.reduce_mean(tf.constant([0.1, 0.2, 0.3]))
    assert str(loss) == "tf.Tensor(0.2, shape=(), dtype=float32)"


def test_eager_scalar_variable_repr_like_tensorflow():
    v = tf.Variable(0.5, name="w")
    assert repr(v) == "<tf.Variable 'w:0' shape=() dtype=float32, numpy=0.5>"
    c = tf.Variable(3, name="c")
    assert repr(c) == "<tf.Variable 'c:0' shape=() dtype=int32, numpy=3>"


def test_tf_assign_functions_build_graph_ops():
    with tf.Graph().as_default() as g:
        state = tf.Variable(0, name="counter")
        update = tf.assign(state, state + 1)
        bump = tf.assign_add(state, 10)
        drop = tf.assign_sub(state, 5)
        init = tf.global_variables_initializer()
    with tf.Session(graph=g) as sess:
        sess.run(init)
        seen = [int(sess.run(state))]
        for _ in range(3):
            sess.run(update)
            seen.append(int(sess.run(state)))
        assert seen == [0, 1, 2, 3]
        assert int(sess.run(bump)) == 13
        assert int(sess.run(drop)) == 8


def test_tf_assign_functions_eager():
    v = tf.Variable([1.0, 2.0])
    tf.assign(v, [3.0, 4.0])
    tf.assign_add(v, [1.0, 1.0])
    tf.assign_sub(v, [0.5, 0.5])
    np.testing.assert_allclose(v.numpy(), [3.5, 4.5])
    assert tf.compat.v1.assign is tf.assign


@pytest.mark.parametrize(("make", "value"), [(lambda: tf.zeros([]), 0.0),
                                             (lambda: tf.ones(()), 1.0),
                                             (lambda: tf.fill([], 2.0), 2.0),
                                             (lambda: tf.reshape(tf.constant([3.0]), []), 3.0)])
def test_empty_shape_means_a_scalar(make, value):
    t = make()
    assert t.shape == () and t.ndim == 0 and float(t) == value


def test_broadcast_error_lists_sizes_in_input_order():
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"\[2,3\] and \[2\].*axis 1: 3 vs 2"):
        tf.zeros([2, 3]) + tf.zeros([2])
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"axis 1: 2 vs 3"):
        tf.zeros([2]) + tf.zeros([2, 3])


def test_non_integer_shape_still_rejected():
    with pytest.raises(TypeError, match="shape must be integers"):
        tf.zeros([1.5])
