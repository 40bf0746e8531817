"""The Numba CPU backend: the reference backend's kernels, compiled.

Element-wise ops, reductions, the softmax family and the optimizer updates run as ``@njit``
kernels (cached on disk, so only the first run of a new dtype/layout compiles); complex64
and complex128 operands have their own element-wise kernels (``kernel_table``'s complex
rows) and sum/mean/prod kernels. Matrix products go to BLAS through ``np.matmul`` unless
``NumbaBackend(matmul="tiled")`` asks for the hand-written kernel. Everything else (argmax,
select, and any dtype Numba does not handle: float16, strings) is inherited from
``NumpyBackend``.
"""

from __future__ import annotations

import math

import numpy as np

from ..base import Array
from ..numpy_backend import (
    COMPLEX_DTYPES,
    INT_CHECKED,
    NumpyBackend,
    accumulator_dtype,
    as_np_dtype,
    check_int_args,
    check_labels,
    compiled_kernel,
    kernel,
)
from . import reductions, workers
from .conv import ConvKernelsNumba
from .conv_pool import ConvPoolKernelsNumba
from .elementwise import (
    BINARY_KERNELS,
    COMPLEX_BINARY_KERNELS,
    COMPLEX_UNARY_KERNELS,
    CONVERT_BINARY_KERNELS,
    CONVERT_UNARY_KERNELS,
    UNARY_KERNELS,
)
from .matmul import matmul_tiled
from .optim import OptimizerKernelsNumba
from .rnn import RnnKernelsNumba
from .softmax import log_softmax_rows, softmax_rows, sparse_xent_rows, xent_rows

# dtypes the generated kernels compile for; others take the NumPy path.
_KERNEL_DTYPES = frozenset(np.dtype(t) for t in (
    np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32,
    np.uint64, np.float32, np.float64))
_FLOATS = frozenset((np.dtype(np.float32), np.dtype(np.float64)))
_MATMUL_DTYPES = _FLOATS | COMPLEX_DTYPES  # split over the workers (BLAS), or the tiled kernel
_COMPLEX_REDUCTIONS = frozenset(("sum", "mean", "prod"))  # the ones TF defines on complex
_UNARY_TABLES = (UNARY_KERNELS, COMPLEX_UNARY_KERNELS, CONVERT_UNARY_KERNELS)
_BINARY_TABLES = (BINARY_KERNELS, COMPLEX_BINARY_KERNELS, CONVERT_BINARY_KERNELS)



def as_2d(a: Array) -> Array:
    """``a`` viewed as (rows, last dim): 0-d -> (1, 1), 1-d -> (1, n). ``reshape`` copies only
    when the strides cannot be merged (e.g. a broadcast middle axis). ``a`` must be non-empty."""
    if a.ndim == 2:
        return a
    if a.ndim < 2:
        return a.reshape(1, -1)
    return a.reshape(-1, a.shape[-1])


def _broadcast_shape(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    """``np.broadcast_shapes(a, b)``, answering the common cases (equal shapes, or one shape
    a suffix of the other) without its ~1.5 us of overhead."""
    if a == b or (len(b) <= len(a) and a[len(a) - len(b):] == b):
        return a
    if len(a) <= len(b) and b[len(b) - len(a):] == a:
        return b
    return np.broadcast_shapes(a, b)


def _operand(a: Array, shape: tuple[int, ...]) -> Array:
    """A binary kernel's 2-D view of ``a`` broadcast to ``shape``.

    The cases are ordered by cost (measured on a (32, 128) + (128,) add): an operand of the
    output's shape is used as it is; one that broadcasts along rows only (a bias) is passed
    as a single row, which the kernel reuses (~0.1 us); anything else becomes a stride-0
    ``np.broadcast_to`` view (~2.5 us, and its strides keep the kernel from vectorising).
    """
    if a.shape == shape:
        return as_2d(a)
    if a.ndim and a.shape[-1] == shape[-1] and a.size == a.shape[-1]:
        return a.reshape(1, -1)
    return as_2d(np.broadcast_to(a, shape))


def _rows(x: Array) -> Array:
    """``x`` as C-contiguous (rows, classes) for the softmax kernels."""
    return np.ascontiguousarray(x.reshape(-1, x.shape[-1]))


class NumbaBackend(ConvPoolKernelsNumba, ConvKernelsNumba, OptimizerKernelsNumba, RnnKernelsNumba,
                   NumpyBackend):
    """Numba-compiled CPU kernels. ``matmul="blas"`` (default) or ``"tiled"``."""

    name = "numba"

    def __init__(self, matmul: str = "blas") -> None:
        if matmul not in ("blas", "tiled"):
            raise ValueError(f"matmul must be 'blas' or 'tiled', not {matmul!r}")
        self.matmul_kind = matmul

    # -- element-wise -----------------------------------------------------------------------
    def unary(self, fn: str, x: Array, out_dtype: np.dtype, param: float = 0.0) -> Array:
        """``fn`` applied to every element (names: ``kernel_table.UNARY``, ``CONVERT_UNARY``)."""
        x = np.asarray(x)
        out_dtype = as_np_dtype(out_dtype)
        f = compiled_kernel(_UNARY_TABLES, fn, (x.dtype,), out_dtype, _KERNEL_DTYPES)
        if f is None:
            return super().unary(fn, x, out_dtype, param)
        out = np.empty(x.shape, dtype=out_dtype)
        if out.size:
            f(as_2d(out), as_2d(x), float(param))
        return out

    def binary(self, fn: str, x: Array, y: Array, out_dtype: np.dtype, param: float = 0.0) -> Array:
        """``fn(x, y)`` element-wise with NumPy broadcasting (names: ``kernel_table.BINARY``,
        ``CONVERT_BINARY``)."""
        x, y = np.asarray(x), np.asarray(y)
        out_dtype = as_np_dtype(out_dtype)
        f = compiled_kernel(_BINARY_TABLES, fn, (x.dtype, y.dtype), out_dtype, _KERNEL_DTYPES)
        if f is None:
            return super().binary(fn, x, y, out_dtype, param)
        if fn in INT_CHECKED:
            check_int_args(fn, x, y, out_dtype)
        shape = _broadcast_shape(x.shape, y.shape)
        out = np.empty(shape, dtype=out_dtype)
        if out.size:
            f(as_2d(out), _operand(x, shape), _operand(y, shape), float(param))
        return out

    # -- reductions -------------------------------------------------------------------------
    def reduce(self, fn: str, x: Array, axes: tuple[int, ...], keepdims: bool) -> Array:
        """Reduce over ``axes``; the result keeps ``x``'s dtype (see ``NumpyBackend.reduce``)."""
        row_kernel = kernel(reductions.ROW, fn)
        x = np.asarray(x)
        compiled = x.dtype in _KERNEL_DTYPES or (x.dtype in COMPLEX_DTYPES
                                                 and fn in _COMPLEX_REDUCTIONS)
        if not axes or x.size == 0 or not compiled:
            # Empty inputs (max of nothing raises, sum gives 0) keep NumPy's exact behaviour.
            return super().reduce(fn, x, axes, keepdims)
        axes = tuple(sorted(axes))
        kept = tuple(a for a in range(x.ndim) if a not in axes)
        kept_shape = tuple(x.shape[a] for a in kept)
        k = math.prod(x.shape[a] for a in axes)
        acc_dtype = accumulator_dtype(fn, x.dtype)
        if kept and axes == tuple(range(len(axes))):
            res = self._reduce_leading(fn, x.reshape(k, -1), acc_dtype)
        else:
            x2 = x.transpose(kept + axes).reshape(-1, k)
            res = np.empty(x2.shape[0], dtype=acc_dtype)
            row_kernel(x2, res)
        if fn == "mean":
            res = res / k  # float64; integer means truncate toward zero in the cast below
        if res.dtype.kind == "f" and res.dtype.itemsize > x.dtype.itemsize:
            narrowed = np.empty(res.shape, dtype=x.dtype)
            reductions.narrow(res, narrowed)  # past float32's range: inf, as TF, no warning
            res = narrowed
        else:
            res = res.astype(x.dtype, copy=False)
        if keepdims:
            return res.reshape(tuple(1 if a in axes else x.shape[a] for a in range(x.ndim)))
        return res.reshape(kept_shape)

    @staticmethod
    def _reduce_leading(fn: str, x2: Array, acc_dtype: np.dtype) -> Array:
        """Reduce (K, B) over K with a column kernel (no transpose)."""
        if fn in ("max", "min"):
            out = x2[0].copy()
        elif fn in ("prod", "all"):
            out = np.ones(x2.shape[1], dtype=acc_dtype)
        else:
            out = np.zeros(x2.shape[1], dtype=acc_dtype)
        reductions.COL[fn](x2, out)
        return out

    # -- linear algebra ---------------------------------------------------------------------
    def matmul(self, a: Array, b: Array, transpose_a: bool = False, transpose_b: bool = False) -> Array:
        """Matrix product of the last two axes; leading (batch) axes broadcast."""
        a, b = np.asarray(a), np.asarray(b)
        dtype = np.result_type(a, b)
        if self.matmul_kind == "blas":
            # BLAS on one thread (its own threads would spin after each product and slow the
            # kernels that run next); a large product is split over our workers instead
            if a.ndim == b.ndim == 2 and a.dtype == b.dtype and dtype in _MATMUL_DTYPES:
                a = a.T if transpose_a else a
                b = b.T if transpose_b else b
                return workers.matmul(a, b, np.empty((a.shape[0], b.shape[1]), dtype=dtype))
            with workers.single_threaded_blas():
                return super().matmul(a, b, transpose_a, transpose_b)
        if dtype not in _MATMUL_DTYPES or a.ndim < 2 or b.ndim < 2:
            return super().matmul(a, b, transpose_a, transpose_b)
        if transpose_a:
            a = np.swapaxes(a, -1, -2)
        if transpose_b:
            b = np.swapaxes(b, -1, -2)
        if a.ndim == 2 and b.ndim == 2:
            return matmul_tiled(a, b)
        # Batches: one tiled product per broadcast batch index (views, nothing copied).
        batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        a = np.broadcast_to(a, batch + a.shape[-2:])
        b = np.broadcast_to(b, batch + b.shape[-2:])
        out = np.empty(batch + (a.shape[-2], b.shape[-1]), dtype=dtype)
        for idx in np.ndindex(*batch):
            out[idx] = matmul_tiled(a[idx], b[idx])
        return out

    # -- softmax family (last axis) -----------------------------------------------------------
    def softmax(self, x: Array) -> Array:
        """``exp(x - max) / sum(exp(x - max))`` over the last axis."""
        x = np.asarray(x)
        if x.dtype not in _FLOATS or x.size == 0:
            return super().softmax(x)
        x2 = _rows(x)
        out = np.empty_like(x2)
        softmax_rows(x2, out)
        return out.reshape(x.shape)

    def log_softmax(self, x: Array) -> Array:
        """``x - max - log(sum(exp(x - max)))`` over the last axis."""
        x = np.asarray(x)
        if x.dtype not in _FLOATS or x.size == 0:
            return super().log_softmax(x)
        x2 = _rows(x)
        out = np.empty_like(x2)
        log_softmax_rows(x2, out)
        return out.reshape(x.shape)

    def softmax_xent(self, logits: Array, labels: Array) -> tuple[Array, Array]:
        """``(-sum(labels * log_softmax(logits)), softmax(logits) - labels)``."""
        logits = np.asarray(logits)
        if logits.dtype not in _FLOATS or logits.size == 0:
            return super().softmax_xent(logits, labels)
        x2 = _rows(logits)
        lab = _rows(np.broadcast_to(np.asarray(labels, dtype=logits.dtype), logits.shape))
        loss = np.empty(x2.shape[0], dtype=logits.dtype)
        grad = np.empty_like(x2)
        xent_rows(x2, lab, loss, grad)
        return loss.reshape(logits.shape[:-1]), grad.reshape(logits.shape)

    def sparse_softmax_xent(self, logits: Array, labels: Array) -> tuple[Array, Array]:
        """As ``softmax_xent`` with class ids ``labels``; a bad id raises ValueError."""
        logits, labels = np.asarray(logits), np.asarray(labels)
        if logits.dtype not in _FLOATS or logits.size == 0 or labels.dtype.kind not in "iu":
            return super().sparse_softmax_xent(logits, labels)
        if labels.shape != logits.shape[:-1]:
            check_labels(labels, logits.shape)  # raises; the kernel would read out of bounds
        x2 = _rows(logits)
        loss = np.empty(x2.shape[0], dtype=logits.dtype)
        grad = np.empty_like(x2)
        if sparse_xent_rows(x2, np.ascontiguousarray(labels.reshape(-1)), loss, grad) >= 0:
            check_labels(labels, logits.shape)  # raises, naming the bad label
        return loss.reshape(logits.shape[:-1]), grad.reshape(logits.shape)
