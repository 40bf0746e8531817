"""The int8 Dense layer on a GPU (numba.cuda): int8 x int8 -> int32 tiled GEMM, requantized.

``out[m, n] = requant(bias[n] + sum_k x[m, k] * w[n, k])`` with the same operands as the CPU
kernel ``kernels.fc_int8`` (weights [out, in], folded int32 bias, per-channel fixed-point
multipliers) and the same integer rounding, so the two agree bit for bit. Each block computes
a TILE x TILE tile of ``out``, staging TILE x TILE tiles of x and w in shared memory as int32
(the int8 -> int32 widening happens once per load, not once per product).
"""

from __future__ import annotations

import numpy as np
from numba import config, cuda, int32

TILE = 4 if config.ENABLE_CUDASIM else 16  # smaller under the simulator (one thread each)


@cuda.jit(device=True, inline=True)
def _requant(acc, m, shift, zp, lo, hi):
    total = 31 - shift
    v = (np.int64(acc) * np.int64(m) + (np.int64(1) << (total - 1))) >> total
    v += zp
    return lo if v < lo else (hi if v > hi else v)


@cuda.jit
def fc_int8_kernel(x, w, bias, mult, shift, zp, lo, hi, out):
    """One TILE x TILE tile of ``out`` [M, N] from x int8 [M, K] and w int8 [N, K]."""
    sx = cuda.shared.array((TILE, TILE), int32)
    sw = cuda.shared.array((TILE, TILE), int32)
    tx, ty = cuda.threadIdx.x, cuda.threadIdx.y
    col = cuda.blockIdx.x * TILE + tx
    row = cuda.blockIdx.y * TILE + ty
    m, n, k_len = out.shape[0], out.shape[1], x.shape[1]
    acc = int32(0)
    for k0 in range(0, k_len, TILE):
        kx, kw = k0 + tx, k0 + ty
        sx[ty, tx] = int32(x[row, kx]) if row < m and kx < k_len else 0
        sw[ty, tx] = int32(w[col, kw]) if col < n and kw < k_len else 0
        cuda.syncthreads()
        for k in range(TILE):
            acc += sx[ty, k] * sw[k, tx]
        cuda.syncthreads()
    if row < m and col < n:
        out[row, col] = _requant(acc + bias[col], mult[col], shift[col], zp, lo, hi)


def fc_int8(x: np.ndarray, w: np.ndarray, bias: np.ndarray, mult: np.ndarray,
            shift: np.ndarray, zp: int, lo: int, hi: int) -> np.ndarray:
    """Run :func:`fc_int8_kernel` on host arrays; returns the int8 [M, N] result."""
    if x.dtype != np.int8 or w.dtype != np.int8 or x.shape[1] != w.shape[1]:
        raise ValueError(f"fc_int8 needs int8 x [M, K] and w [N, K], got {x.dtype} "
                         f"{list(x.shape)} and {w.dtype} {list(w.shape)}")
    out = cuda.device_array((x.shape[0], w.shape[0]), np.int8)
    grid = (-(-w.shape[0] // TILE), -(-x.shape[0] // TILE))
    fc_int8_kernel[grid, (TILE, TILE)](cuda.to_device(x), cuda.to_device(w),
                                       cuda.to_device(bias), cuda.to_device(mult),
                                       cuda.to_device(shift), zp, lo, hi, out)
    return out.copy_to_host()
