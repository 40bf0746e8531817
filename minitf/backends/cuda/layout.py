"""Data-movement kernels: fill an array with one value, swap the last two axes, swap the
first two.

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


@cuda.jit
def swap_leading(x, out):
    """``out[j, i, k] = x[i, j, k]`` for 3-D ``x`` (grid-stride: any grid size). Neighbouring
    threads read and write neighbouring ``k``: both coalesced when the last axis is long."""
    a, b, c = x.shape
    for q in range(cuda.grid(1), a * b * c, cuda.gridsize(1)):
        i, rest = q // (b * c), q % (b * c)
        j, k = rest // c, rest % c
        out[j, i, k] = x[i, j, k]


def swap01(x):
    """A new device array: ``x`` (C-contiguous, 2-D or more) with its first two axes swapped
    (``np.swapaxes(x, 0, 1)``, e.g. batch-major <-> time-major sequences)."""
    shape = tuple(x.shape)
    rest = 1
    for d in shape[2:]:
        rest *= d
    out = cuda.device_array((shape[1], shape[0]) + shape[2:], dtype=x.dtype)
    if x.size:
        blocks = max(1, min(-(-x.size // BLOCK), 1024))
        swap_leading[blocks, BLOCK](x.reshape((shape[0], shape[1], rest)),
                                    out.reshape((shape[1], shape[0], rest)))
    return out
