"""``tf.math.reduce_std``/``reduce_variance``, ``tf.norm``/``tf.linalg.norm`` and ``tf.image``
against NumPy formulas, PyTorch's interpolation (the same half-pixel rule as TF2) and the
examples in TF's documentation; gradients by finite differences."""

import numpy as np
import pytest
import torch

import minitf as tf

RNG = np.random.default_rng(0)


def _fd_check(f, x, eps=1e-6, rtol=1e-5, atol=1e-7):
    """The tape's gradient of ``sum(f(x) * w)`` against central differences, in float64."""
    x = np.asarray(x, np.float64)
    w = np.random.default_rng(1).uniform(0.5, 1.5, np.shape(f(tf.constant(x)).numpy()))
    xv = tf.Variable(x)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(f(xv) * w)
    got = tape.gradient(loss, xv).numpy()
    want = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        hi, lo = x.copy(), x.copy()
        hi[i] += eps
        lo[i] -= eps
        want[i] = (np.sum(f(tf.constant(hi)).numpy() * w)
                   - np.sum(f(tf.constant(lo)).numpy() * w)) / (2 * eps)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)


# -- moments --------------------------------------------------------------------------------------


def test_reduce_std_and_variance_match_tf_docs():
    x = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_allclose(tf.math.reduce_std(x).numpy(), 1.118034, rtol=1e-6)
    np.testing.assert_allclose(tf.math.reduce_std(x, 0).numpy(), [1.0, 1.0])
    np.testing.assert_allclose(tf.math.reduce_std(x, 1).numpy(), [0.5, 0.5])
    np.testing.assert_allclose(tf.math.reduce_variance(x).numpy(), 1.25)
    np.testing.assert_allclose(tf.math.reduce_variance(x, 0).numpy(), [1.0, 1.0])
    np.testing.assert_allclose(tf.math.reduce_variance(x, 1).numpy(), [0.25, 0.25])


@pytest.mark.parametrize("axis", [None, 0, 1, [0, 2], -1])
@pytest.mark.parametrize("keepdims", [False, True])
def test_moments_match_numpy(backend, axis, keepdims):
    x = RNG.normal(size=(3, 4, 5)).astype(np.float32)
    ax = None if axis is None else tuple(axis) if isinstance(axis, list) else axis
    np.testing.assert_allclose(tf.math.reduce_variance(x, axis, keepdims).numpy(),
                               np.var(x, axis=ax, keepdims=keepdims), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(tf.math.reduce_std(x, axis, keepdims).numpy(),
                               np.std(x, axis=ax, keepdims=keepdims), rtol=1e-5, atol=1e-6)


def test_moments_gradients_and_errors():
    x = RNG.normal(size=(3, 4))
    _fd_check(lambda t: tf.math.reduce_variance(t, axis=1), x)
    _fd_check(lambda t: tf.math.reduce_std(t), x)
    with pytest.raises(TypeError, match="float"):
        tf.math.reduce_std(tf.constant([1, 2]))
    assert not hasattr(tf, "reduce_std")  # TF 2 has only tf.math.reduce_std


# -- norms ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("ord", ["euclidean", 1, 2, np.inf, 3])
@pytest.mark.parametrize("axis", [None, 0, -1])
def test_vector_norms_match_numpy(ord, axis):
    x = RNG.normal(size=(4, 5)).astype(np.float32)
    want = np.linalg.norm(x.reshape(-1) if axis is None else x,
                          None if ord == "euclidean" else ord,
                          **({} if axis is None else {"axis": axis}))
    np.testing.assert_allclose(tf.norm(x, ord=ord, axis=axis).numpy(), want, rtol=1e-5)


@pytest.mark.parametrize("ord", ["euclidean", "fro", 1, 2, np.inf])
@pytest.mark.parametrize("axis", [(1, 2), (-1, -2), [0, 2]])
def test_matrix_norms_match_numpy(ord, axis):
    x = RNG.normal(size=(3, 4, 5)).astype(np.float32)
    np_ord = "fro" if ord == "euclidean" else ord
    want = np.linalg.norm(x, np_ord, axis=tuple(axis))
    np.testing.assert_allclose(tf.linalg.norm(x, ord=ord, axis=axis).numpy(), want, rtol=1e-5)
    kept = tf.norm(x, ord=ord, axis=axis, keepdims=True)
    np.testing.assert_allclose(kept.numpy(), np.linalg.norm(x, np_ord, axis=tuple(axis),
                                                            keepdims=True), rtol=1e-5)


def test_norm_gradients_and_errors():
    x = RNG.normal(size=(3, 4))
    _fd_check(lambda t: tf.norm(t), x)
    _fd_check(lambda t: tf.norm(t, ord=1, axis=1), x)
    _fd_check(lambda t: tf.norm(t, ord=3, axis=0), x)
    _fd_check(lambda t: tf.norm(t, ord=np.inf, axis=(0, 1)), x)
    assert tf.norm is tf.linalg.norm
    with pytest.raises(ValueError, match="ord"):
        tf.norm(x, ord="nuclear")
    _fd_check(lambda t: tf.norm(t, ord=2, axis=(0, 1)), x)
    _fd_check(lambda t: tf.norm(tf.reshape(t, [2, 2, 3]), ord=2, axis=(-1, 0)), x)
    with pytest.raises(ValueError, match="matrix ord 3"):
        tf.norm(x, ord=3, axis=(0, 1))
    with pytest.raises(ValueError, match="'fro' is a matrix norm"):
        tf.norm(x, ord="fro", axis=0)


# -- tf.image: TF's documented examples ------------------------------------------------------------


def test_image_examples_from_tf_docs():
    x = [[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], [[7.0, 8.0, 9.0], [10.0, 11.0, 12.0]]]
    np.testing.assert_array_equal(tf.image.flip_left_right(x).numpy(),
                                  [[[4, 5, 6], [1, 2, 3]], [[10, 11, 12], [7, 8, 9]]])
    np.testing.assert_array_equal(tf.image.flip_up_down(x).numpy(),
                                  [[[7, 8, 9], [10, 11, 12]], [[1, 2, 3], [4, 5, 6]]])
    np.testing.assert_allclose(tf.image.adjust_brightness(x, 0.1).numpy(),
                               np.array(x, np.float32) + np.float32(0.1))
    a = [[[1], [2]], [[3], [4]]]
    np.testing.assert_array_equal(tf.image.rot90(a).numpy()[..., 0], [[2, 4], [1, 3]])


@pytest.mark.parametrize("k", [0, 1, 2, 3, 5, -1])
def test_rot90_and_flips_match_numpy(k):
    img = RNG.integers(0, 255, (2, 3, 4, 2)).astype(np.uint8)
    np.testing.assert_array_equal(tf.image.rot90(img, k).numpy(), np.rot90(img, k, axes=(1, 2)))
    np.testing.assert_array_equal(tf.image.rot90(img[0], k).numpy(),
                                  np.rot90(img[0], k, axes=(0, 1)))
    np.testing.assert_array_equal(tf.image.flip_left_right(img).numpy(), img[:, :, ::-1])
    np.testing.assert_array_equal(tf.image.flip_up_down(img).numpy(), img[:, ::-1])


def test_adjust_brightness_of_integer_images_saturates():
    img = np.uint8([[[0], [100], [250]]])
    out = tf.image.adjust_brightness(img, 0.1)
    assert out.dtype == tf.uint8
    # to [0, 1], + 0.1, back with TF's convert_image_dtype (x * 255.5, saturated)
    want = np.clip((img / 255.0 + 0.1) * 255.5, 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(out.numpy(), want)


def test_per_image_standardization():
    imgs = RNG.uniform(0, 255, (3, 4, 5, 3)).astype(np.float32)
    out = tf.image.per_image_standardization(imgs).numpy()
    for i, img in enumerate(imgs):
        want = (img - img.mean()) / max(img.std(), 1 / np.sqrt(img.size))
        np.testing.assert_allclose(out[i], want, rtol=1e-4, atol=1e-5)
    flat = tf.image.per_image_standardization(np.full((2, 2, 1), 7, np.uint8))
    assert flat.dtype == tf.float32
    np.testing.assert_array_equal(flat.numpy(), 0.0)  # stddev 0: divided by 1/sqrt(N), no NaN


def test_random_flip_left_right_is_seeded_and_per_image():
    imgs = RNG.normal(size=(16, 2, 3, 1)).astype(np.float32)

    def run():
        tf.random.set_seed(5)
        return tf.image.random_flip_left_right(imgs, seed=7).numpy()

    out = run()
    np.testing.assert_array_equal(out, run())  # the same seeds, the same flips
    flipped = [np.array_equal(o, i[:, ::-1]) for o, i in zip(out, imgs)]
    kept = [np.array_equal(o, i) for o, i in zip(out, imgs)]
    assert all(f or k for f, k in zip(flipped, kept))
    assert 0 < sum(flipped) < 16  # each image tosses its own coin (16 equal coins: 2**-15)
    single = tf.image.random_flip_left_right(imgs[0], seed=1).numpy()
    assert np.array_equal(single, imgs[0]) or np.array_equal(single, imgs[0][:, ::-1])


# -- resize ---------------------------------------------------------------------------------------


def _torch(imgs, size, mode):
    t = torch.from_numpy(np.ascontiguousarray(imgs.transpose(0, 3, 1, 2))).double()
    kw = {"align_corners": False} if mode == "bilinear" else {}
    out = torch.nn.functional.interpolate(t, size=size, mode=mode, **kw)
    return out.numpy().transpose(0, 2, 3, 1)


@pytest.mark.parametrize("size", [(6, 8), (2, 3), (5, 2), (3, 4), (7, 9)])
def test_resize_bilinear_matches_torch(size):
    imgs = RNG.uniform(0, 255, (2, 3, 4, 2)).astype(np.float32)
    out = tf.image.resize(imgs, size)
    assert out.dtype == tf.float32 and out.shape == (2, *size, 2)
    np.testing.assert_allclose(out.numpy(), _torch(imgs, size, "bilinear"), rtol=1e-5,
                               atol=1e-3)
    np.testing.assert_allclose(tf.image.resize(imgs.astype(np.uint8)[0], size).numpy(),
                               _torch(imgs.astype(np.uint8)[:1], size, "bilinear")[0],
                               atol=1e-3)


@pytest.mark.parametrize("size", [(6, 8), (2, 3), (5, 2), (7, 9)])
def test_resize_nearest_matches_torch_nearest_exact(size):
    imgs = RNG.integers(0, 255, (2, 3, 4, 1)).astype(np.uint8)
    out = tf.image.resize(imgs, size, method="nearest")
    assert out.dtype == tf.uint8  # nearest keeps the dtype, as TF
    np.testing.assert_array_equal(out.numpy(), _torch(imgs, size, "nearest-exact"))


def test_resize_gradient_options_and_errors():
    # resize gives float32 whatever comes in, as TF: linear, so a wide step is exact
    _fd_check(lambda t: tf.cast(tf.image.resize(tf.reshape(t, [1, 3, 4, 1]), [5, 3]),
                                tf.float64), RNG.normal(size=12), eps=0.5, rtol=1e-4, atol=1e-5)
    assert tf.image.resize(np.zeros((2, 2, 1)), [3, 3]).dtype == tf.float32
    img = np.zeros((4, 8, 1), np.float32)
    assert tf.image.resize(img, [4, 4], preserve_aspect_ratio=True).shape == (2, 4, 1)
    with pytest.raises(ValueError, match="method"):
        tf.image.resize(img, [2, 2], method="lanczos5")
    with pytest.raises(ValueError, match="image must be"):
        tf.image.resize(np.zeros((4, 4), np.float32), [2, 2])


def test_image_ops_build_in_a_graph():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 3, 4, 1])
        y = tf.image.resize(tf.image.flip_left_right(x), [6, 8])
        imgs = RNG.normal(size=(2, 3, 4, 1)).astype(np.float32)
        with tf.compat.v1.Session() as sess:
            got = sess.run(y, {x: imgs})
    np.testing.assert_allclose(got, _torch(imgs[:, :, ::-1], (6, 8), "bilinear"), atol=1e-5)
