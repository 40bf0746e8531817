"""Complex64/complex128 on the Numba CPU backend: compiled element-wise kernels (the complex
rows of ``kernel_table``), the conversion kernels (complex <-> real: real, imag, abs, angle,
complex, casts), sum/mean/prod and matmul, against the NumPy reference, with the NumPy
fallback switched off so that a pass proves the compiled path ran. Which kernels need a
complex form is derived from the registry: every element-wise op whose dtype rule accepts
complex numbers."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import minitf as tf
from minitf import dtypes
from minitf.backends import kernel_table, numpy_backend
from minitf.backends.numba_cpu import NumbaBackend
from minitf.backends.numba_cpu import elementwise as ew
from minitf.backends.numpy_backend import NumpyBackend
from minitf.framework import registry

REF, NB, TILED = NumpyBackend(), NumbaBackend(), NumbaBackend(matmul="tiled")
C64, C128 = np.dtype(np.complex64), np.dtype(np.complex128)
TOL = {C64: {"rtol": 2e-6, "atol": 1e-6}, C128: {"rtol": 1e-12, "atol": 1e-13}}
BOOL_OUT = {"equal", "not_equal"}
CONVERT = set(kernel_table.CONVERT_UNARY) | set(kernel_table.CONVERT_BINARY)
TO_COMPLEX = {"to_complex", "complex"}  # the other conversion kernels: complex -> real
REAL_OF = {C64: np.dtype(np.float32), C128: np.dtype(np.float64)}


def _accepts_complex(opdef: registry.OpDef) -> bool:
    n = 2 if opdef.kernel in kernel_table.BINARY else 1
    try:
        opdef.infer([(2,)] * n, [dtypes.complex64] * n, {"alpha": 0.2})
    except registry.ShapeError:
        return False
    return True


def test_every_complex_op_has_complex_kernels():
    """An element-wise op defined on complex numbers has a complex kernel; the complex tables
    name only real kernels, and NO_CUDA_COMPLEX only complex ones."""
    ops = {t: d for t, d in registry.all_ops().items()
           if d.kernel is not None and d.kernel not in CONVERT}
    need = {d.kernel for d in ops.values() if _accepts_complex(d)}
    have = set(kernel_table.COMPLEX_UNARY) | set(kernel_table.COMPLEX_BINARY)
    assert need <= have, f"no complex kernel for {sorted(need - have)}"
    assert {"add", "multiply", "exp", "squared_difference"} <= need
    assert set(kernel_table.COMPLEX_UNARY) <= set(kernel_table.UNARY)
    assert set(kernel_table.COMPLEX_BINARY) <= set(kernel_table.BINARY)
    assert set(kernel_table.COMPLEX_DOC) == have
    assert set(kernel_table.NO_CUDA_COMPLEX) <= have


def test_conversion_kernels_are_a_third_table():
    """The conversion kernels have their own names (generated functions cannot clash), NumPy
    twins and generated registries, and their ops (the registry's, not a hand list) run
    unchanged on a device."""
    assert TO_COMPLEX < CONVERT
    assert not CONVERT & (set(kernel_table.UNARY) | set(kernel_table.BINARY))
    assert set(kernel_table.CONVERT_DOC) == CONVERT
    assert set(numpy_backend.CONVERT_UNARY) == set(kernel_table.CONVERT_UNARY)
    assert set(numpy_backend.CONVERT_BINARY) == set(kernel_table.CONVERT_BINARY)
    assert set(ew.CONVERT_UNARY_KERNELS) == set(kernel_table.CONVERT_UNARY)
    assert set(ew.CONVERT_BINARY_KERNELS) == set(kernel_table.CONVERT_BINARY)
    ops = {t: d for t, d in registry.all_ops().items() if d.kernel in CONVERT}
    assert set(ops) == {"Complex", "Real", "Imag", "ComplexAbs", "Angle"}
    assert all(d.device == "kernels" for d in ops.values())


@pytest.fixture
def no_numpy_fallback(monkeypatch):
    """Make NumbaBackend's fallback to the NumPy reference fail the test."""
    def refuse(name):
        def method(*args, **kwargs):
            raise AssertionError(f"NumbaBackend fell back to NumpyBackend.{name}")
        return method

    def patch():
        for name in ("unary", "binary", "reduce", "matmul"):
            monkeypatch.setattr(NumpyBackend, name, refuse(name))

    return patch


def _sample(rng, shape, dtype, name=""):
    lo = 0.3 if name in ("log", "log1p", "sqrt", "rsqrt", "pow") else -2.0
    z = rng.uniform(lo, 2.0, shape) + 1j * rng.uniform(-2.0, 2.0, shape)
    return z.astype(dtype)


def _close(got, want, dtype):
    assert got.shape == want.shape and got.dtype == want.dtype
    if got.dtype.kind == "c":
        np.testing.assert_allclose(got, want, **TOL[dtype])
    else:
        np.testing.assert_array_equal(got, want)


CASES = [(n, d) for n in list(kernel_table.COMPLEX_UNARY) + list(kernel_table.COMPLEX_BINARY)
         for d in (C64, C128)]


@pytest.mark.parametrize(("name", "dtype"), CASES, ids=str)
def test_complex_kernel_matches_reference(name, dtype, no_numpy_fallback):
    rng = np.random.default_rng(0)
    binary = name in kernel_table.COMPLEX_BINARY
    out = np.dtype(bool) if name in BOOL_OUT else dtype
    x = _sample(rng, (3, 8), dtype, name)[:, ::2]  # non-contiguous
    y = _sample(rng, (4,), dtype, name)  # broadcast as a row
    if name in BOOL_OUT:
        y[1] = x[0, 1]  # one equal pair
    want = REF.binary(name, x, y, out) if binary else REF.unary(name, x, out)
    no_numpy_fallback()
    got = NB.binary(name, x, y, out) if binary else NB.unary(name, x, out)
    _close(got, want, dtype)


CONVERT_CASES = [(n, d) for n in sorted(CONVERT) for d in (C64, C128)]


@pytest.mark.parametrize(("name", "dtype"), CONVERT_CASES, ids=str)
def test_conversion_kernel_matches_reference(name, dtype, no_numpy_fallback):
    """complex64 <-> float32, complex128 <-> float64 (the ops' rules); a non-contiguous
    operand, and for ``complex`` a row broadcast."""
    rng = np.random.default_rng(3)
    z = _sample(rng, (3, 8), dtype)[:, ::2]
    if name in TO_COMPLEX:
        args, out = ([z.real] if name == "to_complex" else [z.real, z.imag[0]]), dtype
    else:
        args, out = [z], REAL_OF[dtype]
    want = (REF.binary if len(args) == 2 else REF.unary)(name, *args, out)
    no_numpy_fallback()
    got = (NB.binary if len(args) == 2 else NB.unary)(name, *args, out)
    assert got.dtype == want.dtype == out
    tol = 2e-7 if out in (C64, np.float32) else 1e-15  # hypot, atan2: an ulp or so
    np.testing.assert_allclose(got, want, rtol=tol, atol=0)


def test_conversions_keep_extremes(no_numpy_fallback):
    """|z| and angle(z) follow C99's hypot and atan2 (Python's math, the oracle) on signed
    zeros, infinities, NaN and parts whose squares would overflow or underflow; complex(x, y)
    sets each part exactly (x + 1j * y gives nan + inf j for y = inf)."""
    v = [0.0, -0.0, 1.0, -3.0, math.inf, -math.inf, math.nan, 1e-300, 1e300, 0.7, 1.5]
    re, im = (a.ravel() for a in np.meshgrid(v, v))
    z = np.empty(re.shape, C128)
    z.real, z.imag = re, im
    want_abs = [math.hypot(a, b) for a, b in zip(re, im, strict=True)]
    want_angle = [math.atan2(b, a) for a, b in zip(re, im, strict=True)]
    z64 = np.array([2e38 + 1e38j, 1e-30 + 1e-30j], C64)
    no_numpy_fallback()
    np.testing.assert_allclose(NB.unary("complex_abs", z, np.float64), want_abs, rtol=1e-15)
    got = NB.unary("angle", z, np.float64)
    np.testing.assert_allclose(got, want_angle, rtol=1e-15)
    assert (np.signbit(got) == np.signbit(want_angle))[~np.isnan(got)].all()  # -0.0, -pi
    np.testing.assert_allclose(NB.unary("complex_abs", z64, np.float32),
                               [5**0.5 * 1e38, 2**0.5 * 1e-30], rtol=2e-7)
    x, y = np.array([1.0, np.inf], np.float32), np.array([np.inf, -0.0], np.float32)
    c = NB.binary("complex", x, y, C64)
    np.testing.assert_array_equal(c.real, x)
    np.testing.assert_array_equal(c.imag, y)
    assert np.signbit(c.imag[1])


def test_complex_ops_run_the_conversion_kernels(no_numpy_fallback):
    """tf.complex, real, imag, abs and angle on the Numba backend call the compiled kernels
    with the ops' result dtypes."""
    previous = tf.config.get_backend()
    tf.config.set_backend("numba")
    try:
        z = np.array([[3 - 4j, -1j]], C128)
        t = tf.constant(z)
        no_numpy_fallback()
        outs = [tf.math.real(t), tf.math.imag(t), tf.abs(t), tf.math.angle(t),
                tf.complex(tf.math.real(t), tf.math.imag(t))]
    finally:
        tf.config.set_backend(previous)
    assert [o.dtype for o in outs] == [tf.float64] * 4 + [tf.complex128]
    for o, w in zip(outs, [z.real, z.imag, np.abs(z), np.angle(z), z], strict=True):
        np.testing.assert_allclose(o.numpy(), w, rtol=1e-15)


def test_complex_special_values(no_numpy_fallback):
    z = np.array([1 + 2j, 0, -3j, 1e-30 + 1e-30j], C64)
    zero = np.zeros(4, C64)
    with np.errstate(all="ignore"):
        want_div, want_rec = z / zero, 1 / zero
    no_numpy_fallback()
    # Numba's own complex division raises ZeroDivisionError here; the kernels give NumPy's.
    np.testing.assert_array_equal(NB.binary("divide", z, zero, C64), want_div)
    np.testing.assert_array_equal(NB.unary("reciprocal", zero, C64), want_rec)
    np.testing.assert_allclose(NB.unary("sign", z, C64), [(1 + 2j) / 5**0.5, 0, -1j,
                                                           (1 + 1j) / 2**0.5], rtol=1e-6)
    d = NB.binary("squared_difference", z, np.complex64(1 - 1j), C64)
    np.testing.assert_allclose(d.real, np.abs(z - (1 - 1j)) ** 2, rtol=1e-6)
    assert not d.imag.any()
    np.testing.assert_array_equal(NB.unary("identity", z, C128), z.astype(C128))


def test_complex_to_real_keeps_the_real_part():
    """A complex operand with a real result (a cast) is not a complex kernel: the real part."""
    z = np.array([1.5 + 2j, -3j], C64)
    np.testing.assert_array_equal(NB.unary("identity", z, np.float32), [1.5, 0.0])


@pytest.mark.parametrize("dtype", [C64, C128], ids=str)
def test_complex_reductions(dtype, no_numpy_fallback):
    rng = np.random.default_rng(1)
    x = (_sample(rng, (2, 3, 4), dtype) * 0.6).astype(dtype)  # products stay near 1
    xt = x.transpose(2, 0, 1)  # non-contiguous
    axes_list = [c for r in (1, 2, 3) for c in itertools.combinations(range(3), r)]
    want = [(REF.reduce(fn, a, axes, keep), (fn, axes, keep))
            for fn in ("sum", "mean", "prod") for a in (x, xt) for axes in axes_list
            for keep in (False, True)]
    no_numpy_fallback()
    i = 0
    for fn in ("sum", "mean", "prod"):
        for a in (x, xt):
            for axes in axes_list:
                for keep in (False, True):
                    w, what = want[i]
                    i += 1
                    got = NB.reduce(fn, a, axes, keep)
                    assert got.dtype == dtype, what
                    np.testing.assert_allclose(got, w, rtol=1e-5 if dtype == C64 else 1e-12,
                                               err_msg=str(what))


# the tiled kernel in complex64 only: compiling its parallel loops takes seconds per dtype
@pytest.mark.parametrize(("dtype", "be"), [(C64, NB), (C128, NB), (C64, TILED)],
                         ids=["blas-complex64", "blas-complex128", "tiled-complex64"])
def test_complex_matmul(dtype, be, no_numpy_fallback):
    rng = np.random.default_rng(2)
    a, b = _sample(rng, (5, 7), dtype), _sample(rng, (7, 3), dtype)
    want = [REF.matmul(a, b), REF.matmul(a, b.T.copy(), transpose_b=True)]
    if be is TILED:  # the tiled kernel also takes batches (one product per batch entry)
        a3 = np.stack([a, a[::-1]])
        want.append(REF.matmul(a3, b))
    no_numpy_fallback()
    got = [be.matmul(a, b), be.matmul(a, b.T.copy(), transpose_b=True)]
    if be is TILED:
        got.append(be.matmul(a3, b))
    for g, w in zip(got, want, strict=True):
        assert g.dtype == dtype
        np.testing.assert_allclose(g, w, rtol=1e-5 if dtype == C64 else 1e-12)
