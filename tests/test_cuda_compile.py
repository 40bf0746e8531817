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


def test_handwritten_kernels_compile(monkeypatch):
    cuda = _compiler(monkeypatch)
    import numpy as np
    from numba import boolean, float32, float64, int32, int64

    from minitf.backends.cuda import matmul, optim, reductions, softmax

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
