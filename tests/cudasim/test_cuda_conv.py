"""The CUDA convolution and pooling kernels (``cuda/conv.py``) against the NumPy reference,
on Numba's simulator.

Shapes are tiny (the simulator runs every thread as a Python thread) but odd-sized, so the
im2col rows, the matmul tiles (4 under the simulator) and the element blocks (32) all end in
partial blocks, and SAME padding is uneven (TensorFlow puts the extra pixel last)."""

from __future__ import annotations

import numpy as np
import pytest

from minitf.backends.cuda import CudaBackend, conv, to_numpy
from minitf.backends.numpy_backend import NumpyBackend

pytestmark = pytest.mark.gpu_sim

CUDA, REF = CudaBackend(), NumpyBackend()

# (input shape, filter shape, strides, padding, dilations)
CONVS = [
    ((2, 4, 5, 2), (3, 3, 2, 3), (1, 1), "SAME", (1, 1)),
    ((1, 7, 6, 2), (3, 2, 2, 3), (2, 3), "VALID", (1, 1)),
    ((1, 6, 7, 2), (2, 3, 2, 2), (1, 2), "SAME", (2, 1)),
    ((2, 5, 5, 1), (1, 1, 1, 5), (2, 2), "SAME", (1, 1)),
    ((1, 7, 7, 1), (2, 2, 1, 2), (1, 1), "VALID", (3, 2)),
]
CONV_IDS = ["same", "valid-strided", "same-dilated", "1x1-strided", "valid-dilated"]

# (input shape, ksize, strides, padding)
POOLS = [
    ((2, 4, 6, 3), (2, 2), (2, 2), "VALID"),
    ((1, 5, 5, 2), (3, 3), (2, 2), "SAME"),
    ((1, 5, 7, 2), (2, 3), (1, 2), "SAME"),
    ((1, 6, 5, 1), (3, 2), (3, 1), "VALID"),
]
POOL_IDS = ["2x2", "3x3-same-overlap", "2x3-same", "3x2-valid"]


def _rand(shape, seed, dtype=np.float32):
    return np.random.default_rng(seed).uniform(-1.0, 1.0, shape).astype(dtype)


def _check(got, want, rtol=1e-5, atol=1e-5):
    assert hasattr(got, "copy_to_host"), "the result should stay on the device"
    got = to_numpy(got)
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)


def _out_grad(x, w, strides, padding, dilations, seed=3):
    y = REF.conv2d(x, w, strides, padding, dilations)
    return _rand(y.shape, seed, x.dtype)


@pytest.mark.parametrize("xs, ws, strides, padding, dil", CONVS, ids=CONV_IDS)
def test_conv2d_and_its_gradients(xs, ws, strides, padding, dil):
    x, w = _rand(xs, 1), _rand(ws, 2)
    dy = _out_grad(x, w, strides, padding, dil)
    _check(CUDA.conv2d(x, w, strides, padding, dil), REF.conv2d(x, w, strides, padding, dil))
    _check(CUDA.conv2d_backprop_input(x.shape, w, dy, strides, padding, dil),
           REF.conv2d_backprop_input(x.shape, w, dy, strides, padding, dil))
    _check(CUDA.conv2d_backprop_filter(x, w.shape, dy, strides, padding, dil),
           REF.conv2d_backprop_filter(x, w.shape, dy, strides, padding, dil))


@pytest.mark.parametrize("activation", ["linear", "relu"])
def test_conv2d_bias_act(activation):
    xs, ws, strides, padding, dil = CONVS[1]
    x, w, b = _rand(xs, 1), _rand(ws, 2), _rand(ws[3], 4)
    want = REF.conv2d_bias_act(x, w, b, strides, padding, dil, activation)
    _check(CUDA.conv2d_bias_act(x, w, b, strides, padding, dil, activation), want)


def test_conv_in_several_chunks(monkeypatch):
    """A batch larger than one im2col buffer is done in chunks of images; the filter
    gradient adds the chunks' parts."""
    xs, ws, strides, padding, dil = CONVS[3]
    xs = (3,) + xs[1:]
    x, w = _rand(xs, 1), _rand(ws, 2)
    dy = _out_grad(x, w, strides, padding, dil)
    monkeypatch.setattr(conv, "CHUNK_BYTES", 1)  # one image per chunk
    assert conv.images_per_chunk(3, 9, 100) == 1
    _check(CUDA.conv2d(x, w, strides, padding, dil), REF.conv2d(x, w, strides, padding, dil))
    _check(CUDA.conv2d_backprop_input(x.shape, w, dy, strides, padding, dil),
           REF.conv2d_backprop_input(x.shape, w, dy, strides, padding, dil))
    _check(CUDA.conv2d_backprop_filter(x, w.shape, dy, strides, padding, dil),
           REF.conv2d_backprop_filter(x, w.shape, dy, strides, padding, dil))


def test_images_per_chunk_balances_chunks(monkeypatch):
    monkeypatch.setattr(conv, "CHUNK_BYTES", 400)
    assert conv.images_per_chunk(10, 5, 100) == 4  # 4 fit: chunks of 4, 4, 2 -> 4
    assert conv.images_per_chunk(9, 5, 100) == 3  # 4 fit: 3 chunks of 3, not 4, 4, 1
    assert conv.images_per_chunk(2, 5, 10_000) == 1  # one image even when it is too big


def test_conv2d_float64_and_device_inputs():
    xs, ws, strides, padding, dil = CONVS[1]
    x, w = _rand(xs, 1, np.float64), _rand(ws, 2, np.float64)
    got = CUDA.conv2d(CUDA.unary("identity", x, x.dtype), w, strides, padding, dil)
    _check(got, REF.conv2d(x, w, strides, padding, dil), rtol=1e-12, atol=1e-12)


def test_conv2d_mixed_dtypes_fall_back_to_the_host():
    xs, ws, strides, padding, dil = CONVS[3]
    x, w = _rand(xs, 1), _rand(ws, 2, np.float64)
    _check(CUDA.conv2d(x, w, strides, padding, dil), REF.conv2d(x, w, strides, padding, dil))


@pytest.mark.parametrize("xs, ksize, strides, padding", POOLS, ids=POOL_IDS)
def test_max_pool_and_its_gradients(xs, ksize, strides, padding):
    x = _rand(xs, 5)
    y = REF.max_pool(x, ksize, strides, padding)
    dy, g = _rand(y.shape, 6), _rand(x.shape, 7)
    _check(CUDA.max_pool(x, ksize, strides, padding), y)
    _check(CUDA.max_pool_grad(x, y, dy, ksize, strides, padding),
           REF.max_pool_grad(x, y, dy, ksize, strides, padding))
    _check(CUDA.max_pool_grad_grad(x, y, g, ksize, strides, padding),
           REF.max_pool_grad_grad(x, y, g, ksize, strides, padding))


def test_max_pool_ties_go_to_the_first_maximum():
    """With equal values in a window the gradient goes to the first in row-major order."""
    x = np.zeros((1, 4, 4, 2), np.float32)
    x[0, 1, 1, 0] = x[0, 1, 2, 0] = -0.5  # channel 0 ties at 0 elsewhere; channel 1 all tie
    ksize, strides, padding = (3, 3), (1, 1), "VALID"
    y = REF.max_pool(x, ksize, strides, padding)
    dy, g = _rand(y.shape, 6), _rand(x.shape, 7)
    _check(CUDA.max_pool_grad(x, y, dy, ksize, strides, padding),
           REF.max_pool_grad(x, y, dy, ksize, strides, padding))
    _check(CUDA.max_pool_grad_grad(x, y, g, ksize, strides, padding),
           REF.max_pool_grad_grad(x, y, g, ksize, strides, padding))


@pytest.mark.parametrize("xs, ksize, strides, padding", POOLS, ids=POOL_IDS)
def test_avg_pool_and_its_gradient(xs, ksize, strides, padding):
    x = _rand(xs, 5)
    y = REF.avg_pool(x, ksize, strides, padding)
    dy = _rand(y.shape, 6)
    _check(CUDA.avg_pool(x, ksize, strides, padding), y)
    _check(CUDA.avg_pool_grad(x.shape, dy, ksize, strides, padding),
           REF.avg_pool_grad(x.shape, dy, ksize, strides, padding))


def test_pooling_float64():
    xs, ksize, strides, padding = POOLS[1]
    x = _rand(xs, 5, np.float64)
    y = REF.max_pool(x, ksize, strides, padding)
    _check(CUDA.max_pool(x, ksize, strides, padding), y, rtol=1e-12, atol=1e-12)
    _check(CUDA.avg_pool_grad(x.shape, y, ksize, strides, padding),
           REF.avg_pool_grad(x.shape, y, ksize, strides, padding), rtol=1e-12, atol=1e-12)


def test_a_conv_net_step_stays_on_the_device(monkeypatch):
    """conv -> relu -> max pool -> avg pool and its gradient under '/GPU:0': every conv and
    pooling op (forward and backward) returns device arrays, and the gradients match the
    CPU's."""
    import minitf as tf
    from minitf.backends.cuda import placement

    on_gpu = set()
    real_run = placement.run

    def run(opdef, rt, values, attrs, where):
        res = real_run(opdef, rt, values, attrs, where)
        if all(hasattr(r, "copy_to_host") for r in (res if isinstance(res, tuple) else [res])):
            on_gpu.add(opdef.type)
        return res

    monkeypatch.setattr(placement, "run", run)
    tf.enable_eager_execution()
    x, w = _rand((1, 6, 5, 2), 1), _rand((3, 3, 2, 3), 2)

    def grads(device):
        with tf.device(device):
            xs, ws = tf.constant(x), tf.constant(w)
            with tf.GradientTape() as tape:
                tape.watch([xs, ws])
                h = tf.nn.relu(tf.nn.conv2d(xs, ws, 1, "SAME"))
                h = tf.nn.avg_pool2d(tf.nn.max_pool2d(h, 2, 2, "SAME"), 2, 1, "VALID")
                loss = tf.reduce_sum(h * h)
            return [g.numpy() for g in tape.gradient(loss, [xs, ws])]

    got, want = grads("/GPU:0"), grads("/CPU:0")
    assert {"Conv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter", "MaxPool", "MaxPoolGrad",
            "AvgPool", "AvgPoolGrad"} <= on_gpu
    for g, ww in zip(got, want):
        np.testing.assert_allclose(g, ww, rtol=1e-5, atol=1e-5)
