"""Reduction kernels: rows of an (M, K) array to (M,), or the leading axis of (K, B) to (B,).

The backend moves the reduced axes last and reshapes to (M, K) for the row kernels. When the
reduced axes are the leading ones (a bias gradient sums (batch, units) over the batch) it
instead views the array as (K, B) and uses a column kernel, which needs no transpose: it adds
whole contiguous rows into B accumulators at once, a loop LLVM vectorises.

Every kernel writes into ``out``; its dtype is the accumulator's (the backend passes float64
for float sums, int64 for integer ones, and casts afterwards). Column kernels expect ``out``
to hold the identity (0 for sum, 1 for prod, False/True for any/all, ``x[0]`` for max/min).
"""

from __future__ import annotations

import math

from numba import njit

# max/min select the larger value and track NaN in a separate flag instead of branching on
# ``v > acc or isnan(v)``: straight-line code that LLVM vectorises (2.7x faster, measured).
# Sums and products may reassociate: that lets LLVM keep several partial sums in SIMD lanes
# instead of one serial chain (6x faster on 47M floats, measured). Only the order of the
# additions changes, as in NumPy's pairwise sum; NaN and inf handling is untouched.
_REASSOC = {"reassoc"}


@njit(cache=True, fastmath=_REASSOC)
def row_sum(x, out):
    """``out[i] = sum(x[i, :])`` accumulated in ``out.dtype``."""
    for i in range(x.shape[0]):
        row = x[i]
        acc = out.dtype.type(0)
        for j in range(row.shape[0]):
            acc += row[j]
        out[i] = acc


@njit(cache=True, fastmath=_REASSOC)
def row_prod(x, out):
    """``out[i] = prod(x[i, :])`` accumulated in ``out.dtype``."""
    for i in range(x.shape[0]):
        row = x[i]
        acc = out.dtype.type(1)
        for j in range(row.shape[0]):
            acc *= row[j]
        out[i] = acc


@njit(cache=True)
def row_max(x, out):
    """``out[i] = max(x[i, :])``; NaN if the row has one (K >= 1)."""
    for i in range(x.shape[0]):
        row = x[i]
        acc = row[0]
        seen_nan = False
        for j in range(row.shape[0]):
            v = row[j]
            acc = max(acc, v)
            seen_nan |= math.isnan(v)
        out[i] = acc
        if seen_nan:  # a statement, not a ternary: that would turn int64 results into floats
            out[i] = math.nan


@njit(cache=True)
def row_min(x, out):
    """``out[i] = min(x[i, :])``; NaN if the row has one (K >= 1)."""
    for i in range(x.shape[0]):
        row = x[i]
        acc = row[0]
        seen_nan = False
        for j in range(row.shape[0]):
            v = row[j]
            acc = min(acc, v)
            seen_nan |= math.isnan(v)
        out[i] = acc
        if seen_nan:  # a statement, not a ternary: that would turn int64 results into floats
            out[i] = math.nan


@njit(cache=True)
def row_any(x, out):
    """``out[i] = any(x[i, :])``, stopping at the first true element."""
    for i in range(x.shape[0]):
        row = x[i]
        acc = False
        for j in range(row.shape[0]):
            if row[j]:
                acc = True
                break
        out[i] = acc


@njit(cache=True)
def row_all(x, out):
    """``out[i] = all(x[i, :])``, stopping at the first false element."""
    for i in range(x.shape[0]):
        row = x[i]
        acc = True
        for j in range(row.shape[0]):
            if not row[j]:
                acc = False
                break
        out[i] = acc


@njit(cache=True)
def col_sum(x, out):
    """``out[b] += sum(x[:, b])``."""
    for k in range(x.shape[0]):
        row = x[k]
        for b in range(row.shape[0]):
            out[b] += row[b]


@njit(cache=True)
def col_prod(x, out):
    """``out[b] *= prod(x[:, b])``."""
    for k in range(x.shape[0]):
        row = x[k]
        for b in range(row.shape[0]):
            out[b] *= row[b]


@njit(cache=True)
def col_max(x, out):
    """``out[b] = max(out[b], max(x[:, b]))``, NaN-propagating."""
    for k in range(x.shape[0]):
        row = x[k]
        for b in range(row.shape[0]):
            v, o = row[b], out[b]
            out[b] = v if (v > o or math.isnan(v)) else o


@njit(cache=True)
def col_min(x, out):
    """``out[b] = min(out[b], min(x[:, b]))``, NaN-propagating."""
    for k in range(x.shape[0]):
        row = x[k]
        for b in range(row.shape[0]):
            v, o = row[b], out[b]
            out[b] = v if (v < o or math.isnan(v)) else o


@njit(cache=True)
def col_any(x, out):
    """``out[b] = out[b] or any(x[:, b])``."""
    for k in range(x.shape[0]):
        row = x[k]
        for b in range(row.shape[0]):
            out[b] = out[b] or row[b]


@njit(cache=True)
def col_all(x, out):
    """``out[b] = out[b] and all(x[:, b])``."""
    for k in range(x.shape[0]):
        row = x[k]
        for b in range(row.shape[0]):
            out[b] = out[b] and row[b]


ROW = {"sum": row_sum, "mean": row_sum, "prod": row_prod, "max": row_max, "min": row_min,
       "any": row_any, "all": row_all}
"""Reduction name -> row kernel (mean is a float64 sum, divided by the caller)."""

COL = {"sum": col_sum, "mean": col_sum, "prod": col_prod, "max": col_max, "min": col_min,
       "any": col_any, "all": col_all}
"""Reduction name -> column kernel (``out`` must start at the identity, see the module doc)."""


@njit(cache=True)
def narrow(src, dst):
    """``dst[:] = src`` for a float64 accumulator into float32 ``dst``: a sum past float32's
    range becomes inf, as in TF, without the RuntimeWarning NumPy's cast gives (and without
    ``np.errstate``, ~1-3 us per reduction)."""
    for i in range(src.shape[0]):
        dst[i] = src[i]
