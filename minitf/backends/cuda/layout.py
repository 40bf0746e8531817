"""Data-movement kernels: fill an array with one value, swap the last two axes.

Both are typed at their first launch for each dtype (no shared memory whose type must be
known in advance), so one kernel serves floats, integers and bools.
"""

from __future__ import annotations

from numba import config, cuda

BLOCK = 32 if config.ENABLE_CUDASIM else 256
"""Threads per block of ``fill``."""

TILE = 4 if config.ENABLE_CUDASIM else 16
"""``transpose_last2`` blocks are TILE x TILE threads (smaller under the simulator)."""


@cuda.jit
def fill(out, value):
    """``out[i] = value`` for every element of 1-D ``out`` (one thread each)."""
    i = cuda.grid(1)
    if i < out.shape[0]:
        out[i] = value


@cuda.jit
def transpose_last2(x, out):
    """``out[z, j, i] = x[z, i, j]`` for (Z, M, N) ``x``: thread (j, i) of block z's grid
    layer. Neighbouring threads read neighbouring columns of ``x`` (coalesced); their writes
    are strided, which a shared-memory tile would fix at the cost of one kernel per dtype."""
    j, i = cuda.grid(2)
    z = cuda.blockIdx.z
    if i < x.shape[1] and j < x.shape[2]:
        out[z, j, i] = x[z, i, j]
