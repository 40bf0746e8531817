"""The int8 GEMM of ``minitf.lite.cuda_int8`` compiles to PTX for a real GPU (sm_80); skipped
where Numba's CUDA compiler stack is missing (see test_cuda_compile)."""

from __future__ import annotations

from test_cuda_compile import _compiler, _ptx


def test_int8_gemm_compiles(monkeypatch):
    cuda = _compiler(monkeypatch)
    from numba import int8, int32, int64

    from minitf.lite import cuda_int8

    i8, i32 = int8[:, :], int32[:]
    ptx = _ptx(cuda, cuda_int8.fc_int8_kernel,
               (i8, i8, i32, i32, i32, int64, int64, int64, i8))
    assert ".f32" not in ptx and ".f64" not in ptx  # integer arithmetic only
