"""The fused recurrent kernels (``cuda/rnn.py``) against the NumPy reference, on Numba's
simulator: tiny shapes, all three cells, a mask with padded steps at both ends."""

from __future__ import annotations

import numpy as np
import pytest

from minitf.backends.cuda import CudaBackend, to_numpy
from minitf.backends.numpy_backend import NumpyBackend
from minitf.backends.rnn_numpy import GATES

pytestmark = pytest.mark.gpu_sim

CUDA, REF = CudaBackend(), NumpyBackend()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cell", list(GATES))
def test_rnn_sequence_and_its_gradient(cell, dtype):
    rng = np.random.default_rng(0)
    n, steps, u = 2, 3, 3
    g, cu = GATES[cell] * u, (u if cell == "lstm" else 0)
    xp, h0, c0, r, rb = (rng.uniform(-1, 1, s).astype(dtype)
                         for s in [(n, steps, g), (n, u), (n, cu), (u, g), (g,)])
    mask = np.array([[1, 1, 0], [0, 1, 1]], dtype)
    got = CUDA.rnn_sequence(cell, xp, h0, c0, r, rb, mask)
    want = REF.rnn_sequence(cell, xp, h0, c0, r, rb, mask)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for a, b in zip(got, want):
        assert hasattr(a, "copy_to_host"), "the result should stay on the device"
        np.testing.assert_allclose(to_numpy(a), b, rtol=tol, atol=tol)
    dhs = rng.uniform(-1, 1, (n, steps, u)).astype(dtype)
    dcs = rng.uniform(-1, 1, (n, steps, cu)).astype(dtype)
    got = CUDA.rnn_sequence_grad(cell, h0, c0, r, mask, *got, dhs, dcs)
    want = REF.rnn_sequence_grad(cell, h0, c0, r, mask, *want, dhs, dcs)
    for a, b in zip(got, want):
        np.testing.assert_allclose(to_numpy(a), b, rtol=tol, atol=tol)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_time_major(cell):
    rng = np.random.default_rng(1)
    n, steps, u = 2, 3, 3
    g, cu = GATES[cell] * u, (u if cell == "lstm" else 0)
    xp, h0, c0, r, rb = (rng.uniform(-1, 1, s).astype(np.float32)
                         for s in [(steps, n, g), (n, u), (n, cu), (u, g), (g,)])
    mask = np.array([[1, 0], [1, 1], [0, 1]], np.float32)
    got = CUDA.rnn_sequence(cell, xp, h0, c0, r, rb, mask, True)
    want = REF.rnn_sequence(cell, xp, h0, c0, r, rb, mask, True)
    for a, b in zip(got, want):
        assert a.shape == b.shape
        np.testing.assert_allclose(to_numpy(a), b, rtol=1e-5, atol=1e-5)
    dhs = rng.uniform(-1, 1, (steps, n, u)).astype(np.float32)
    dcs = rng.uniform(-1, 1, (steps, n, cu)).astype(np.float32)
    got = CUDA.rnn_sequence_grad(cell, h0, c0, r, mask, *got, dhs, dcs, True)
    want = REF.rnn_sequence_grad(cell, h0, c0, r, mask, *want, dhs, dcs, True)
    for a, b in zip(got, want):
        np.testing.assert_allclose(to_numpy(a), b, rtol=1e-5, atol=1e-5)
