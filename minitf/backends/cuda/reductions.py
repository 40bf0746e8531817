"""Reduction kernels: rows of an (M, K) array to (M,), or the leading axis of (K, B) to (B,).

Row kernels are launched with one block of ``BLOCK`` threads per row: thread ``t`` folds
elements ``t, t + BLOCK, ...`` of its row into a register, then the block combines the
``BLOCK`` partial results in shared memory by a tree reduction (``BLOCK/2`` pairs, then
``BLOCK/4``, ...: log2(BLOCK) steps, each ended by a barrier). Column kernels (the reduced
axes are the leading ones, as for a bias gradient) give each thread one column, so a warp
reads 32 neighbouring elements of a row at a time.

Partial results are float64 whatever the input dtype (float32 or float64), complex128 for
complex64/complex128 inputs (sum, mean and prod: the reductions TF defines on complex
numbers); each kernel writes ``acc / div`` into ``out`` in ``out``'s dtype (``div`` is 1 for
sum/prod/max/min, K for mean). Max and min propagate NaN as ``np.max``/``np.min`` do.
"""

from __future__ import annotations

import math

import numpy as np
from numba import complex128, config, cuda, float64

# The simulator runs every thread of a block as a Python thread: smaller blocks there keep
# the tests fast and still leave rows longer than a block. PTX is built with the real sizes.
BLOCK = 16 if config.ENABLE_CUDASIM else 128
"""Threads per block of the row kernels (a power of two, for the tree)."""

COL_BLOCK = 16 if config.ENABLE_CUDASIM else 128
"""Threads per block of the column kernels (one thread per column)."""


@cuda.jit(device=True)
def _add(a, b):
    return a + b


@cuda.jit(device=True)
def _mul(a, b):
    return a * b


@cuda.jit(device=True)
def _max(a, b):
    return a if (a > b or math.isnan(a)) else b


@cuda.jit(device=True)
def _min(a, b):
    return a if (a < b or math.isnan(a)) else b


def _row_kernel(combine, start, acc_t=float64):
    """A row kernel folding with ``combine`` in ``acc_t`` (float64 or complex128); ``start``:
    ``None`` starts from ``x[i, 0]`` (max, min: repeats do no harm), else from that value (0
    for sum, 1 for prod)."""

    @cuda.jit
    def kernel(x, out, div):
        sh = cuda.shared.array(BLOCK, acc_t)
        i, t = cuda.blockIdx.x, cuda.threadIdx.x
        acc = acc_t(x[i, 0]) if start is None else acc_t(start)
        for k in range(t, x.shape[1], BLOCK):
            acc = combine(acc, acc_t(x[i, k]))
        sh[t] = acc
        cuda.syncthreads()
        s = BLOCK // 2
        while s > 0:
            if t < s:
                sh[t] = combine(sh[t], sh[t + s])
            cuda.syncthreads()
            s //= 2
        if t == 0:
            out[i] = sh[0] / div

    return kernel


def _col_kernel(combine, start, acc_t=float64):
    """A column kernel: thread ``b`` folds ``x[:, b]`` with ``combine`` (as ``_row_kernel``)."""

    @cuda.jit
    def kernel(x, out, div):
        b = cuda.grid(1)
        if b < x.shape[1]:
            acc = acc_t(x[0, b]) if start is None else acc_t(start)
            for k in range(x.shape[0]):
                acc = combine(acc, acc_t(x[k, b]))
            out[b] = acc / div

    return kernel


_FOLDS = {"sum": (_add, 0.0), "prod": (_mul, 1.0), "max": (_max, None), "min": (_min, None)}
_COMPLEX_FOLDS = ("sum", "prod")  # max/min are not defined on complex numbers

ROW = {fn: _row_kernel(*fold) for fn, fold in _FOLDS.items()}
"""Reduction name -> row kernel ``(x, out, div)`` for floats (mean: ``sum`` with div = K)."""

COL = {fn: _col_kernel(*fold) for fn, fold in _FOLDS.items()}
"""Reduction name -> column kernel ``(x, out, div)`` for floats."""

COMPLEX_ROW = {fn: _row_kernel(*_FOLDS[fn], complex128) for fn in _COMPLEX_FOLDS}
"""Reduction name -> row kernel for complex inputs (complex128 partial results)."""

COMPLEX_COL = {fn: _col_kernel(*_FOLDS[fn], complex128) for fn in _COMPLEX_FOLDS}
"""Reduction name -> column kernel for complex inputs."""

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_COMPLEX = (np.dtype(np.complex64), np.dtype(np.complex128))


def kernels(fn: str, dtype: np.dtype) -> tuple:
    """``(row kernel, column kernel)`` of reduction ``fn`` for ``dtype``, or ``(None, None)``
    where it has none (other dtypes and reductions run on the host)."""
    fn = "sum" if fn == "mean" else fn
    rows, cols = ((ROW, COL) if dtype in _FLOATS else (COMPLEX_ROW, COMPLEX_COL)
                  if dtype in _COMPLEX else ({}, {}))
    return rows.get(fn), cols.get(fn)
