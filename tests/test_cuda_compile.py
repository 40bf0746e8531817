"""Every CUDA kernel compiles to PTX for a real GPU (sm_80) with float32 signatures.

Needs no GPU, only Numba's CUDA compiler stack (NVVM and libdevice from a CUDA toolkit);
skipped where that is missing or where the simulator is on. Also checks the generated
``cuda/elementwise.py`` is up to date with ``kernel_table.py``."""

from __future__ import annotations

import os

import pytest

from minitf.backends import kernel_table
from minitf.backends.cuda import codegen

CC = (8, 0)


def test_generated_kernels_up_to_date():
    assert codegen.check(), "run: python -m minitf.backends.cuda.codegen"


class _Sm80:
    compute_capability = CC


def _compiler(monkeypatch):
    """``numba.cuda`` if it can compile PTX here, else skip naming the reason.

    Typing a call to a device function asks the driver for the current GPU's compute
    capability; without a GPU that raises, so the test answers sm_80 instead (Numba
    internals: ``numba.cuda.dispatcher.get_current_device``)."""
    if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
        pytest.skip("NUMBA_ENABLE_CUDASIM=1: the simulator cannot compile PTX")
    import numba.cuda.dispatcher
    from numba import cuda, float32

    monkeypatch.setattr(numba.cuda.dispatcher, "get_current_device", _Sm80)

    try:
        cuda.compile_ptx(lambda a: None, (float32[:],), cc=CC)
    except Exception as e:  # no NVVM/libdevice: the toolkit is not installed or not found
        pytest.skip(f"CUDA compiler stack unavailable ({type(e).__name__}: {e}); "
                    "install a CUDA toolkit (nvcc, NVVM) or set CUDA_HOME")
    return cuda


def _ptx(cuda, dispatcher, sig):
    ptx, _ = cuda.compile_ptx(dispatcher.py_func, sig, cc=CC)
    assert ".entry" in ptx and ".target sm_80" in ptx
    return ptx


def test_elementwise_kernels_compile(monkeypatch):
    cuda = _compiler(monkeypatch)
    from numba import bool_, float32, float64

    from minitf.backends.cuda import elementwise as ew

    m = float32[:, :]
    for name in kernel_table.UNARY:
        _ptx(cuda, ew.UNARY_KERNELS[name], (m, m, float64))
    for name in kernel_table.BINARY:
        _ptx(cuda, ew.BINARY_KERNELS[name], (m, m, m, float64))
    for name in ("equal", "less", "logical_and"):  # the bool outputs the backend asks for
        _ptx(cuda, ew.BINARY_KERNELS[name], (bool_[:, :], m, m, float64))


def test_elementwise_kernels_compile_for_other_dtypes(monkeypatch):
    """The integer, bool and float64 versions the ops' dtype rules allow (a subset: each
    kernel body once per dtype family)."""
    cuda = _compiler(monkeypatch)
    from numba import bool_, float64, int32, int64

    from minitf.backends.cuda import elementwise as ew

    i, b, d = int32[:, :], bool_[:, :], float64[:, :]
    for name in ("negative", "abs", "sign", "square", "relu", "identity"):
        _ptx(cuda, ew.UNARY_KERNELS[name], (i, i, float64))
    for name in ("add", "multiply", "floordiv", "floormod", "pow", "maximum",
                 "squared_difference", "relu_grad"):
        _ptx(cuda, ew.BINARY_KERNELS[name], (i, i, i, float64))
    for name in ("equal", "less_equal"):
        _ptx(cuda, ew.BINARY_KERNELS[name], (b, int64[:, :], int64[:, :], float64))
    _ptx(cuda, ew.UNARY_KERNELS["logical_not"], (b, b, float64))
    _ptx(cuda, ew.BINARY_KERNELS["logical_or"], (b, b, b, float64))
    _ptx(cuda, ew.UNARY_KERNELS["identity"], (d, b, float64))  # Cast bool -> float64
    for name in ("exp", "sigmoid", "round", "softplus"):
        _ptx(cuda, ew.UNARY_KERNELS[name], (d, d, float64))
    for name in ("divide", "pow", "softplus_grad"):
        _ptx(cuda, ew.BINARY_KERNELS[name], (d, d, d, float64))


def test_complex_kernels_compile(monkeypatch):
    """Every complex element-wise kernel for complex64 (complex128: one unary and one binary
    body), and the complex reductions and matmuls; ``NO_CUDA_COMPLEX`` kernels have none."""
    cuda = _compiler(monkeypatch)
    import numpy as np
    from numba import bool_, boolean, complex64, complex128, float64

    from minitf.backends.cuda import elementwise as ew
    from minitf.backends.cuda import matmul, reductions

    c, z = complex64[:, :], complex128[:, :]
    for name in ew.COMPLEX_UNARY_KERNELS:
        ptx = _ptx(cuda, ew.COMPLEX_UNARY_KERNELS[name], (c, c, float64))
        assert ".extern" not in ptx, name  # no call left for the linker (cmath is inlined)
    for name in ew.COMPLEX_BINARY_KERNELS:
        out = bool_[:, :] if name in ("equal", "not_equal") else c
        ptx = _ptx(cuda, ew.COMPLEX_BINARY_KERNELS[name], (out, c, c, float64))
        assert ".extern" not in ptx, name
    _ptx(cuda, ew.COMPLEX_UNARY_KERNELS["tanh"], (z, z, float64))
    _ptx(cuda, ew.COMPLEX_BINARY_KERNELS["divide"], (z, z, z, float64))
    _ptx(cuda, ew.COMPLEX_UNARY_KERNELS["identity"], (z, c, float64))  # Cast complex64 -> 128
    assert not set(kernel_table.NO_CUDA_COMPLEX) & set(ew.COMPLEX_BINARY_KERNELS)
    for k in list(reductions.COMPLEX_ROW.values()) + list(reductions.COMPLEX_COL.values()):
        _ptx(cuda, k, (c, complex64[:], float64))
    for t in (complex64, complex128):
        _ptx(cuda, matmul.MATMUL[np.dtype(t.name)], (t[:, :, :],) * 3 + (boolean, boolean))


def test_conversion_kernels_compile(monkeypatch):
    """Every conversion kernel for both precisions: complex -> real (complex64 -> float32,
    complex128 -> float64) and real -> complex, with no call left for the linker."""
    cuda = _compiler(monkeypatch)
    from numba import complex64, complex128, float32, float64

    from minitf.backends.cuda import elementwise as ew

    for c, f in ((complex64[:, :], float32[:, :]), (complex128[:, :], float64[:, :])):
        for name in ew.CONVERT_UNARY_KERNELS:
            sig = (c, f, float64) if name == "to_complex" else (f, c, float64)
            assert ".extern" not in _ptx(cuda, ew.CONVERT_UNARY_KERNELS[name], sig), name
        for name in ew.CONVERT_BINARY_KERNELS:
            _ptx(cuda, ew.CONVERT_BINARY_KERNELS[name], (c, f, f, float64))


def test_handwritten_kernels_compile(monkeypatch):
    cuda = _compiler(monkeypatch)
    import numpy as np
    from numba import boolean, float32, float64, int32, int64

    from minitf.backends.cuda import layout, matmul, optim, reductions, softmax

    v, m, m3 = float32[:], float32[:, :], float32[:, :, :]
    for k in list(reductions.ROW.values()) + list(reductions.COL.values()):
        _ptx(cuda, k, (m, v, float64))
    _ptx(cuda, matmul.MATMUL[np.dtype(np.float32)], (m3, m3, m3, boolean, boolean))
    _ptx(cuda, matmul.MATMUL[np.dtype(np.float64)],
         (float64[:, :, :],) * 3 + (boolean, boolean))
    _ptx(cuda, softmax.softmax_rows, (m, m))
    _ptx(cuda, softmax.log_softmax_rows, (m, m))
    _ptx(cuda, softmax.xent_rows, (m, m, v, m))
    _ptx(cuda, softmax.sparse_xent_rows, (m, int64[:], v, m, int32[:]))
    _ptx(cuda, optim.sgd, (v, v, float32, v))
    _ptx(cuda, optim.adam, (v, v, v, v, float32, float32, float32, float32, v, v, v))
    _ptx(cuda, layout.fill, (v, float32))
    _ptx(cuda, layout.fill, (int32[:], int32))
    _ptx(cuda, layout.fill, (boolean[:], boolean))
    _ptx(cuda, layout.transpose_last2, (m3, m3))
    _ptx(cuda, layout.transpose_last2, (int64[:, :, :], int64[:, :, :]))
    _ptx(cuda, reductions.ROW["sum"], (float64[:, :], float64[:], float64))
    _ptx(cuda, softmax.sparse_xent_rows, (m, int32[:], v, m, int32[:]))


def test_conv_kernels_compile(monkeypatch):
    """The convolution and pooling kernels of ``cuda/conv.py``, float32 and float64."""
    cuda = _compiler(monkeypatch)
    from numba import boolean, float32, float64, int64

    from minitf.backends.cuda import conv

    i = (int64,)
    for t in (float32, float64):
        m, a4 = t[:, :], t[:, :, :, :]
        _ptx(cuda, conv.im2col, (a4, m) + i * 10)
        _ptx(cuda, conv.col2im, (m, a4) + i * 10)
        _ptx(cuda, conv.bias_act, (m, t[:], boolean))
        _ptx(cuda, conv.sum_parts, (m, t[:], boolean))
        for k in (conv.max_pool, conv.avg_pool):
            _ptx(cuda, k, (a4, a4) + i * 6)
        for k in (conv.max_pool_grad, conv.max_pool_grad_grad):
            _ptx(cuda, k, (a4, a4, a4) + i * 6)
        _ptx(cuda, conv.avg_pool_grad, (a4, a4) + i * 6)


def test_rnn_kernels_compile(monkeypatch):
    """The fused recurrent kernels of ``cuda/rnn.py``, float32 and float64."""
    cuda = _compiler(monkeypatch)
    from numba import float32, float64, int64

    from minitf.backends.cuda import rnn

    for t in (float32, float64):
        v, m, a3 = t[:], t[:, :], t[:, :, :]
        for k in rnn.FWD.values():
            _ptx(cuda, k, (a3, int64, m, v, m, m, m, a3, a3, a3))
        for k in rnn.BWD.values():
            _ptx(cuda, k, (int64, m, m, m, a3, a3, a3, a3, a3, m, m, m, a3, a3))
        _ptx(cuda, rnn.previous_states, (m, a3, m))
        _ptx(cuda, rnn.add_into, (m, m, m))
