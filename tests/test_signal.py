"""``tf.signal``: the transforms against NumPy's FFT on every backend, fft_length, errors, and
the gradients against PyTorch's ``torch.fft`` autograd (finite differences and backend parity
for each op come from ``op_cases.py``)."""

from __future__ import annotations

import numpy as np
import pytest
from test_complex import assert_grads_match_torch

import minitf as tf

RNG = np.random.default_rng(7)
Z = RNG.normal(size=(2, 3, 8)) + 1j * RNG.normal(size=(2, 3, 8))
X = RNG.normal(size=(2, 3, 8))


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
def test_complex_transforms_match_numpy(backend, dtype):
    z = Z.astype(dtype)
    for fn, ref in [(tf.signal.fft, np.fft.fft), (tf.signal.ifft, np.fft.ifft),
                    (tf.signal.fft2d, np.fft.fft2), (tf.signal.ifft2d, np.fft.ifft2)]:
        out = fn(tf.constant(z))
        assert out.dtype == tf.as_dtype(dtype), fn.__name__
        np.testing.assert_allclose(out.numpy(), ref(Z), rtol=1e-4, atol=1e-4,
                                   err_msg=fn.__name__)


@pytest.mark.parametrize("n", [None, 5, 8, 11])
def test_real_transforms_match_numpy(backend, n):
    length = None if n is None else [n]
    spec = tf.signal.rfft(tf.constant(X.astype(np.float32)), length)
    assert spec.dtype == tf.complex64
    np.testing.assert_allclose(spec.numpy(), np.fft.rfft(X, n), rtol=1e-5, atol=1e-5)
    back = tf.signal.irfft(tf.constant(Z[..., :5]), length)
    assert back.dtype == tf.float64
    np.testing.assert_allclose(back.numpy(), np.fft.irfft(Z[..., :5], n), rtol=1e-12)


def test_round_trips():
    z = tf.constant(Z)
    np.testing.assert_allclose(tf.signal.ifft(tf.signal.fft(z)).numpy(), Z, atol=1e-12)
    np.testing.assert_allclose(tf.signal.ifft2d(tf.signal.fft2d(z)).numpy(), Z, atol=1e-12)
    x = tf.constant(X)
    np.testing.assert_allclose(tf.signal.irfft(tf.signal.rfft(x)).numpy(), X, atol=1e-12)


def test_errors_name_the_op_and_dtype():
    with pytest.raises(tf.errors.InvalidArgumentError, match="FFT.*complex64 or complex128.*"
                                                           "float32"):
        tf.signal.fft(tf.constant([1.0, 2.0]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="RFFT.*float32 or float64.*int32"):
        tf.signal.rfft(tf.constant([1, 2]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="rank >= 2"):
        tf.signal.fft2d(tf.constant(Z[0, 0]))
    with pytest.raises(ValueError, match="fft_length must be positive"):
        tf.signal.rfft(tf.constant(X), [0])


def test_gradients_against_pytorch_fft():
    torch = pytest.importorskip("torch")
    x, z = X[0], Z[0]

    def loss_tf(a, b):
        s = tf.signal.rfft(a, [10]) * tf.signal.fft(b)[..., :6]
        r = tf.signal.irfft(s, [7]) + tf.math.real(tf.signal.ifft2d(tf.signal.fft2d(b) * b))[:, :7]
        return tf.reduce_sum(r * r) + tf.reduce_sum(tf.abs(tf.signal.ifft(b)))

    def loss_torch(a, b):
        s = torch.fft.rfft(a, 10) * torch.fft.fft(b)[..., :6]
        r = torch.fft.irfft(s, 7) + torch.real(torch.fft.ifft2(torch.fft.fft2(b) * b))[:, :7]
        return torch.sum(r * r) + torch.sum(torch.abs(torch.fft.ifft(b)))

    assert_grads_match_torch(loss_tf, loss_torch, [x, z], rtol=1e-9, atol=1e-12)
