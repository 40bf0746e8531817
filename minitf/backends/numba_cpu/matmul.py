"""Hand-written matrix products in Numba, for teaching and comparison with BLAS.

``matmul_naive`` is the textbook triple loop. ``matmul_tiled`` is the same arithmetic
reordered for the memory hierarchy: each thread owns a block of rows of C, walks K in blocks
so the rows of B it reads stay in cache, updates four rows of C per row of B it loads
(register blocking), and its innermost loop is ``c_row[j] += a_ik * b_row[j]`` over
contiguous 0-based row views, which LLVM turns into SIMD code. (Indexing ``c[i, j]`` with
``j`` from ``range(j0, j1)`` instead is ~10x slower: Numba must check each index for
negative wraparound, which blocks vectorisation.)

The backend's default matmul is ``np.matmul`` (BLAS); ``NumbaBackend(matmul="tiled")`` uses
``matmul_tiled``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit, prange

Array = Any

BLOCK_I = 16  # rows of C per parallel task
BLOCK_K = 128  # rows of B read from cache by every row of the C block
BLOCK_J = 256  # columns of C per pass: 1 KiB float32 strips of C and B stay in L1
# Block sizes were picked by measuring 32x784x128 ... 1024^3 products on a 2-core machine.


@njit(cache=True)
def _naive(a, b, c):
    for i in range(a.shape[0]):
        for j in range(b.shape[1]):
            s = c[i, j]
            for k in range(a.shape[1]):
                s += a[i, k] * b[k, j]
            c[i, j] = s


@njit(cache=True)
def _one_row(a, b, c, i, k0, k1, j0, j1):
    """``c[i, j0:j1] += a[i, k0:k1] @ b[k0:k1, j0:j1]``."""
    c_row = c[i, j0:j1]
    for k in range(k0, k1):
        a_ik = a[i, k]
        b_row = b[k, j0:j1]
        for j in range(j1 - j0):
            c_row[j] += a_ik * b_row[j]


@njit(cache=True)
def _four_rows(a, b, c, i, k0, k1, j0, j1):
    """``_one_row`` for rows i..i+3 at once: each element of B loaded is used four times."""
    c0, c1, c2, c3 = c[i, j0:j1], c[i + 1, j0:j1], c[i + 2, j0:j1], c[i + 3, j0:j1]
    for k in range(k0, k1):
        a0, a1, a2, a3 = a[i, k], a[i + 1, k], a[i + 2, k], a[i + 3, k]
        b_row = b[k, j0:j1]
        for j in range(j1 - j0):
            b_kj = b_row[j]
            c0[j] += a0 * b_kj
            c1[j] += a1 * b_kj
            c2[j] += a2 * b_kj
            c3[j] += a3 * b_kj


@njit(cache=True, parallel=True)
def _tiled(a, b, c):
    m, kk = a.shape
    n = b.shape[1]
    for bi in prange((m + BLOCK_I - 1) // BLOCK_I):
        i0 = bi * BLOCK_I
        i1 = min(i0 + BLOCK_I, m)
        for j0 in range(0, n, BLOCK_J):
            j1 = min(j0 + BLOCK_J, n)
            for k0 in range(0, kk, BLOCK_K):
                k1 = min(k0 + BLOCK_K, kk)
                i = i0
                while i + 4 <= i1:
                    _four_rows(a, b, c, i, k0, k1, j0, j1)
                    i += 4
                while i < i1:
                    _one_row(a, b, c, i, k0, k1, j0, j1)
                    i += 1


def _prepare(a: Array, b: Array) -> tuple[Array, Array, Array]:
    """Contiguous 2-D operands of one dtype and a zeroed C, or ValueError on bad shapes."""
    a, b = np.asarray(a), np.asarray(b)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0]:
        raise ValueError(f"matmul needs (m, k) @ (k, n) matrices, got {a.shape} @ {b.shape}")
    dtype = np.result_type(a, b)
    if dtype.kind not in "iufc" or dtype.itemsize < 4:
        raise TypeError(f"matmul_tiled/naive support float32/64, complex64/128 and int32/64, "
                        f"not {dtype}")
    a = np.ascontiguousarray(a, dtype=dtype)
    b = np.ascontiguousarray(b, dtype=dtype)
    return a, b, np.zeros((a.shape[0], b.shape[1]), dtype=dtype)


def matmul_naive(a: Array, b: Array) -> Array:
    """``a @ b`` for 2-D arrays by three nested loops (slow: for reading, not for use)."""
    a, b, c = _prepare(a, b)
    _naive(a, b, c)
    return c


def matmul_tiled(a: Array, b: Array) -> Array:
    """``a @ b`` for 2-D arrays: cache-blocked, vectorised, parallel over blocks of rows."""
    a, b, c = _prepare(a, b)
    if a.shape[1]:  # with k == 0 the product is the zero matrix already in c
        _tiled(a, b, c)
    return c
