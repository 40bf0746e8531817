"""Property tests (hypothesis): binary-op broadcasting, reductions, reshape/transpose round trips
and basic slicing agree with NumPy for random shapes, axes and slices, on every backend."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minitf as tf

# The ``backend`` fixture only switches the backend: running it once for all examples is fine.
PROPERTY = settings(deadline=None, max_examples=40,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])

FLOATS = st.floats(-10, 10, allow_nan=False, width=32)


@st.composite
def broadcast_pair(draw):
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=4, max_side=3))
    x = draw(hnp.arrays(np.float32, shapes.input_shapes[0], elements=FLOATS))
    y = draw(hnp.arrays(np.float32, shapes.input_shapes[1], elements=FLOATS))
    return x, y


BINARY = {
    "add": (tf.add, np.add),
    "subtract": (tf.subtract, np.subtract),
    "multiply": (tf.multiply, np.multiply),
    "maximum": (tf.maximum, np.maximum),
    "minimum": (tf.minimum, np.minimum),
    "squared_difference": (tf.math.squared_difference, lambda x, y: np.square(x - y)),
    "equal": (tf.equal, np.equal),
    "less": (tf.less, np.less),
    "greater_equal": (tf.greater_equal, np.greater_equal),
}


@PROPERTY
@given(pair=broadcast_pair(), name=st.sampled_from(sorted(BINARY)))
def test_binary_broadcasting_equals_numpy(backend, pair, name):
    x, y = pair
    ours, ref = BINARY[name]
    out = ours(tf.constant(x), tf.constant(y))
    want = ref(x, y)
    assert out.shape == want.shape
    assert out.dtype == tf.as_dtype(want.dtype)
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-6, atol=1e-6)


@PROPERTY
@given(pair=broadcast_pair())
def test_broadcast_gradients_sum_over_broadcast_axes(backend, pair):
    x, y = (a.astype(np.float64) for a in pair)
    xt, yt = tf.constant(x), tf.constant(y)
    w = np.random.default_rng(0).uniform(-1, 1, np.broadcast_shapes(x.shape, y.shape))
    with tf.GradientTape() as tape:
        tape.watch([xt, yt])
        out = xt * yt
    gx, gy = tape.gradient(out, [xt, yt], output_gradients=tf.constant(w))
    assert gx.shape == x.shape and gy.shape == y.shape

    def unbroadcast(g, shape):
        g = g.sum(axis=tuple(range(g.ndim - len(shape)))) if g.ndim > len(shape) else g
        return g.sum(axis=tuple(i for i, d in enumerate(shape) if d == 1), keepdims=True)

    np.testing.assert_allclose(gx.numpy(), unbroadcast(w * y, x.shape), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gy.numpy(), unbroadcast(w * x, y.shape), rtol=1e-10, atol=1e-12)


@st.composite
def reduction(draw):
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=3))
    x = draw(hnp.arrays(np.float32, shape, elements=st.floats(-3, 3, width=32)))
    rank = len(shape)
    if rank == 0:
        axis = None
    else:
        axis = draw(st.one_of(
            st.none(),
            st.integers(-rank, rank - 1),
            st.lists(st.integers(0, rank - 1), unique=True, max_size=rank).map(
                lambda axes: [a - rank if i % 2 else a for i, a in enumerate(axes)]),
        ))
    keepdims = draw(st.booleans())
    return x, axis, keepdims


REDUCTIONS = {
    "sum": (tf.reduce_sum, np.sum),
    "mean": (tf.reduce_mean, np.mean),
    "max": (tf.reduce_max, np.max),
    "min": (tf.reduce_min, np.min),
    "prod": (tf.reduce_prod, np.prod),
}


def _np_axis(axis):
    return tuple(axis) if isinstance(axis, list) else axis


@PROPERTY
@given(case=reduction(), name=st.sampled_from(sorted(REDUCTIONS)))
def test_reductions_equal_numpy(backend, case, name):
    x, axis, keepdims = case
    ours, ref = REDUCTIONS[name]
    if name == "prod":
        x = x / 2  # |x| <= 1.5: a product of 81 elements stays finite in float32
    out = ours(tf.constant(x), axis=axis, keepdims=keepdims)
    want = ref(x.astype(np.float64), axis=_np_axis(axis), keepdims=keepdims)
    assert out.shape == np.shape(want)
    assert out.dtype == tf.float32
    scale = float(ref(np.abs(x).astype(np.float64), axis=_np_axis(axis))
                  .max()) if x.size else 1.0
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-5, atol=1e-6 * max(scale, 1.0))


@PROPERTY
@given(case=reduction())
def test_bool_and_int_reductions_equal_numpy(backend, case):
    x, axis, keepdims = case
    b = x > 0
    i = np.round(x).astype(np.int32)
    ax = _np_axis(axis)
    np.testing.assert_array_equal(tf.reduce_any(b, axis, keepdims).numpy(),
                                  np.any(b, axis=ax, keepdims=keepdims))
    np.testing.assert_array_equal(tf.reduce_all(b, axis, keepdims).numpy(),
                                  np.all(b, axis=ax, keepdims=keepdims))
    s = tf.reduce_sum(i, axis, keepdims)
    assert s.dtype == tf.int32
    np.testing.assert_array_equal(s.numpy(), np.sum(i, axis=ax, keepdims=keepdims))
    np.testing.assert_array_equal(tf.reduce_max(i, axis, keepdims).numpy(),
                                  np.max(i, axis=ax, keepdims=keepdims))


@st.composite
def shaped_array(draw, max_dims=4):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=max_dims, min_side=1, max_side=4))
    return np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)


@PROPERTY
@given(x=shaped_array(), data=st.data())
def test_transpose_round_trip(backend, x, data):
    perm = data.draw(st.permutations(range(x.ndim)))
    t = tf.transpose(tf.constant(x), perm)
    np.testing.assert_array_equal(t.numpy(), np.transpose(x, perm))
    back = tf.transpose(t, list(np.argsort(perm)))
    np.testing.assert_array_equal(back.numpy(), x)
    np.testing.assert_array_equal(tf.transpose(tf.constant(x)).numpy(), x.T)


@PROPERTY
@given(x=shaped_array(), data=st.data())
def test_reshape_round_trip(backend, x, data):
    n = x.size
    divisors = [d for d in range(1, n + 1) if n % d == 0]
    d = data.draw(st.sampled_from(divisors))
    target = data.draw(st.sampled_from([[d, n // d], [d, -1], [-1, d], [n], [-1], [1, n, 1]]))
    r = tf.reshape(tf.constant(x), target)
    np.testing.assert_array_equal(r.numpy(), x.reshape(target))
    back = tf.reshape(r, x.shape)
    np.testing.assert_array_equal(back.numpy(), x)
    e = tf.squeeze(tf.expand_dims(tf.constant(x), data.draw(st.integers(-x.ndim - 1, x.ndim))))
    np.testing.assert_array_equal(e.numpy(), np.squeeze(x))


@st.composite
def basic_index(draw, shape):
    """A NumPy basic index for ``shape``: ints, slices (negative, strided, out of range),
    None and at most one Ellipsis."""

    def one(n):
        if draw(st.booleans()):
            return draw(st.integers(-n, n - 1))
        bound = st.one_of(st.none(), st.integers(-n - 2, n + 2))
        step = st.one_of(st.none(), st.integers(-3, 3).filter(lambda s: s != 0))
        return slice(draw(bound), draw(bound), draw(step))

    rank = len(shape)
    head = draw(st.integers(0, rank))
    use_ellipsis = draw(st.booleans())
    tail = draw(st.integers(0, rank - head)) if use_ellipsis else 0
    key = [one(n) for n in shape[:head]]
    if use_ellipsis:
        key.append(Ellipsis)
    key += [one(n) for n in shape[rank - tail:]]
    for _ in range(draw(st.integers(0, 2))):
        key.insert(draw(st.integers(0, len(key))), None)
    return tuple(key)


@PROPERTY
@given(x=shaped_array(), data=st.data())
def test_slicing_equals_numpy_basic_indexing(backend, x, data):
    key = data.draw(basic_index(x.shape))
    want = x[key]
    t = tf.constant(x.astype(np.float64))
    with tf.GradientTape() as tape:
        tape.watch(t)
        out = t[key]
    assert out.shape == want.shape
    np.testing.assert_array_equal(out.numpy(), want)
    w = np.random.default_rng(0).uniform(-1, 1, want.shape)
    g = tape.gradient(out, t, output_gradients=tf.constant(w))
    expect = np.zeros(x.shape)
    expect[key] = w
    np.testing.assert_array_equal(g.numpy(), expect)


@PROPERTY
@given(x=shaped_array(max_dims=3), data=st.data())
def test_slicing_in_a_graph_equals_eager(x, data):
    key = data.draw(basic_index(x.shape))
    with tf.Graph().as_default() as g:
        p = tf.placeholder(tf.float32, [None] + list(x.shape[1:]))
        out = p[key]
        assert out.shape.is_compatible_with(x[key].shape)
    with tf.Session(graph=g) as sess:
        np.testing.assert_array_equal(sess.run(out, {p: x}), x[key])
