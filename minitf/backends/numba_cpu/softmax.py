"""Softmax-family row kernels: each reads a row of logits (M, C) once for its max, once for
the sum of ``exp(x - max)`` (in float64), and writes its outputs in a final pass.

Subtracting the row max keeps every ``exp`` argument <= 0, so nothing overflows; the
cross-entropy uses ``log(sum) - (x - max)`` (log-sum-exp) instead of ``log(softmax)``,
which would give -inf once a probability underflows to 0.
"""

from __future__ import annotations

import math

from numba import njit


@njit(cache=True)
def _max_and_sum(row):
    """``(max(row), sum(exp(row - max)))`` with a float64 sum."""
    m = row[0]
    for j in range(row.shape[0]):
        m = max(m, row[j])
    s = 0.0
    for j in range(row.shape[0]):
        s += math.exp(row[j] - m)
    return m, s


@njit(cache=True)
def softmax_rows(x, out):
    """``out[i] = exp(x[i] - max) / sum(exp(x[i] - max))``."""
    for i in range(x.shape[0]):
        row, orow = x[i], out[i]
        m, s = _max_and_sum(row)
        for j in range(row.shape[0]):
            orow[j] = math.exp(row[j] - m) / s


@njit(cache=True)
def log_softmax_rows(x, out):
    """``out[i] = x[i] - max - log(sum(exp(x[i] - max)))``."""
    for i in range(x.shape[0]):
        row, orow = x[i], out[i]
        m, s = _max_and_sum(row)
        lse = math.log(s)
        for j in range(row.shape[0]):
            orow[j] = (row[j] - m) - lse


@njit(cache=True)
def xent_rows(x, labels, loss, grad):
    """``loss[i] = sum_j labels[i, j] * (lse - (x[i, j] - max))``;
    ``grad[i] = softmax(x[i]) - labels[i]``."""
    for i in range(x.shape[0]):
        row, lab, grow = x[i], labels[i], grad[i]
        m, s = _max_and_sum(row)
        lse = math.log(s)
        acc = 0.0
        for j in range(row.shape[0]):
            z = row[j] - m
            acc += lab[j] * (lse - z)
            grow[j] = math.exp(z) / s - lab[j]
        loss[i] = acc


@njit(cache=True)
def sparse_xent_rows(x, labels, loss, grad):
    """As ``xent_rows`` with one class id per row. Returns the first row whose id is outside
    ``[0, C)`` (its outputs are left unwritten), or -1 when all are valid."""
    n = x.shape[1]
    for i in range(x.shape[0]):
        c = labels[i]
        if c < 0 or c >= n:
            return i
        row, grow = x[i], grad[i]
        m, s = _max_and_sum(row)
        loss[i] = math.log(s) - (row[c] - m)
        for j in range(n):
            grow[j] = math.exp(row[j] - m) / s
        grow[c] -= 1.0
    return -1
