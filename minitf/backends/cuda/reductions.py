"""Reduction kernels: rows of an (M, K) array to (M,), or the leading axis of (K, B) to (B,).

Row kernels are launched with one block of ``BLOCK`` threads per row: thread ``t`` folds
elements ``t, t + BLOCK, ...`` of its row into a register, then the block combines the
``BLOCK`` partial results in shared memory by a tree reduction (``BLOCK/2`` pairs, then
``BLOCK/4``, ...: log2(BLOCK) steps, each ended by a barrier). Column kernels (the reduced
axes are the leading ones, as for a bias gradient) give each thread one column, so a warp
reads 32 neighbouring elements of a row at a time.

Partial results are float64 whatever the input dtype (float32 or float64); each kernel
writes ``acc / div`` into ``out`` in ``out``'s dtype (``div`` is 1 for sum/max/min, K for
mean). Max and min propagate NaN as ``np.max``/``np.min`` do.
"""

from __future__ import annotations

import math

from numba import config, cuda, float64

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
def _max(a, b):
    return a if (a > b or math.isnan(a)) else b


@cuda.jit(device=True)
def _min(a, b):
    return a if (a < b or math.isnan(a)) else b


def _row_kernel(combine, from_first):
    """A row kernel folding with ``combine``; ``from_first``: start from ``x[i, 0]`` (max,
    min: repeats do no harm) instead of 0.0 (sum)."""

    @cuda.jit
    def kernel(x, out, div):
        sh = cuda.shared.array(BLOCK, float64)
        i, t = cuda.blockIdx.x, cuda.threadIdx.x
        acc = float64(x[i, 0]) if from_first else 0.0
        for k in range(t, x.shape[1], BLOCK):
            acc = combine(acc, float64(x[i, k]))
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


def _col_kernel(combine, from_first):
    """A column kernel: thread ``b`` folds ``x[:, b]`` with ``combine``."""

    @cuda.jit
    def kernel(x, out, div):
        b = cuda.grid(1)
        if b < x.shape[1]:
            acc = float64(x[0, b]) if from_first else 0.0
            for k in range(x.shape[0]):
                acc = combine(acc, float64(x[k, b]))
            out[b] = acc / div

    return kernel


row_sum, row_max, row_min = (_row_kernel(_add, False), _row_kernel(_max, True),
                             _row_kernel(_min, True))
col_sum, col_max, col_min = (_col_kernel(_add, False), _col_kernel(_max, True),
                             _col_kernel(_min, True))

ROW = {"sum": row_sum, "mean": row_sum, "max": row_max, "min": row_min}
"""Reduction name -> row kernel ``(x, out, div)``; the others run on the host."""

COL = {"sum": col_sum, "mean": col_sum, "max": col_max, "min": col_min}
"""Reduction name -> column kernel ``(x, out, div)``."""
