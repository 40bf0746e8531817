"""TensorFlow's dtype rules that chapter 01 promises (issue 15): out-of-range Python integers
refused, integer division by zero an error, the mean of nothing, truediv's result dtype, and no
NumPy RuntimeWarnings on the way."""

import warnings

import numpy as np
import pytest

import minitf as tf
from minitf.errors import InvalidArgumentError


@pytest.fixture(autouse=True)
def _no_runtime_warnings():
    """Every test here runs with NumPy's RuntimeWarnings as errors: a student sees none."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        yield


def _graph_value(build):
    g = tf.Graph()
    with g.as_default():
        out = build()
        with tf.compat.v1.Session() as sess:
            return sess.run(out)


# -- out-of-range Python integers -----------------------------------------------------------------


@pytest.mark.parametrize("value, dtype", [(300, tf.uint8), (-1, tf.uint8), (128, tf.int8),
                                          ([1, 2**31], tf.int32), (2**40, tf.int32)])
@pytest.mark.parametrize("mode", ["eager", "graph"])
def test_out_of_range_constant_is_refused(value, dtype, mode):
    with pytest.raises(TypeError, match=f"Cannot convert .* dtype {dtype.name}.*outside"):
        if mode == "eager":
            tf.constant(value, dtype=dtype)
        else:
            _graph_value(lambda: tf.constant(value, dtype=dtype))


@pytest.mark.parametrize("mode", ["eager", "graph"])
def test_python_int_beside_a_tensor_must_fit_its_dtype(mode):
    with pytest.raises(TypeError, match="1099511627776 .* int32"):
        if mode == "eager":
            tf.constant([1]) + 2**40
        else:
            _graph_value(lambda: tf.constant([1]) + 2**40)
    with pytest.raises(TypeError, match="uint8"):
        tf.constant([1], tf.uint8) + (-1)  # -1 is no uint8


def test_in_range_and_wide_values_still_convert():
    assert tf.constant(255, dtype=tf.uint8).numpy() == 255
    assert tf.constant(-128, dtype=tf.int8).numpy() == -128
    assert tf.constant(2**40).dtype == tf.int64  # a Python int too big for int32: int64, as TF
    assert (tf.constant([1], tf.int64) + 2**40).numpy()[0] == 2**40 + 1
    assert tf.constant([], tf.int32).shape == (0,)  # [] converts to any dtype
    np.testing.assert_array_equal(tf.constant(np.int64([3]), tf.uint8).numpy(), [3])
    with pytest.raises(TypeError, match="outside"):  # NumPy arrays are checked too
        tf.constant(np.int64([3, 256]), tf.uint8)


# -- integer division by zero ---------------------------------------------------------------------


@pytest.mark.parametrize("op", [tf.math.floordiv, tf.math.floormod,
                                lambda x, y: x // y, lambda x, y: x % y])
def test_integer_division_by_zero_raises_eager(backend, op):
    with pytest.raises(InvalidArgumentError, match="Integer division by zero"):
        op(tf.constant([5, 6]), tf.constant([1, 0]))
    with pytest.raises(InvalidArgumentError, match="Integer division by zero"):
        op(tf.constant([5, 6], tf.uint8), 0)


@pytest.mark.parametrize("op", [tf.math.floordiv, tf.math.floormod])
def test_integer_division_by_zero_raises_in_a_session(backend, op):
    with pytest.raises(InvalidArgumentError, match="Integer division by zero"):
        _graph_value(lambda: op(tf.constant([5, 6]), tf.constant([1, 0])))


def test_integer_division_by_zero_raises_in_tf_function(backend):
    f = tf.function(lambda x, y: x // y)
    assert f(tf.constant([7]), tf.constant([2])).numpy()[0] == 3
    with pytest.raises(InvalidArgumentError, match="Integer division by zero"):
        f(tf.constant([7]), tf.constant([0]))


def test_float_division_by_zero_is_quiet_inf_and_nan(backend):
    x = tf.constant([1.5, -1.0, 0.0])
    np.testing.assert_array_equal((x / 0.0).numpy()[:2], [np.inf, -np.inf])
    assert np.isnan((x / 0.0).numpy()[2])
    np.testing.assert_array_equal((x // 0.0).numpy()[:2], [np.inf, -np.inf])


def test_nonzero_integer_division_matches_python(backend):
    x, y = np.int32([7, -7, 7, -7]), np.int32([2, 2, -2, -2])
    np.testing.assert_array_equal((tf.constant(x) // y).numpy(), x // y)
    np.testing.assert_array_equal((tf.constant(x) % y).numpy(), x % y)


# -- the mean of nothing --------------------------------------------------------------------------


def test_reduce_mean_of_empty(backend):
    # TF's mean of no elements: its reducer's identity, NaN for floats and 0 for integers
    assert tf.reduce_mean(tf.constant([], tf.int32)).numpy() == 0
    assert tf.reduce_mean(tf.constant([], tf.uint8)).numpy() == 0
    assert np.isnan(tf.reduce_mean(tf.constant([], tf.float32)).numpy())
    np.testing.assert_array_equal(tf.reduce_mean(tf.zeros([0, 3], tf.int32), axis=0).numpy(),
                                  [0, 0, 0])
    assert tf.reduce_mean(tf.zeros([0, 3]), axis=1).shape == (0,)
    assert np.isnan(tf.reduce_mean(tf.zeros([0, 3]), axis=0).numpy()).all()
    assert _graph_value(lambda: tf.reduce_mean(tf.constant([], tf.int32))) == 0


def test_reduce_max_and_min_of_empty(backend):
    # the reducer's identity, as TF (tensorflow/tensorflow#3510): lowest / highest of the dtype
    assert tf.reduce_max(tf.zeros([0])).numpy() == np.finfo(np.float32).min
    assert tf.reduce_min(tf.zeros([0])).numpy() == np.finfo(np.float32).max
    assert tf.reduce_max(tf.zeros([0], tf.int32)).numpy() == -(2**31)
    assert tf.reduce_min(tf.zeros([0], tf.uint8)).numpy() == 255
    np.testing.assert_array_equal(tf.reduce_max(tf.zeros([0, 2]), axis=0).numpy(),
                                  np.full(2, np.finfo(np.float32).min))
    assert tf.reduce_max(tf.zeros([2, 0]), axis=0).shape == (0,)


def test_overflow_to_inf_is_quiet(backend):
    assert tf.constant(1e40).numpy() == np.inf  # a Python float past float32's range
    assert tf.constant([1e300], tf.float32).numpy()[0] == np.inf
    assert tf.reduce_sum(tf.constant([3e38, 3e38])).numpy() == np.inf


# -- truediv's result dtype -----------------------------------------------------------------------


@pytest.mark.parametrize("dtype, want", [(tf.uint8, tf.float32), (tf.int8, tf.float32),
                                         (tf.int16, tf.float32), (tf.int32, tf.float64),
                                         (tf.int64, tf.float64)])
def test_integer_truediv_result_dtype(dtype, want):
    x = tf.constant([1, 3], dtype)
    for got in (x / 2, 6 / x, tf.math.truediv(x, x), tf.math.divide(x, 4)):
        assert got.dtype == want
    np.testing.assert_allclose((x / 2).numpy(), [0.5, 1.5])
    assert _graph_value(lambda: tf.constant([1, 3], dtype) / 2).dtype == want.np


# -- casts without NumPy's warnings ---------------------------------------------------------------


def test_cast_of_special_values_is_quiet(backend):
    out = tf.cast(tf.constant([np.nan, np.inf, 1e10, 2.9]), tf.int32).numpy()
    assert out[-1] == 2  # truncated toward zero; the rest is the platform's, as in TF
    assert tf.cast(tf.constant([1e300], tf.float64), tf.float32).numpy()[0] == np.inf
