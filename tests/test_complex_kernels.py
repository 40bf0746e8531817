"""Complex64/complex128 on the Numba CPU backend: compiled element-wise kernels (the complex
rows of ``kernel_table``), sum/mean/prod and matmul, against the NumPy reference, with the
NumPy fallback switched off so that a pass proves the compiled path ran. Which kernels need a
complex form is derived from the registry: every element-wise op whose dtype rule accepts
complex numbers."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from minitf import dtypes
from minitf.backends import kernel_table
from minitf.backends.numba_cpu import NumbaBackend
from minitf.backends.numpy_backend import NumpyBackend
from minitf.framework import registry

REF, NB, TILED = NumpyBackend(), NumbaBackend(), NumbaBackend(matmul="tiled")
C64, C128 = np.dtype(np.complex64), np.dtype(np.complex128)
TOL = {C64: {"rtol": 2e-6, "atol": 1e-6}, C128: {"rtol": 1e-12, "atol": 1e-13}}
BOOL_OUT = {"equal", "not_equal"}


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
    ops = {t: d for t, d in registry.all_ops().items() if d.kernel is not None}
    need = {d.kernel for d in ops.values() if _accepts_complex(d)}
    have = set(kernel_table.COMPLEX_UNARY) | set(kernel_table.COMPLEX_BINARY)
    assert need <= have, f"no complex kernel for {sorted(need - have)}"
    assert {"add", "multiply", "exp", "squared_difference"} <= need
    assert set(kernel_table.COMPLEX_UNARY) <= set(kernel_table.UNARY)
    assert set(kernel_table.COMPLEX_BINARY) <= set(kernel_table.BINARY)
    assert set(kernel_table.COMPLEX_DOC) == have
    assert set(kernel_table.NO_CUDA_COMPLEX) <= have


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
