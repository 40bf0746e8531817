"""course.checks: the test cells' assertions say what was expected and what came back, and
course.guard notices when a notebook replaced one of them."""

from __future__ import annotations

import numpy as np
import pytest

import minitf as tf
from course import checks, guard
from course.checks import expect_array, expect_close, expect_equal, expect_raises


def _message(fn, *args, **kwargs) -> str:
    with pytest.raises(AssertionError) as info:
        fn(*args, **kwargs)
    return str(info.value)


def test_equal_names_keys_values_and_what():
    expect_equal({"a": 1}, {"a": 1})
    expect_equal(np.arange(3), [0, 1, 2])
    text = _message(expect_equal, {"Const": 1, "Add": 1}, {"Const": 2, "AddV2": 1}, "op counts")
    assert text.startswith("op counts: expected {'Const': 2, 'AddV2': 1}, got {'Const': 1,"), text
    assert "missing keys ['AddV2']" in text and "unexpected keys ['Add']" in text
    assert "'Const': expected 2, got 1" in text
    assert _message(expect_equal, [1, 2], [1, 3], "xs") == "xs: expected [1, 3], got [1, 2]"
    assert "expected a dict" in _message(expect_equal, [("a", 1)], {"a": 1})
    assert "got array([0, 1])" in _message(expect_equal, np.arange(2), np.arange(3))


def test_array_names_kind_shape_and_dtype():
    t = tf.constant(np.zeros((2, 3), np.float64))
    expect_array(t, kind=tf.Tensor, shape=(2, 3), dtype=tf.float64)
    expect_array(np.zeros(2, np.int32), dtype="integer")
    assert _message(expect_array, t, "z", dtype=tf.float32) == \
        "z: expected dtype float32, got float64"
    assert _message(expect_array, t, "z", shape=(3, 2)) == \
        "z: expected shape (3, 2), got shape (2, 3)"
    assert "expected a Tensor, got float64 array of shape (2,)" in \
        _message(expect_array, np.zeros(2), "z", kind=tf.Tensor)
    assert "expected an integer dtype, got bool" in \
        _message(expect_array, np.zeros(2, bool), dtype="integer")
    assert "expected an array or tensor, got list" in _message(expect_array, [1, 2])


def test_close_checks_the_shape_before_the_values():
    expect_close(tf.constant([1.0, 2.0]), [1.0, 2.0])
    # assert_allclose lets a scalar pass for an array of equal values; this does not
    text = _message(expect_close, np.float32(2.5), [2.5, 2.5, 2.5], "p(x)")
    assert text.startswith("p(x): expected shape (3,), got shape ()"), text
    text = _message(expect_close, [1.0, 2.1], [1.0, 2.0], "v", rtol=1e-3)
    assert text.startswith("v: expected values within rtol=0.001, atol=0 of DESIRED, got ACTUAL")
    assert "ACTUAL: array([1. , 2.1])" in text and "Not equal to tolerance" not in text
    assert "expected numbers, got dtype <U1" in _message(expect_close, ["a"], [1.0])


def test_raises_says_what_happened_instead():
    assert isinstance(expect_raises(ValueError, int, "x"), ValueError)
    assert _message(expect_raises, ValueError, abs, -2) == \
        "abs(-2): expected ValueError, got no error and the result 2"
    assert _message(expect_raises, ValueError, len, 5, what="len of an int") == \
        "len of an int: expected ValueError, got TypeError: object of type 'int' has no len()"
    text = _message(expect_raises, ValueError, int, "x", match=("x", "float"))
    assert "expected the ValueError message to mention 'float'" in text


@pytest.mark.parametrize("name", ["expect_close", "_fail", "np"])
def test_guard_notices_a_replaced_check(monkeypatch, name):
    assert guard.changed() == []
    monkeypatch.setattr(checks, name, lambda *a, **k: None)
    assert guard.changed() == [f"course.checks.{name}"]
    with pytest.raises(AssertionError, match=f"course.checks.{name}"):
        guard.check()
