"""The CUDA backend's kernels against the NumPy reference, on Numba's CUDA simulator.

Shapes are tiny (the simulator runs each thread as a Python thread) but chosen so that
grids have partial blocks: 17 x 19 @ 19 x 5 against matmul's TILE (4 under the simulator,
16 on a GPU), rows longer than a reduction block."""

from __future__ import annotations

import os

import numpy as np
import pytest

from minitf.backends import kernel_table
from minitf.backends.cuda import CudaBackend, to_numpy
from minitf.backends.numpy_backend import NumpyBackend

pytestmark = pytest.mark.gpu_sim

CUDA, REF = CudaBackend(), NumpyBackend()
F32 = np.dtype(np.float32)
BOOL_OUT = {"equal", "not_equal", "less", "less_equal", "greater", "greater_equal",
            "logical_and", "logical_or", "logical_not"}
POSITIVE = {"sqrt", "rsqrt", "log", "log1p", "sqrt_grad", "rsqrt_grad", "pow"}


def _data(shape, positive=False, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.5, 3.0, shape) if positive else rng.uniform(-3.0, 3.0, shape)
    x = x.astype(np.float32)
    if not positive:
        x.flat[0] = 0.0  # the branch points of sign/relu/relu_grad
        x.flat[-1] = 2.5  # a tie for round (half to even)
    return x


def _check(got, want, rtol=1e-5, atol=1e-6):
    got = to_numpy(got)
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)


def test_simulator_is_on():
    from numba import config

    assert os.environ.get("NUMBA_ENABLE_CUDASIM") == "1" and config.ENABLE_CUDASIM


@pytest.mark.parametrize("fn", sorted(kernel_table.UNARY))
def test_unary(fn):
    x = _data((3, 5), positive=fn in POSITIVE)
    out = np.dtype(bool) if fn in BOOL_OUT else F32
    _check(CUDA.unary(fn, x, out, 0.2), REF.unary(fn, x, out, 0.2))


@pytest.mark.parametrize("fn", sorted(kernel_table.BINARY))
def test_binary(fn):
    pos = fn in POSITIVE
    x, y = _data((3, 5), pos, seed=1), _data((3, 5), pos, seed=2)
    if fn in ("floordiv", "floormod", "divide"):
        y[y == 0] = 1.0
    out = np.dtype(bool) if fn in BOOL_OUT else F32
    _check(CUDA.binary(fn, x, y, out, 0.2), REF.binary(fn, x, y, out, 0.2))


@pytest.mark.parametrize("yshape", [(5,), (3, 1), (), (2, 3, 5), (2, 1, 5)])
def test_binary_broadcasting(yshape):
    x, y = _data((2, 3, 5), seed=3), _data(yshape, seed=4)
    for fn in ("add", "multiply", "maximum"):
        _check(CUDA.binary(fn, x, y, F32), REF.binary(fn, x, y, F32))
        _check(CUDA.binary(fn, y, x, F32), REF.binary(fn, y, x, F32))


def test_ops_chain_on_device():
    x = _data((4, 6))
    d = CUDA.unary("exp", x, F32)
    assert not isinstance(d, np.ndarray)  # a device array: nothing came back to the host
    d = CUDA.binary("add", d, d, F32)
    _check(CUDA.reduce("sum", d, (1,), False), (2 * np.exp(x)).sum(1, dtype=np.float64)
           .astype(np.float32))


@pytest.mark.parametrize("fn", ["sum", "mean", "max", "min"])
@pytest.mark.parametrize("axes", [(1,), (0,), (0, 1), (1, 2)])
def test_reduce(fn, axes):
    x = _data((2, 3, 133) if axes == (1, 2) else (3, 133), seed=5)  # rows > reductions.BLOCK
    keepdims = fn == "mean"
    _check(CUDA.reduce(fn, x, axes, keepdims), REF.reduce(fn, x, axes, keepdims))


def test_reduce_nan_and_fallbacks():
    x = _data((3, 5))
    x[1, 2] = np.nan
    for fn in ("max", "min"):
        _check(CUDA.reduce(fn, x, (1,), False), REF.reduce(fn, x, (1,), False))
    x3 = _data((2, 3, 4))
    _check(CUDA.reduce("sum", x3, (1,), False), REF.reduce("sum", x3, (1,), False))  # middle
    _check(CUDA.reduce("prod", x3, (2,), True), REF.reduce("prod", x3, (2,), True))
    copy = CUDA.reduce("sum", x3, (), False)  # no axes: a copy, made on the device
    assert not isinstance(copy, np.ndarray)
    _check(copy, x3)
    i = np.arange(12, dtype=np.int32).reshape(3, 4)
    _check(CUDA.reduce("sum", i, (1,), False), REF.reduce("sum", i, (1,), False))
    _check(CUDA.argreduce("argmax", x3, 2, np.int64), REF.argreduce("argmax", x3, 2, np.int64))


@pytest.mark.parametrize("ta,tb", [(False, False), (True, False), (False, True), (True, True)])
def test_matmul_ragged_tiles(ta, tb):
    a, b = _data((17, 19), seed=6), _data((19, 5), seed=7)
    a, b = (a.T.copy() if ta else a), (b.T.copy() if tb else b)
    _check(CUDA.matmul(a, b, ta, tb), REF.matmul(a, b, ta, tb), rtol=1e-4, atol=1e-5)


def test_matmul_batched_and_float64():
    a, b = _data((2, 3, 4), seed=8), _data((2, 4, 18), seed=9)
    _check(CUDA.matmul(a, b), REF.matmul(a, b), rtol=1e-4, atol=1e-5)
    a64, b64 = a[0].astype(np.float64), b[0].astype(np.float64)
    _check(CUDA.matmul(a64, b64), REF.matmul(a64, b64), rtol=1e-12, atol=1e-12)
    _check(CUDA.matmul(a, b[0]), REF.matmul(a, b[0]), rtol=1e-4, atol=1e-5)  # b reused
    _check(CUDA.matmul(a[:1], b), REF.matmul(a[:1], b), rtol=1e-4, atol=1e-5)  # batch of one
    _check(CUDA.matmul(a[0], b, False, False), REF.matmul(a[0], b), rtol=1e-4, atol=1e-5)
    a4 = _data((2, 1, 3, 4), seed=22)
    _check(CUDA.matmul(a4, b), REF.matmul(a4, b), rtol=1e-4, atol=1e-5)  # host fallback


@pytest.mark.parametrize("shape", [(3, 5), (1, 130), (7,)])
def test_softmax_family(shape):
    x = _data(shape, seed=10) * 10
    _check(CUDA.softmax(x), REF.softmax(x))
    _check(CUDA.log_softmax(x), REF.log_softmax(x), atol=1e-5)
    labels = REF.softmax(_data(shape, seed=11))
    for got, want in zip(CUDA.softmax_xent(x, labels), REF.softmax_xent(x, labels)):
        _check(got, want, atol=1e-5)


def test_sparse_softmax_xent():
    x = _data((2, 130), seed=12) * 10
    ids = np.array([129, 5], dtype=np.int64)
    for got, want in zip(CUDA.sparse_softmax_xent(x, ids), REF.sparse_softmax_xent(x, ids)):
        _check(got, want, atol=1e-5)
    with pytest.raises(ValueError, match="label value of 130"):
        CUDA.sparse_softmax_xent(x, np.array([0, 130]))


def test_optimizer_updates():
    w, m, v, g = (_data((3, 5), seed=s) for s in range(13, 17))
    v = np.abs(v)
    args = (1e-3, 0.9, 0.999, 1e-7, 3.0)
    for got, want in zip(CUDA.apply_adam(w, m, v, g, *args), REF.apply_adam(w, m, v, g, *args)):
        _check(got, want)
    _check(CUDA.apply_gradient_descent(w, g, 0.1), REF.apply_gradient_descent(w, g, 0.1))
    for got, want in zip(CUDA.apply_momentum(w, m, g, 0.1, 0.9, True),
                         REF.apply_momentum(w, m, g, 0.1, 0.9, True)):
        _check(got, want)  # host fallback


def test_elementwise_grid_stride(monkeypatch):
    """A grid capped below the row count (CUDA allows 65535 blocks in y): the kernels loop."""
    from minitf.backends.cuda import backend

    monkeypatch.setattr(backend, "MAX_GRID_Y", 1)
    x, y = _data((17, 5), seed=20), _data((17, 1), seed=21)
    _check(CUDA.binary("add", x, y, F32), REF.binary("add", x, y, F32))
    _check(CUDA.unary("exp", x, F32), REF.unary("exp", x, F32))
