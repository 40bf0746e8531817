"""The reference backend: every kernel as a short NumPy expression.

This is the readable definition the compiled backends are tested against. Each element-wise
function mirrors the expression of the same name in ``kernel_table.py`` (a table entry without
a twin here runs that scalar expression on every element: slow, but the same formula, so a
new element-wise op works on this backend from its table row alone); results are cast to
the dtype the caller asks for, and floating-point errors (division by zero, overflow, log of
a negative number) give NumPy's inf/NaN without warnings, as TensorFlow's kernels do.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from . import kernel_table
from .base import Array, Backend
from .conv_numpy import ConvKernelsNumpy
from .optim_numpy import OptimizerKernelsNumpy
from .rnn_numpy import RnnKernelsNumpy


def _sigmoid(x: Array) -> Array:
    # exp(-|x|) never overflows; the two branches are the same function rewritten.
    if np.iscomplexobj(x):  # no order on complex numbers: the plain formula
        return 1 / (1 + np.exp(-x))
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _squared_difference(x: Array, y: Array) -> Array:
    d = np.subtract(x, y)
    if np.iscomplexobj(d):  # (x - y) * conj(x - y) = |x - y|², imaginary part exactly 0
        return (np.square(d.real) + np.square(d.imag)).astype(d.dtype)
    return np.square(d)


def _complex(x: Array, y: Array) -> Array:
    """``x + iy`` with both parts set exactly (``x + 1j * y`` gives nan + inf j for y = inf)."""
    x, y = np.asarray(x), np.asarray(y)
    z = np.empty(np.broadcast_shapes(x.shape, y.shape),
                 np.result_type(x.dtype, y.dtype, np.complex64))
    z.real, z.imag = x, y
    return z


class _Twins(dict):
    """Kernel name -> NumPy function; an entry of ``kernel_table`` with no hand-written twin
    gets its scalar expression applied element by element (``np.frompyfunc``)."""

    def __init__(self, twins: dict[str, Callable[..., Array]], binary: bool,
                 kind: str = "real") -> None:
        super().__init__(twins)
        self.binary, self.kind = binary, kind

    def __missing__(self, name: str) -> Callable[..., Array]:
        exprs = kernel_table.exprs(self.binary, self.kind)
        if name not in exprs:
            raise KeyError(name)
        args = "x, y, p" if self.binary else "x, p"
        scalar = eval(f"lambda {args}: {exprs[name]}", {"math": math, "np": np})  # the table's
        fn = self[name] = np.frompyfunc(scalar, 3 if self.binary else 2, 1)
        return fn


UNARY: dict[str, Callable[[Array, float], Array]] = _Twins({
    "negative": lambda x, p: np.negative(x),
    "abs": lambda x, p: np.abs(x),
    "sign": lambda x, p: np.sign(x),
    "square": lambda x, p: np.square(x),
    "sqrt": lambda x, p: np.sqrt(x),
    "rsqrt": lambda x, p: 1.0 / np.sqrt(x),
    "reciprocal": lambda x, p: 1.0 / x,
    "exp": lambda x, p: np.exp(x),
    "expm1": lambda x, p: np.expm1(x),
    "log": lambda x, p: np.log(x),
    "log1p": lambda x, p: np.log1p(x),
    "sin": lambda x, p: np.sin(x),
    "cos": lambda x, p: np.cos(x),
    "tanh": lambda x, p: np.tanh(x),
    "sigmoid": lambda x, p: _sigmoid(x),
    "relu": lambda x, p: np.maximum(x, 0),
    "relu6": lambda x, p: np.minimum(np.maximum(x, 0), 6),
    "softplus": lambda x, p: np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x))),
    "elu": lambda x, p: np.where(x > 0, x, np.expm1(x)),
    "leaky_relu": lambda x, p: np.where(x > 0, x, p * x),
    "floor": lambda x, p: np.floor(x),
    "ceil": lambda x, p: np.ceil(x),
    "round": lambda x, p: np.rint(x),  # half to even
    "logical_not": lambda x, p: np.logical_not(x),
    "identity": lambda x, p: np.array(x, copy=True),
    "conj": lambda x, p: np.conj(x),
}, binary=False)
"""Unary kernel name -> ``f(x, p)``; the same names and meaning as ``kernel_table.UNARY``."""

BINARY: dict[str, Callable[[Array, Array, float], Array]] = _Twins({
    "add": lambda x, y, p: np.add(x, y),
    "subtract": lambda x, y, p: np.subtract(x, y),
    "multiply": lambda x, y, p: np.multiply(x, y),
    "divide": lambda x, y, p: np.true_divide(x, y),
    "floordiv": lambda x, y, p: np.floor_divide(x, y),
    "floormod": lambda x, y, p: np.remainder(x, y),  # sign of y, as Python's %
    "pow": lambda x, y, p: np.power(x, y),
    "maximum": lambda x, y, p: np.maximum(x, y),
    "minimum": lambda x, y, p: np.minimum(x, y),
    "squared_difference": lambda x, y, p: _squared_difference(x, y),
    "equal": lambda x, y, p: np.equal(x, y),
    "not_equal": lambda x, y, p: np.not_equal(x, y),
    "less": lambda x, y, p: np.less(x, y),
    "less_equal": lambda x, y, p: np.less_equal(x, y),
    "greater": lambda x, y, p: np.greater(x, y),
    "greater_equal": lambda x, y, p: np.greater_equal(x, y),
    "logical_and": lambda x, y, p: np.logical_and(x, y),
    "logical_or": lambda x, y, p: np.logical_or(x, y),
    # Gradient kernels: TensorFlow's argument order, see kernel_table.py.
    "relu_grad": lambda g, x, p: np.where(x > 0, g, 0),
    "relu6_grad": lambda g, x, p: np.where((x > 0) & (x < 6), g, 0),
    "leaky_relu_grad": lambda g, x, p: np.where(x > 0, g, p * g),
    "elu_grad": lambda g, y, p: np.where(y > 0, g, g * (y + 1)),
    "sigmoid_grad": lambda y, g, p: g * y * (1 - y),
    "tanh_grad": lambda y, g, p: g * (1 - y * y),
    "sqrt_grad": lambda y, g, p: 0.5 * g / y,
    "rsqrt_grad": lambda y, g, p: -0.5 * g * y * y * y,
    "reciprocal_grad": lambda y, g, p: -g * y * y,
    "softplus_grad": lambda g, x, p: g * _sigmoid(x),
}, binary=True)
"""Binary kernel name -> ``f(x, y, p)``; the same names and meaning as ``kernel_table.BINARY``."""

CONVERT_UNARY: dict[str, Callable[[Array, float], Array]] = _Twins({
    "real": lambda x, p: np.real(x),
    "imag": lambda x, p: np.imag(x),
    "complex_abs": lambda x, p: np.abs(x),  # hypot(re, im)
    "angle": lambda x, p: np.angle(x),
    "to_complex": lambda x, p: np.asarray(x),  # the cast to the complex out_dtype does it
}, binary=False, kind="convert")
"""Conversion kernel name -> ``f(x, p)``, as ``kernel_table.CONVERT_UNARY``."""

CONVERT_BINARY: dict[str, Callable[[Array, Array, float], Array]] = _Twins({
    "complex": lambda x, y, p: _complex(x, y),
}, binary=True, kind="convert")
"""Binary conversion kernel name -> ``f(x, y, p)``, as ``kernel_table.CONVERT_BINARY``."""

_REDUCERS: dict[str, Callable[..., Any]] = {
    "sum": np.sum, "mean": np.mean, "max": np.max, "min": np.min, "prod": np.prod,
    "any": np.any, "all": np.all,
}


def as_np_dtype(dtype: Any) -> np.dtype:
    """``dtype`` as a NumPy dtype (accepts NumPy dtypes, scalar types and ``tf.float32``)."""
    return np.dtype(getattr(dtype, "as_numpy_dtype", dtype))


def kernel(table: dict[str, Any], fn: str) -> Any:
    """``table[fn]``, or a ValueError listing the known kernel names."""
    try:
        return table[fn]
    except KeyError:
        raise ValueError(f"Unknown kernel {fn!r}; known: {', '.join(sorted(table))}") from None


COMPLEX_DTYPES = frozenset((np.dtype(np.complex64), np.dtype(np.complex128)))
"""The complex dtypes the compiled backends have kernels for."""


def complex_kernel(table: dict, fn: str, dtypes: tuple[np.dtype, ...], out_dtype: np.dtype) -> Any:
    """The complex kernel ``table[fn]`` when every operand is complex and the result is
    complex (or bool, from a binary kernel: a comparison), else None: a complex operand cast
    to a real dtype keeps its real part, which the NumPy path does."""
    if not all(d in COMPLEX_DTYPES for d in dtypes):
        return None
    if out_dtype.kind != "c" and not (out_dtype.kind == "b" and len(dtypes) == 2):
        return None
    try:
        return table[fn]
    except KeyError:  # no complex form: the NumPy path gives the result or the error
        return None


CONVERT_DTYPES = frozenset(np.dtype(t) for t in (np.float32, np.float64, np.complex64,
                                                np.complex128))
"""The dtypes the compiled conversion kernels take and give."""


def _twin(fn: str, binary: bool) -> Callable[..., Array]:
    """The NumPy function of kernel ``fn``: a conversion kernel's or an element-wise one's."""
    if fn in kernel_table.exprs(binary, "convert"):
        return (CONVERT_BINARY if binary else CONVERT_UNARY)[fn]
    return kernel(BINARY if binary else UNARY, fn)


def compiled_kernel(tables: tuple[dict, dict, dict], fn: str, dtypes: tuple[np.dtype, ...],
                    out_dtype: np.dtype, kernel_dtypes: frozenset) -> Any:
    """A compiled backend's kernel ``fn`` for operands of ``dtypes`` and an ``out_dtype``
    result, from its ``tables`` (real, complex and conversion kernels of one arity), or None
    where the NumPy reference runs it instead. Real kernels take ``kernel_dtypes``; complex
    ones see ``complex_kernel``; a conversion kernel takes complex operands to a real result
    or real ones to a complex result (``CONVERT_DTYPES``). An unknown name is a ValueError."""
    real, cplx, convert = tables
    if fn in kernel_table.exprs(len(dtypes) == 2, "convert"):
        to_complex = out_dtype.kind == "c"
        ok = out_dtype in CONVERT_DTYPES and all(
            d in CONVERT_DTYPES and (d.kind == "c") != to_complex for d in dtypes)
        return convert[fn] if ok else None
    f = kernel(real, fn)
    if out_dtype in kernel_dtypes and all(d in kernel_dtypes for d in dtypes):
        return f
    return complex_kernel(cplx, fn, dtypes, out_dtype)


def check_int_args(fn: str, x: Array, y: Array, out_dtype: np.dtype) -> None:
    """Raise as TensorFlow does for integer operands a kernel would silently get wrong: a
    negative integer power, and ``//`` or ``%`` by zero (NumPy gives 0). One check per call
    over ``y``, only for integer dtypes, so float kernels pay nothing."""
    if out_dtype.kind not in "iu":
        return
    if fn == "pow" and np.asarray(y).dtype.kind == "i" and np.any(np.asarray(y) < 0):
        raise ValueError("Integers to negative integer powers are not allowed.")
    if fn in ("floordiv", "floormod") and np.any(np.asarray(y) == 0):
        raise ValueError("Integer division by zero")


def _empty_identity(fn: str, dtype: np.dtype) -> Any:
    """What TF's ``fn`` (mean, max or min) gives over no elements of ``dtype``."""
    if fn == "mean":
        return np.nan if dtype.kind in "fc" else 0
    if dtype.kind == "b":
        return fn == "min"
    # the reducer's identity: the dtype's lowest/highest value, -3.4e38 and not -inf for a
    # float32 max (tensorflow/tensorflow#3510)
    info = np.finfo(dtype) if dtype.kind in "fc" else np.iinfo(dtype)
    return info.min if fn == "max" else info.max


INT_CHECKED = frozenset(("pow", "floordiv", "floormod"))
"""The binary kernels ``check_int_args`` looks at (a device backend copies y to the host)."""


def check_labels(labels: Array, logits_shape: tuple[int, ...]) -> None:
    """Raise ValueError unless ``labels`` has shape ``logits_shape[:-1]`` and every label is
    in ``[0, classes)``; the message names the first bad label."""
    labels = np.asarray(labels)
    classes = logits_shape[-1]
    if labels.shape != tuple(logits_shape[:-1]):
        raise ValueError(f"labels of shape {labels.shape} do not match logits of shape "
                         f"{tuple(logits_shape)}: expected {tuple(logits_shape[:-1])}")
    bad = (labels < 0) | (labels >= classes)
    if np.any(bad):
        value = labels[bad].flat[0]
        raise ValueError(f"Received a label value of {value} which is outside the valid range "
                         f"of [0, {classes}).")


def accumulator_dtype(fn: str, dtype: np.dtype) -> np.dtype:
    """The dtype reduction ``fn`` of ``dtype`` values accumulates in: float64 for every mean
    and float sum/prod, int64/uint64 for integer (and bool) sum/prod, complex128 for complex
    sum/mean/prod, else ``dtype``."""
    if dtype.kind == "c" and fn in ("sum", "mean", "prod"):
        return np.dtype(np.complex128)
    if fn == "mean" or (fn in ("sum", "prod") and dtype.kind == "f"):
        return np.dtype(np.float64)
    if fn in ("sum", "prod") and dtype.kind in "biu":
        return np.dtype(np.uint64 if dtype.kind == "u" else np.int64)
    return dtype


class NumpyBackend(ConvKernelsNumpy, OptimizerKernelsNumpy, RnnKernelsNumpy, Backend):
    """The reference backend: plain NumPy, single-threaded except inside BLAS."""

    name = "numpy"

    # -- element-wise -----------------------------------------------------------------------
    def unary(self, fn: str, x: Array, out_dtype: np.dtype, param: float = 0.0) -> Array:
        """``fn`` applied to every element (names: ``kernel_table.UNARY``, ``CONVERT_UNARY``)."""
        f = _twin(fn, binary=False)
        out_dtype = as_np_dtype(out_dtype)
        with np.errstate(all="ignore"):
            y = np.asarray(f(np.asarray(x), float(param)))
        if y.dtype.kind == "c" and out_dtype.kind != "c":  # a cast: keep the real part, as TF
            y = y.real
        return y.astype(out_dtype, copy=False)

    def binary(self, fn: str, x: Array, y: Array, out_dtype: np.dtype, param: float = 0.0) -> Array:
        """``fn(x, y)`` element-wise with NumPy broadcasting (names: ``kernel_table.BINARY``,
        ``CONVERT_BINARY``)."""
        f = _twin(fn, binary=True)
        out_dtype = as_np_dtype(out_dtype)
        x, y = np.asarray(x), np.asarray(y)
        if fn in INT_CHECKED:
            check_int_args(fn, x, y, out_dtype)
        with np.errstate(all="ignore"):
            return np.asarray(f(x, y, float(param))).astype(out_dtype, copy=False)

    def select(self, cond: Array, x: Array, y: Array) -> Array:
        """``x`` where ``cond`` else ``y``, broadcasting all three."""
        return np.where(cond, x, y)

    # -- reductions -------------------------------------------------------------------------
    def reduce(self, fn: str, x: Array, axes: tuple[int, ...], keepdims: bool) -> Array:
        """Reduce over ``axes``; the result keeps ``x``'s dtype.

        Float sum/mean/prod accumulate in float64. The mean of integers is the float64 mean
        truncated toward zero (``int(-1.5) == -1``), which is TensorFlow's integer division.
        A reduction over nothing gives TF's identity of its reducer, without NumPy's warnings
        or errors: the mean is NaN for floats and 0 for integers, the max is the dtype's lowest
        value (-3.4e38 for float32, not -inf), the min its highest.
        """
        x = np.asarray(x)
        if not axes:
            return x.copy()
        f = kernel(_REDUCERS, fn)
        if fn in ("mean", "max", "min") and 0 in (x.shape[a] for a in axes):
            shape = np.sum(x, axis=tuple(axes), keepdims=keepdims).shape
            return np.full(shape, _empty_identity(fn, x.dtype), dtype=x.dtype)
        kw = {"dtype": accumulator_dtype(fn, x.dtype)} if fn in ("sum", "mean", "prod") else {}
        r = f(x, axis=tuple(axes), keepdims=keepdims, **kw)
        with np.errstate(over="ignore"):  # a float32 sum past float32's range is inf, as TF
            return np.asarray(r).astype(x.dtype, copy=False)

    def argreduce(self, fn: str, x: Array, axis: int, out_dtype: np.dtype) -> Array:
        """Index of the max (``fn='argmax'``) or min (``'argmin'``) along ``axis``."""
        f = kernel({"argmax": np.argmax, "argmin": np.argmin}, fn)
        return np.asarray(f(x, axis=axis)).astype(as_np_dtype(out_dtype), copy=False)

    # -- linear algebra ---------------------------------------------------------------------
    def matmul(self, a: Array, b: Array, transpose_a: bool = False, transpose_b: bool = False) -> Array:
        """Matrix product of the last two axes; leading (batch) axes broadcast."""
        a, b = np.asarray(a), np.asarray(b)
        if transpose_a:
            a = np.swapaxes(a, -1, -2)
        if transpose_b:
            b = np.swapaxes(b, -1, -2)
        return np.matmul(a, b)

    # -- softmax family (last axis) -----------------------------------------------------------
    @staticmethod
    def _shifted(x: Array) -> tuple[Array, Array]:
        """``(x - max, log(sum(exp(x - max))))`` over the last axis; the sum in float64."""
        z = x - np.max(x, axis=-1, keepdims=True)
        s = np.sum(np.exp(z), axis=-1, keepdims=True, dtype=np.float64)
        return z, np.log(s).astype(x.dtype)

    def softmax(self, x: Array) -> Array:
        """``exp(x - max) / sum(exp(x - max))`` over the last axis."""
        x = np.asarray(x)
        with np.errstate(all="ignore"):
            z, lse = self._shifted(x)
            return np.exp(z - lse).astype(x.dtype, copy=False)

    def log_softmax(self, x: Array) -> Array:
        """``x - max - log(sum(exp(x - max)))`` over the last axis."""
        x = np.asarray(x)
        with np.errstate(all="ignore"):
            z, lse = self._shifted(x)
            return (z - lse).astype(x.dtype, copy=False)

    def softmax_xent(self, logits: Array, labels: Array) -> tuple[Array, Array]:
        """``(-sum(labels * log_softmax(logits)), softmax(logits) - labels)``."""
        logits = np.asarray(logits)
        labels = np.asarray(labels)
        dt = logits.dtype
        with np.errstate(all="ignore"):
            z, lse = self._shifted(logits)
            logp = z - lse
            loss = -np.sum(labels * logp, axis=-1, dtype=np.float64)
            return loss.astype(dt), (np.exp(logp) - labels).astype(dt, copy=False)

    def sparse_softmax_xent(self, logits: Array, labels: Array) -> tuple[Array, Array]:
        """As ``softmax_xent`` with class ids ``labels`` (shape ``logits.shape[:-1]``)."""
        logits = np.asarray(logits)
        labels = np.asarray(labels)
        check_labels(labels, logits.shape)
        idx = labels.astype(np.intp)[..., None]
        with np.errstate(all="ignore"):
            z, lse = self._shifted(logits)
            logp = z - lse
            loss = -np.take_along_axis(logp, idx, axis=-1)[..., 0]
            grad = np.exp(logp)
            np.put_along_axis(grad, idx, np.take_along_axis(grad, idx, axis=-1) - 1, axis=-1)
        return loss.astype(logits.dtype, copy=False), grad.astype(logits.dtype, copy=False)
