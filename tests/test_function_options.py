"""tf.function's keyword arguments: minitf honours input_signature and autograph=False, takes
TF's other options at their defaults only, and names the option it does not support."""

from __future__ import annotations

import numpy as np
import pytest

import minitf as tf


@pytest.mark.parametrize("option, value", [
    ("jit_compile", "auto"), ("reduce_retracing", True), ("autograph", True),
    ("experimental_relax_shapes", True), ("experimental_compile", True),
    ("experimental_implements", "embedded_matmul"), ("experimental_attributes", {"a": 1}),
    ("experimental_autograph_options", ()), ("experimental_follow_type_hints", True),
])
def test_options_minitf_does_not_honour_are_errors(option, value):
    with pytest.raises(ValueError, match=rf"{option}=.*minitf does not support"):
        tf.function(lambda x: x, **{option: value})
    with pytest.raises(ValueError, match=option):
        tf.function(**{option: value})  # the decorator form fails at once too


def test_unknown_option_is_a_type_error():
    with pytest.raises(TypeError, match="unexpected keyword argument 'jit'"):
        tf.function(lambda x: x, jit=True)


def test_default_values_are_accepted():
    f = tf.function(lambda x: x + 1.0, autograph=False, jit_compile=False,
                    reduce_retracing=False, experimental_implements=None)
    assert f(tf.constant(1.0)).numpy() == 2.0


def test_input_signature_traces_once_with_unknown_dims():
    @tf.function(input_signature=[tf.TensorSpec([None, 2], tf.float32)])
    def f(x):
        return tf.reduce_sum(x, axis=1)

    assert f(tf.ones([3, 2])).shape == (3,)
    assert f(np.ones((5, 2), np.float32)).shape == (5,)
    assert f(x=[[1.0, 2.0]]).numpy().tolist() == [3.0]  # a keyword, a nested Python list
    assert f.experimental_get_tracing_count() == 1
    cf = f.get_concrete_function()
    assert cf.inputs[0].shape.as_list() == [None, 2]
    assert f.input_signature[0].shape.as_list() == [None, 2]


def test_input_signature_rejects_what_does_not_match():
    f = tf.function(lambda x, y: x * y, input_signature=(
        tf.TensorSpec([2], tf.float32), tf.TensorSpec([], tf.float32)))
    assert f(tf.ones([2]), 3.0).numpy().tolist() == [3.0, 3.0]  # Python float: spec dtype
    with pytest.raises(ValueError, match=r"float32 \[3\].*TensorSpec\(shape=\(2,\)"):
        f(tf.ones([3]), 1.0)
    with pytest.raises(ValueError, match="float64"):
        f(tf.constant(np.ones(2)), 1.0)
    with pytest.raises(TypeError, match="input_signature of 2 argument"):
        f(tf.ones([2]))
    with pytest.raises(TypeError, match="input_signature"):
        tf.function(lambda x: x, input_signature=[[2, 3]])


def test_input_signature_with_nested_specs_and_a_method():
    class Model:
        def __init__(self):
            self.w = tf.Variable(2.0)

        @tf.function(input_signature=[{"a": tf.TensorSpec([None]), "b": tf.TensorSpec([None])}])
        def __call__(self, d):
            return (d["a"] + d["b"]) * self.w

    m = Model()
    out = m({"a": [1.0, 2.0], "b": tf.constant([3.0, 4.0])})
    assert out.numpy().tolist() == [8.0, 12.0]
    with pytest.raises(ValueError, match="do not match"):
        m({"a": [1.0]})
    x = tf.constant([1.0])
    with tf.GradientTape() as tape:  # differentiable from outside, as without a signature
        tape.watch(x)
        y = m({"a": x, "b": x})
    assert tape.gradient(y, x).numpy().tolist() == [4.0]
