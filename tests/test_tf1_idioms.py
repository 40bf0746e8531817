"""TF1 idioms textbook code relies on: variable_scope/get_variable sharing, TF1 initializers,
report_uninitialized_variables, graph collections and integer tf.random.uniform."""

import numpy as np
import pytest

import minitf as tf


def _layer(x, units):
    w = tf.compat.v1.get_variable(
        "w", [x.shape[-1], units],
        initializer=tf.compat.v1.truncated_normal_initializer(stddev=0.1))
    b = tf.compat.v1.get_variable("b", [units], initializer=tf.compat.v1.zeros_initializer())
    return tf.matmul(x, w) + b


def test_reuse_true_shares_the_variables_of_a_scope():
    with tf.Graph().as_default() as g:
        x = tf.compat.v1.placeholder(tf.float32, [None, 3])
        with tf.compat.v1.variable_scope("dense"):
            y1 = _layer(x, 2)
        with tf.compat.v1.variable_scope("dense", reuse=True):
            y2 = _layer(x, 2)
        names = [v.name for v in tf.compat.v1.global_variables()]
        assert names == ["dense/w:0", "dense/b:0"]
        assert [v.name for v in tf.compat.v1.trainable_variables()] == names
        init = tf.compat.v1.global_variables_initializer()
    with tf.compat.v1.Session(graph=g) as sess:
        sess.run(init)
        a, b = sess.run([y1, y2], {x: np.ones((4, 3), np.float32)})
    np.testing.assert_array_equal(a, b)


def test_auto_reuse_creates_once_then_returns_the_same_variable():
    with tf.Graph().as_default():
        for _ in range(3):
            with tf.compat.v1.variable_scope("s", reuse=tf.compat.v1.AUTO_REUSE):
                v = tf.compat.v1.get_variable("v", [2])
        assert len(tf.compat.v1.global_variables()) == 1 and v.name == "s/v:0"


def test_reuse_errors_use_tensorflows_wording():
    with tf.Graph().as_default():
        with tf.compat.v1.variable_scope("s"):
            tf.compat.v1.get_variable("v", [2])
            with pytest.raises(ValueError, match="Variable s/v already exists, disallowed"):
                tf.compat.v1.get_variable("v", [2])
        with tf.compat.v1.variable_scope("s", reuse=True):
            with pytest.raises(ValueError, match="Variable s/u does not exist"):
                tf.compat.v1.get_variable("u", [2])
            with pytest.raises(ValueError, match="Trying to share variable s/v"):
                tf.compat.v1.get_variable("v", [3])
            with tf.compat.v1.variable_scope("inner"):  # reuse=True is inherited
                assert tf.compat.v1.get_variable_scope().reuse is True


def test_initializers_give_the_distributions_tf1_documents():
    tf.random.set_seed(0)
    with tf.Graph().as_default() as g:
        with tf.compat.v1.variable_scope("init"):
            tn = tf.compat.v1.get_variable(
                "tn", [200, 200], initializer=tf.compat.v1.truncated_normal_initializer(
                    mean=1.0, stddev=0.5))
            gu = tf.compat.v1.get_variable(
                "gu", [300, 100], initializer=tf.compat.v1.glorot_uniform_initializer())
            c = tf.compat.v1.get_variable(
                "c", [2, 2], initializer=tf.compat.v1.constant_initializer(3.0))
            rn = tf.compat.v1.get_variable(
                "rn", [100, 100], initializer=tf.compat.v1.random_normal_initializer())
            d = tf.compat.v1.get_variable("d", [3], dtype=tf.int32)  # ints default to zeros
            default = tf.compat.v1.get_variable("default", [4, 4])  # glorot uniform
        init = tf.compat.v1.global_variables_initializer()
    with tf.compat.v1.Session(graph=g) as sess:
        sess.run(init)
        tn_v, gu_v, c_v, rn_v, d_v, df_v = sess.run([tn, gu, c, rn, d, default])
    assert np.all(np.abs(tn_v - 1.0) <= 1.0) and abs(tn_v.mean() - 1.0) < 0.02
    limit = np.sqrt(6.0 / 400)
    assert np.all(np.abs(gu_v) <= limit) and gu_v.std() > limit / 2
    np.testing.assert_array_equal(c_v, np.full((2, 2), 3.0))
    assert 0.9 < rn_v.std() < 1.1  # TF1's default stddev is 1.0
    assert d_v.dtype == np.int32 and not d_v.any()
    assert np.all(np.abs(df_v) <= np.sqrt(6.0 / 8))


def test_truncated_normal_under_all_its_names():
    for fn in (tf.random.truncated_normal, tf.compat.v1.truncated_normal, tf.truncated_normal):
        x = fn([2000], stddev=2.0).numpy()
        assert np.all(np.abs(x) <= 4.0)


def test_report_uninitialized_variables_names_them_as_bytes():
    with tf.Graph().as_default() as g:
        a = tf.Variable(1.0, name="a")
        tf.Variable(2.0, name="b")
        report = tf.compat.v1.report_uninitialized_variables()
    with tf.compat.v1.Session(graph=g) as sess:
        assert list(sess.run(report)) == [b"a", b"b"]
        sess.run(a.initializer)
        assert list(sess.run(report)) == [b"b"]
        sess.run(tf.compat.v1.global_variables_initializer())
        assert sess.run(report).size == 0


def test_random_uniform_with_integer_dtype_needs_maxval():
    x = tf.random.uniform([1000], minval=2, maxval=5, dtype=tf.int32).numpy()
    assert x.dtype == np.int32 and set(np.unique(x)) == {2, 3, 4}
    with pytest.raises(ValueError, match="Must specify maxval for integer dtype"):
        tf.random.uniform([3], dtype=tf.int64)
    with tf.Graph().as_default() as g:
        t = tf.random.uniform([4], maxval=10, dtype=tf.int64)
    with tf.compat.v1.Session(graph=g) as sess:
        v = sess.run(t)
    assert v.dtype == np.int64 and np.all((0 <= v) & (v < 10))


def test_get_variable_regularizers_fill_the_regularization_losses_collection():
    with tf.Graph().as_default() as g:
        with tf.compat.v1.variable_scope("reg", regularizer=lambda w: tf.reduce_sum(w * w)):
            w = tf.compat.v1.get_variable("w", initializer=np.ones((2, 2), np.float32))
            tf.compat.v1.get_variable("b", [2], initializer=tf.compat.v1.ones_initializer(),
                                      regularizer=lambda b: 10.0 * tf.reduce_sum(b))
        losses = g.get_collection("regularization_losses")
        total = tf.add_n(losses)
        init = tf.compat.v1.global_variables_initializer()
    assert len(losses) == 2 and w.shape == (2, 2)
    with tf.compat.v1.Session(graph=g) as sess:
        sess.run(init)
        assert sess.run(total) == 24.0  # 4 * 1 + 10 * 2
