"""Tiled matrix product in shared memory: ``out[z] = op(a[z]) @ op(b[z])`` for a batch z (an
operand with a batch of one is reused for every z).

Each block computes a TILE x TILE tile of ``out``. It walks along K in steps of TILE: its
threads load one TILE x TILE tile of A and one of B into shared memory (one element each),
wait at a barrier, multiply the two tiles from shared memory, and wait again before the next
load overwrites them. Every element of A and B is thus read from global memory M/TILE or
N/TILE times instead of N or M times. Threads whose element lies outside A or B load 0, so
sizes need not be multiples of TILE; threads outside ``out`` compute but do not store.

``ta``/``tb`` read A or B transposed in place (``tf.matmul(transpose_a=...)``). One kernel is
built per float or complex type, so float32 products accumulate in float32 registers, as
cuBLAS does (complex64 in complex64).
"""

from __future__ import annotations

import numpy as np
from numba import complex64, complex128, config, cuda, float32, float64

TILE = 4 if config.ENABLE_CUDASIM else 16  # smaller under the simulator (see reductions)
"""Tile edge; blocks are TILE x TILE threads."""


def _matmul_kernel(nb_type, np_type):
    """The tiled kernel for one dtype (shared arrays need their type at compile time)."""

    @cuda.jit
    def matmul_tiled(a, b, out, ta, tb):
        """``out[z] = op(a[z]) @ op(b[z])`` for (Z, M, K)/(Z, K, N) (or transposed) operands."""
        sa = cuda.shared.array((TILE, TILE), nb_type)
        sb = cuda.shared.array((TILE, TILE), nb_type)
        tx, ty = cuda.threadIdx.x, cuda.threadIdx.y
        col = cuda.blockIdx.x * TILE + tx
        row = cuda.blockIdx.y * TILE + ty
        z = cuda.blockIdx.z
        za, zb = z % a.shape[0], z % b.shape[0]  # a batch of one is reused for every z
        m, n = out.shape[1], out.shape[2]
        k_len = a.shape[1] if ta else a.shape[2]
        acc = np_type(0.0)
        for k0 in range(0, k_len, TILE):
            ka, kb = k0 + tx, k0 + ty
            if row < m and ka < k_len:
                sa[ty, tx] = a[za, ka, row] if ta else a[za, row, ka]
            else:
                sa[ty, tx] = 0.0
            if col < n and kb < k_len:
                sb[ty, tx] = b[zb, col, kb] if tb else b[zb, kb, col]
            else:
                sb[ty, tx] = 0.0
            cuda.syncthreads()
            for k in range(TILE):
                acc += sa[ty, k] * sb[k, tx]
            cuda.syncthreads()
        if row < m and col < n:
            out[z, row, col] = acc

    return matmul_tiled


MATMUL = {np.dtype(np.float32): _matmul_kernel(float32, np.float32),
          np.dtype(np.float64): _matmul_kernel(float64, np.float64),
          np.dtype(np.complex64): _matmul_kernel(complex64, np.complex64),
          np.dtype(np.complex128): _matmul_kernel(complex128, np.complex128)}
"""dtype -> tiled kernel ``(a, b, out, ta, tb)``."""
