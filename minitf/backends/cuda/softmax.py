"""Softmax-family row kernels: one block of ``BLOCK`` threads per row of (M, C) logits.

The threads of a row stride over its C entries and combine their partial results in shared
memory by a tree reduction, twice: once for the row max, once for ``sum(exp(x - max))``
(both in float64). Then each thread writes its entries. Subtracting the max keeps every
``exp`` argument <= 0; cross-entropies use ``log(sum) - (x - max)`` (log-sum-exp), as the
CPU kernels do.
"""

from __future__ import annotations

import math

from numba import config, cuda, float64

BLOCK = 16 if config.ENABLE_CUDASIM else 128  # smaller under the simulator (see reductions)
"""Threads per row (a power of two, for the tree)."""


@cuda.jit(device=True)
def _max(a, b):
    """The larger of a and b; NaN if a is (the builtin ``max`` does not compile for PTX
    without a GPU driver present)."""
    return a if (a > b or math.isnan(a)) else b


@cuda.jit(device=True)
def _block_reduce(sh, value, use_max):
    """Every thread's ``value`` combined (max or sum) over the block, returned to all."""
    t = cuda.threadIdx.x
    sh[t] = value
    cuda.syncthreads()
    s = BLOCK // 2
    while s > 0:
        if t < s:
            sh[t] = _max(sh[t], sh[t + s]) if use_max else sh[t] + sh[t + s]
        cuda.syncthreads()
        s //= 2
    r = sh[0]
    cuda.syncthreads()  # everyone has read sh[0] before sh is reused
    return r


@cuda.jit(device=True)
def _max_and_sum(x, i, sh):
    """``(max(x[i]), sum(exp(x[i] - max)))`` in float64, for the whole block."""
    t = cuda.threadIdx.x
    m0 = float64(x[i, 0])
    for j in range(t, x.shape[1], BLOCK):
        m0 = _max(m0, float64(x[i, j]))
    m = _block_reduce(sh, m0, True)
    s0 = 0.0
    for j in range(t, x.shape[1], BLOCK):
        s0 += math.exp(x[i, j] - m)
    return m, _block_reduce(sh, s0, False)


@cuda.jit
def softmax_rows(x, out):
    """``out[i] = exp(x[i] - max) / sum(exp(x[i] - max))``."""
    sh = cuda.shared.array(BLOCK, float64)
    i = cuda.blockIdx.x
    m, s = _max_and_sum(x, i, sh)
    for j in range(cuda.threadIdx.x, x.shape[1], BLOCK):
        out[i, j] = math.exp(x[i, j] - m) / s


@cuda.jit
def log_softmax_rows(x, out):
    """``out[i] = x[i] - max - log(sum(exp(x[i] - max)))``."""
    sh = cuda.shared.array(BLOCK, float64)
    i = cuda.blockIdx.x
    m, s = _max_and_sum(x, i, sh)
    lse = math.log(s)
    for j in range(cuda.threadIdx.x, x.shape[1], BLOCK):
        out[i, j] = (x[i, j] - m) - lse


@cuda.jit
def xent_rows(x, labels, loss, grad):
    """``loss[i] = sum_j labels[i, j] * (lse - (x[i, j] - max))``;
    ``grad[i] = softmax(x[i]) - labels[i]``."""
    sh = cuda.shared.array(BLOCK, float64)
    i = cuda.blockIdx.x
    m, s = _max_and_sum(x, i, sh)
    lse = math.log(s)
    acc = 0.0
    for j in range(cuda.threadIdx.x, x.shape[1], BLOCK):
        z = x[i, j] - m
        acc += labels[i, j] * (lse - z)
        grad[i, j] = math.exp(z) / s - labels[i, j]
    total = _block_reduce(sh, acc, False)
    if cuda.threadIdx.x == 0:
        loss[i] = total


@cuda.jit
def sparse_xent_rows(x, labels, loss, grad, bad):
    """As ``xent_rows`` with one class id per row. A row whose id is outside ``[0, C)`` is
    left unwritten and sets ``bad[0] = 1``."""
    sh = cuda.shared.array(BLOCK, float64)
    i = cuda.blockIdx.x
    c = labels[i]
    if c < 0 or c >= x.shape[1]:  # the same for the whole block, so no barrier is skipped
        bad[0] = 1
        return
    m, s = _max_and_sum(x, i, sh)
    for j in range(cuda.threadIdx.x, x.shape[1], BLOCK):
        grad[i, j] = math.exp(x[i, j] - m) / s - (1.0 if j == c else 0.0)
    if cuda.threadIdx.x == 0:
        loss[i] = math.log(s) - (x[i, c] - m)
