"""The CUDA backend: the same kernel contract, compiled with ``@cuda.jit`` for a GPU.

Arrays live on the device: every method accepts host (NumPy) or device arrays, copies host
inputs to the device once, and returns device arrays, so a chain of ops never leaves the
GPU. ``to_numpy`` copies a result back. Work with a GPU kernel here: element-wise ops (complex
ones too, except ``kernel_table.NO_CUDA_COMPLEX``), sum/mean/prod/max/min of float32/float64
and sum/mean/prod of complex64/complex128, float and complex matmul, the softmax family, float convolution
and pooling with their gradients (``conv.py``), and SGD and Adam updates. Everything else
(other dtypes or reductions, argmax, select, general broadcasts, the other optimizers)
falls back to ``NumpyBackend`` on host copies of the operands, and
the results are copied back to the device: correct, but two transfers per op.

Under ``NUMBA_ENABLE_CUDASIM=1`` the same code runs on Numba's CPU simulator (slowly).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import config, cuda

from ..base import Array
from ..numpy_backend import (
    COMPLEX_DTYPES,
    INT_CHECKED,
    NumpyBackend,
    as_np_dtype,
    check_int_args,
    check_labels,
    compiled_kernel,
)
from . import elementwise, optim, reductions, softmax
from .conv import ConvKernelsCuda
from .matmul import MATMUL, TILE
from .rnn import RnnKernelsCuda

# A framework launches many kernels on small tensors (a bias, a loss): Numba's warning that a
# small grid under-uses the GPU would fire on nearly every op, so it is turned off.
config.CUDA_LOW_OCCUPANCY_WARNINGS = 0

_KERNEL_DTYPES = frozenset(np.dtype(t) for t in (
    np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32,
    np.uint64, np.float32, np.float64))
_FLOATS = frozenset((np.dtype(np.float32), np.dtype(np.float64)))
_UNARY_TABLES = (elementwise.UNARY_KERNELS, elementwise.COMPLEX_UNARY_KERNELS,
                 elementwise.CONVERT_UNARY_KERNELS)
_BINARY_TABLES = (elementwise.BINARY_KERNELS, elementwise.COMPLEX_BINARY_KERNELS,
                  elementwise.CONVERT_BINARY_KERNELS)


# -- transfers and launch configurations: the only place that knows about grids ------------
def is_device(a: Any) -> bool:
    """Whether ``a`` is a device array (real or simulated)."""
    return hasattr(a, "copy_to_host")


def to_device(a: Any) -> Array:
    """``a`` on the device (device arrays are returned as they are)."""
    if is_device(a):
        return a
    a = np.asarray(a)
    return cuda.to_device(a if a.flags.c_contiguous else a.copy(order="C"))


def to_numpy(a: Any) -> np.ndarray:
    """``a`` as a host ndarray (a copy if it is on the device)."""
    return a.copy_to_host() if is_device(a) else np.asarray(a)


MAX_GRID_Y = 65535
"""CUDA's limit on a grid's y (and z) extent."""


def _blocks(n: int, per_block: int) -> int:
    return max(1, -(-n // per_block))


def launch_2d(f: Any, out2: Array, *args: Any) -> None:
    """``f[grid, block](out2, *args)`` with one thread per element of 2-D ``out2``. A single
    row gets blocks one row high: a (32, 8) block would leave 7 of its 8 rows idle."""
    bx, by = elementwise.BLOCK
    if out2.shape[0] == 1:
        bx, by = bx * by, 1
    rows = min(_blocks(out2.shape[0], by), MAX_GRID_Y)  # the kernels loop over further rows
    f[(_blocks(out2.shape[1], bx), rows), (bx, by)](out2, *args)


def launch_rows(f: Any, rows: int, block: int, *args: Any) -> None:
    """``f`` with one block of ``block`` threads per row."""
    f[max(rows, 1), block](*args)


def launch_1d(f: Any, n: int, block: int, *args: Any) -> None:
    """``f`` with one thread per element of a length-``n`` array."""
    f[_blocks(n, block), block](*args)


def _as_2d(a: Array) -> Array:
    """Device array ``a`` viewed as (rows, last dim); 0-d and 1-d become one row.
    (``tuple(a.shape)``, here and below: the simulator's shapes reject negative indices.)"""
    if a.ndim == 2:
        return a
    if a.ndim < 2:
        return a.reshape((1, a.size))
    return a.reshape((a.size // tuple(a.shape)[-1], tuple(a.shape)[-1]))


def _flat(a: Array) -> Array:
    """Contiguous device array ``a`` as one row: operands of one shape need no 2-D grid."""
    return a.reshape((1, a.size))


def _operand(a: Array, shape: tuple[int, ...]) -> Array:
    """A binary kernel's 2-D device view of ``a`` broadcast to ``shape``: itself, one row,
    one column or 1 x 1 (the kernel indexes modulo its shape); any other broadcast is made
    on the host and copied (documented fallback)."""
    a = to_device(a)
    last = shape[-1] if shape else 1
    if tuple(a.shape) == shape:
        return _as_2d(a)
    if a.size == 1:
        return a.reshape((1, 1))
    if a.ndim and tuple(a.shape)[-1] == last and a.size == last:
        return a.reshape((1, last))
    padded = (1,) * (len(shape) - a.ndim) + tuple(a.shape)
    if padded[-1] == 1 and padded[:-1] == shape[:-1]:
        return a.reshape((a.size, 1))
    return _as_2d(to_device(np.ascontiguousarray(np.broadcast_to(to_numpy(a), shape))))


class CudaBackend(ConvKernelsCuda, RnnKernelsCuda, NumpyBackend):
    """GPU kernels from Numba's ``@cuda.jit``; results stay on the device (see module doc)."""

    name = "cuda"

    @staticmethod
    def to_numpy(a: Any) -> np.ndarray:
        """``a`` as a host ndarray."""
        return to_numpy(a)

    def _on_host(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """``NumpyBackend.<method>`` on host copies of the arrays; results back on the device."""
        host = [to_numpy(a) if is_device(a) else a for a in args]
        res = getattr(NumpyBackend, method)(self, *host, **kwargs)
        if isinstance(res, tuple):
            return tuple(None if r is None else to_device(r) for r in res)
        return to_device(res)

    # -- element-wise -----------------------------------------------------------------------
    def unary(self, fn: str, x: Array, out_dtype: np.dtype, param: float = 0.0) -> Array:
        """``fn`` applied to every element (names: ``kernel_table.UNARY``, ``CONVERT_UNARY``)."""
        x, out_dtype = to_device(x), as_np_dtype(out_dtype)
        f = compiled_kernel(_UNARY_TABLES, fn, (x.dtype,), out_dtype, _KERNEL_DTYPES)
        if f is None:
            return self._on_host("unary", fn, x, out_dtype, param)
        out = cuda.device_array(x.shape, dtype=out_dtype)
        if out.size:
            launch_2d(f, _flat(out), _flat(x), float(param))
        return out

    def binary(self, fn: str, x: Array, y: Array, out_dtype: np.dtype, param: float = 0.0) -> Array:
        """``fn(x, y)`` element-wise with NumPy broadcasting (names: ``kernel_table.BINARY``,
        ``CONVERT_BINARY``)."""
        x, y, out_dtype = to_device(x), to_device(y), as_np_dtype(out_dtype)
        # complex: a kernel of NO_CUDA_COMPLEX has none, and runs on the host
        f = compiled_kernel(_BINARY_TABLES, fn, (x.dtype, y.dtype), out_dtype, _KERNEL_DTYPES)
        if f is None:
            return self._on_host("binary", fn, x, y, out_dtype, param)
        if fn in INT_CHECKED and out_dtype.kind in "iu":  # copies y to the host: ints only
            check_int_args(fn, x, to_numpy(y), out_dtype)
        shape = np.broadcast_shapes(x.shape, y.shape)
        out = cuda.device_array(shape, dtype=out_dtype)
        if not out.size:
            return out
        if tuple(x.shape) == tuple(y.shape):
            launch_2d(f, _flat(out), _flat(x), _flat(y), float(param))
        else:
            launch_2d(f, _as_2d(out), _operand(x, shape), _operand(y, shape), float(param))
        return out

    # -- reductions -------------------------------------------------------------------------
    def reduce(self, fn: str, x: Array, axes: tuple[int, ...], keepdims: bool) -> Array:
        """Reduce over ``axes``: sum/mean/prod/max/min of floats and sum/mean/prod of complex
        numbers over trailing or leading axes run on the GPU (float64 or complex128 partial
        results); the rest on the host."""
        x, axes = to_device(x), tuple(sorted(axes))
        if not axes and (x.dtype in _KERNEL_DTYPES or x.dtype in COMPLEX_DTYPES):  # a copy
            return self.unary("identity", x, x.dtype)
        nd, k = x.ndim, math.prod(x.shape[a] for a in axes)
        trailing = axes == tuple(range(nd - len(axes), nd))
        leading = axes == tuple(range(len(axes)))
        row, col = reductions.kernels(fn, x.dtype)
        if row is None or not axes or x.size == 0 or not (trailing or leading):
            return self._on_host("reduce", fn, x, axes, keepdims)
        kept = tuple(x.shape[a] for a in range(nd) if a not in axes)
        out = cuda.device_array(math.prod(kept), dtype=x.dtype)
        div = float(k) if fn == "mean" else 1.0
        if trailing:
            x2 = x.reshape((x.size // k, k))
            launch_rows(row, x2.shape[0], reductions.BLOCK, x2, out, div)
        else:
            x2 = x.reshape((k, x.size // k))
            launch_1d(col, x2.shape[1], reductions.COL_BLOCK, x2, out, div)
        if keepdims:
            return out.reshape(tuple(1 if a in axes else x.shape[a] for a in range(nd)))
        return out.reshape(kept)

    # -- linear algebra ---------------------------------------------------------------------
    def matmul(self, a: Array, b: Array, transpose_a: bool = False, transpose_b: bool = False) -> Array:
        """Tiled GPU product for float or complex operands of one dtype whose batch shapes are
        equal, or one of them a single matrix (reused for every batch entry); other batch
        broadcasts run on the host."""
        a, b = to_device(a), to_device(b)
        if a.dtype != b.dtype or a.dtype not in MATMUL or a.ndim < 2 or b.ndim < 2:
            return self._on_host("matmul", a, b, transpose_a, transpose_b)
        ba, bb = tuple(a.shape)[:-2], tuple(b.shape)[:-2]
        za, zb = math.prod(ba), math.prod(bb)
        if ba != bb and za != 1 and zb != 1:
            return self._on_host("matmul", a, b, transpose_a, transpose_b)
        batch = ba if ba == bb else tuple(np.broadcast_shapes(ba, bb))
        z = math.prod(batch)
        a3 = a.reshape((za, *tuple(a.shape)[-2:]))  # the kernel reads a3[z % za]
        b3 = b.reshape((zb, *tuple(b.shape)[-2:]))
        m = a3.shape[2] if transpose_a else a3.shape[1]
        n = b3.shape[1] if transpose_b else b3.shape[2]
        k_a = a3.shape[1] if transpose_a else a3.shape[2]
        k_b = b3.shape[2] if transpose_b else b3.shape[1]
        if k_a != k_b:
            raise ValueError(f"matmul: inner dimensions differ ({k_a} vs {k_b})")
        if z > MAX_GRID_Y or _blocks(m, TILE) > MAX_GRID_Y:  # beyond one launch's grid
            return self._on_host("matmul", a, b, transpose_a, transpose_b)
        out = cuda.device_array((z, m, n), dtype=a.dtype)
        if out.size:
            grid = (_blocks(n, TILE), _blocks(m, TILE), z)
            MATMUL[a.dtype][grid, (TILE, TILE)](a3, b3, out, bool(transpose_a),
                                                 bool(transpose_b))
        return out.reshape((*batch, m, n))

    # -- softmax family (last axis) -----------------------------------------------------------
    def _rows_kernel(self, f: Any, method: str, x: Array) -> Array:
        x = to_device(x)
        if x.dtype not in _FLOATS or x.size == 0 or x.ndim == 0:
            return self._on_host(method, x)
        out = cuda.device_array(x.shape, dtype=x.dtype)
        x2 = _as_2d(x)
        launch_rows(f, x2.shape[0], softmax.BLOCK, x2, _as_2d(out))
        return out

    def softmax(self, x: Array) -> Array:
        """``exp(x - max) / sum(exp(x - max))`` over the last axis."""
        return self._rows_kernel(softmax.softmax_rows, "softmax", x)

    def log_softmax(self, x: Array) -> Array:
        """``x - max - log(sum(exp(x - max)))`` over the last axis."""
        return self._rows_kernel(softmax.log_softmax_rows, "log_softmax", x)

    def softmax_xent(self, logits: Array, labels: Array) -> tuple[Array, Array]:
        """``(-sum(labels * log_softmax(logits)), softmax(logits) - labels)``."""
        logits, labels = to_device(logits), to_device(labels)
        if (logits.dtype not in _FLOATS or logits.size == 0 or logits.ndim == 0
                or tuple(labels.shape) != tuple(logits.shape) or labels.dtype != logits.dtype):
            return self._on_host("softmax_xent", logits, labels)
        x2 = _as_2d(logits)
        loss = cuda.device_array(x2.shape[0], dtype=logits.dtype)
        grad = cuda.device_array(logits.shape, dtype=logits.dtype)
        launch_rows(softmax.xent_rows, x2.shape[0], softmax.BLOCK, x2, _as_2d(labels), loss,
                    _as_2d(grad))
        return loss.reshape(tuple(logits.shape)[:-1]), grad

    def sparse_softmax_xent(self, logits: Array, labels: Array) -> tuple[Array, Array]:
        """As ``softmax_xent`` with class ids ``labels``; a bad id raises ValueError (its
        check copies one flag, and on failure the labels, to the host)."""
        logits, labels = to_device(logits), to_device(labels)
        if logits.dtype not in _FLOATS or logits.size == 0 or labels.dtype.kind not in "iu":
            return self._on_host("sparse_softmax_xent", logits, labels)
        if tuple(labels.shape) != tuple(logits.shape)[:-1]:
            check_labels(to_numpy(labels), tuple(logits.shape))  # raises
        x2 = _as_2d(logits)
        loss = cuda.device_array(x2.shape[0], dtype=logits.dtype)
        grad = cuda.device_array(logits.shape, dtype=logits.dtype)
        bad = cuda.to_device(np.zeros(1, dtype=np.int32))
        launch_rows(softmax.sparse_xent_rows, x2.shape[0], softmax.BLOCK, x2,
                    labels.reshape((labels.size,)), loss, _as_2d(grad), bad)
        if bad.copy_to_host()[0]:
            check_labels(to_numpy(labels), tuple(logits.shape))  # raises, naming the bad label
        return loss.reshape(tuple(logits.shape)[:-1]), grad

    # -- fused optimizer updates ----------------------------------------------------------------
    def apply_gradient_descent(self, var: Array, grad: Array, lr: float) -> Array:
        """``var - lr * grad``."""
        var, grad = to_device(var), to_device(grad)
        if var.dtype not in _FLOATS or grad.dtype != var.dtype or var.shape != grad.shape:
            return self._on_host("apply_gradient_descent", var, grad, lr)
        out = cuda.device_array(var.shape, dtype=var.dtype)
        n, t = var.size, var.dtype.type
        if n:
            launch_1d(optim.sgd, n, optim.BLOCK, var.reshape((n,)), grad.reshape((n,)), t(lr),
                      out.reshape((n,)))
        return out

    def apply_adam(self, var: Array, m: Array, v: Array, grad: Array, lr: float, beta1: float,
                   beta2: float, epsilon: float, step: float) -> tuple[Array, Array, Array]:
        """Adam with Keras' bias correction (see ``Backend.apply_adam``)."""
        arrs = [to_device(a) for a in (var, m, v, grad)]
        if arrs[0].dtype not in _FLOATS or any(a.dtype != arrs[0].dtype or a.shape != arrs[0].shape
                                               for a in arrs):
            return self._on_host("apply_adam", *arrs, lr, beta1, beta2, epsilon, step)
        shape, n, t = arrs[0].shape, arrs[0].size, arrs[0].dtype.type
        outs = [cuda.device_array(shape, dtype=arrs[0].dtype) for _ in range(3)]
        alpha = float(lr) * math.sqrt(1.0 - beta2**step) / (1.0 - beta1**step)
        if n:
            flat = [a.reshape((n,)) for a in arrs + outs]
            launch_1d(optim.adam, n, optim.BLOCK, *flat[:4], t(alpha), t(1.0 - beta1),
                      t(1.0 - beta2), t(epsilon), *flat[4:])
        return outs[0], outs[1], outs[2]


def _host_method(name: str) -> Any:
    def method(self: CudaBackend, *args: Any, **kwargs: Any) -> Any:
        return self._on_host(name, *args, **kwargs)

    method.__name__ = name
    method.__doc__ = f"``NumpyBackend.{name}`` on host copies (no GPU kernel); results on device."
    return method


for _name in ("select", "argreduce", "apply_momentum", "apply_adagrad", "apply_rmsprop"):
    setattr(CudaBackend, _name, _host_method(_name))
