"""``tf.nest`` follows TensorFlow's rules, and every structured API (Session.run fetches,
tf.function arguments and results, GradientTape sources, tf.data elements) uses it."""

from __future__ import annotations

import collections
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minitf as tf

Point = collections.namedtuple("Point", ["y", "x"])


def test_dicts_flatten_in_sorted_key_order_and_keep_their_own_order_when_packed():
    d = {"b": 1, "a": 2, "c": [3, 4]}
    assert tf.nest.flatten(d) == [2, 1, 3, 4]
    packed = tf.nest.pack_sequence_as(d, [20, 10, 30, 40])
    assert packed == {"b": 10, "a": 20, "c": [30, 40]}
    assert list(packed) == ["b", "a", "c"]
    od = collections.OrderedDict([("z", 1), ("a", 2)])  # TF ignores an OrderedDict's order
    assert tf.nest.flatten(od) == [2, 1]
    assert type(tf.nest.pack_sequence_as(od, [0, 0])) is collections.OrderedDict


def test_leaves_sequences_and_namedtuples():
    assert tf.nest.flatten(None) == [None]
    assert tf.nest.flatten("abc") == ["abc"]
    assert tf.nest.flatten(np.ones(3))[0].shape == (3,)
    s = (1, [2, Point(y=3, x=None)], {"k": ()})
    assert tf.nest.flatten(s) == [1, 2, 3, None]
    back = tf.nest.pack_sequence_as(s, ["a", "b", "c", "d"])
    assert back == ("a", ["b", Point(y="c", x="d")], {"k": ()})
    assert type(back[1][1]) is Point
    assert tf.nest.is_nested([]) and tf.nest.is_nested({}) and not tf.nest.is_nested(1)


def test_map_structure_and_assert_same_structure():
    a, b = {"w": [1, 2], "b": 3}, {"w": [10, 20], "b": 30}
    assert tf.nest.map_structure(lambda x, y: x + y, a, b) == {"w": [11, 22], "b": 33}
    tf.nest.assert_same_structure(a, b)
    with pytest.raises(ValueError, match="same number of elements"):
        tf.nest.assert_same_structure([1, 2], [1])
    with pytest.raises(ValueError, match="same keys"):
        tf.nest.assert_same_structure({"a": 1}, {"b": 1})
    with pytest.raises(TypeError, match="sequence type"):
        tf.nest.assert_same_structure([1], (1,))
    tf.nest.assert_same_structure([1], (1,), check_types=False)
    with pytest.raises(ValueError, match="fewer leaves"):
        tf.nest.pack_sequence_as([1, 2], [1])
    with pytest.raises(ValueError, match="more leaves"):
        tf.nest.pack_sequence_as([1, 2], [1, 2, 3])


_leaf = st.integers() | st.none() | st.text(max_size=3)
_structures = st.recursive(
    _leaf,
    lambda inner: (st.lists(inner, max_size=3) | st.tuples(inner, inner)
                   | st.dictionaries(st.text(max_size=2), inner, max_size=3)
                   | st.builds(Point, inner, inner)),
    max_leaves=12)


@settings(deadline=None, max_examples=100)
@given(_structures)
def test_pack_sequence_as_inverts_flatten(s: Any):
    flat = tf.nest.flatten(s)
    assert tf.nest.pack_sequence_as(s, flat) == s
    assert tf.nest.map_structure(lambda x: x, s) == s


# -- the APIs that take structures -----------------------------------------------------------------


def test_session_run_fetches_dicts_and_namedtuples():
    with tf.Graph().as_default():
        a, b = tf.constant(1.0), tf.constant(2.0)
        with tf.Session() as sess:
            out = sess.run({"b": b, "a": [a, Point(y=a, x=b)]})
    assert list(out) == ["b", "a"] and out["b"] == 2.0
    assert isinstance(out["a"][1], Point) and out["a"][1].x == 2.0


def test_function_takes_and_returns_namedtuples_and_dicts():
    @tf.function
    def f(p, scale):
        return {"sum": p.x + p.y, "scaled": Point(y=p.y * scale["s"], x=p.x)}

    out = f(Point(y=tf.constant(2.0), x=tf.constant(3.0)), {"s": tf.constant(10.0)})
    assert float(out["sum"]) == 5.0
    assert isinstance(out["scaled"], Point) and float(out["scaled"].y) == 20.0
    f(Point(y=tf.constant(1.0), x=tf.constant(1.0)), {"s": tf.constant(1.0)})
    assert f.experimental_get_tracing_count() == 1  # same signature: no retrace


def test_concrete_function_names_its_placeholders_after_the_parameters():
    def f(images, labels, scale=1.0):
        return images * scale, labels

    cf = tf.function(f).get_concrete_function(np.ones((2, 3), np.float32), np.zeros(2, np.int32))
    assert [t.name for t in cf.inputs] == ["images:0", "labels:0"]
    assert [t.dtype for t in cf.outputs] == [tf.float32, tf.int32]


def test_tape_gradient_keeps_the_structure_of_sources():
    w, b = tf.Variable([1.0, 2.0]), tf.Variable(3.0)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(w * w) + b
    g = tape.gradient(loss, {"layer": Point(y=w, x=b)})
    assert isinstance(g["layer"], Point)
    np.testing.assert_allclose(g["layer"].y.numpy(), [2.0, 4.0])
    assert float(g["layer"].x) == 1.0


def test_tf_data_keeps_lists_as_values():
    ds = tf.data.Dataset.from_tensor_slices({"x": [[1, 2], [3, 4]], "y": [0, 1]})
    first = next(iter(ds))
    np.testing.assert_array_equal(first["x"].numpy(), [1, 2])  # the list became a tensor
