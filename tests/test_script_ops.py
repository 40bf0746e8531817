"""tf.numpy_function: a Python function as a graph op (eager, traced, Session)."""

from __future__ import annotations

import numpy as np
import pytest

import minitf as tf


def test_eager_and_session():
    x = tf.constant([1.0, 2.0, 3.0])
    np.testing.assert_allclose(tf.numpy_function(np.cumsum, [x], tf.float32).numpy(), [1, 3, 6])
    g = tf.Graph()
    with g.as_default():
        p = tf.compat.v1.placeholder(tf.float32, [2])
        out = tf.numpy_function(lambda a: a * 10, [p], tf.float64)
        assert out.dtype == tf.float64 and out.shape.as_list() == [2]
        with tf.compat.v1.Session() as s:
            np.testing.assert_allclose(s.run(out, {p: [1.0, 2.0]}), [10.0, 20.0])


def test_traced_function_calls_python_every_run():
    calls = []

    def reverse(a):
        calls.append(1)
        return a[::-1].copy()

    @tf.function
    def f(x):
        return tf.numpy_function(reverse, [x * 2.0], tf.float32) + 1.0

    np.testing.assert_allclose(f(tf.constant([1.0, 2.0])).numpy(), [5.0, 3.0])
    np.testing.assert_allclose(f(tf.constant([3.0, 4.0])).numpy(), [9.0, 7.0])
    assert len(calls) == 2  # stateful: neither folded into a constant nor cached


def test_declared_shape_is_checked_and_there_is_no_gradient():
    x = tf.constant([1.0, 2.0])
    with pytest.raises(ValueError, match=r"returned shape \(3,\).*declares"):
        tf.numpy_function(lambda a: np.zeros(3, np.float32), [x], tf.float32)
    np.testing.assert_allclose(
        tf.numpy_function(lambda a: np.zeros(3), [x], tf.float32, shape=[3]).numpy(), [0, 0, 0])
    v = tf.Variable([1.0, 2.0])
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(tf.numpy_function(np.square, [v], tf.float32))
    assert tape.gradient(y, v) is None
