"""Kernel-level tests: the Numba backend agrees with the NumPy reference backend.

Every element-wise kernel of ``kernel_table`` is run on both backends for float32, float64
and (where the op is defined on them) int32 and bool inputs, over broadcasting and
non-contiguous layouts; then reductions over every axis combination, the softmax family,
the three matmul implementations, and the generated-code freshness check.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from minitf.backends import codegen, kernel_table
from minitf.backends import numpy_backend as npb_module
from minitf.backends.numba_cpu import NumbaBackend
from minitf.backends.numba_cpu import elementwise as ew
from minitf.backends.numba_cpu import matmul as nmm
from minitf.backends.numpy_backend import NumpyBackend

REF = NumpyBackend()
NB = NumbaBackend()
TILED = NumbaBackend(matmul="tiled")
F32, F64, I32 = np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.int32)
BOOL = np.dtype(np.bool_)

COMPARISONS = {"equal", "not_equal", "less", "less_equal", "greater", "greater_equal"}
LOGICAL = {"logical_and", "logical_or", "logical_not"}
UNARY_INT = {"negative", "abs", "sign", "square", "relu", "identity"}
BINARY_INT = {"add", "subtract", "multiply", "floordiv", "floormod", "pow", "maximum",
              "minimum", "squared_difference", "relu_grad"} | COMPARISONS

# Operand ranges inside each kernel's domain: (low, high) per operand, default (-3, 3).
DOMAIN: dict[str, tuple[tuple[float, float], ...]] = {
    "sqrt": ((0.01, 4.0),), "rsqrt": ((0.01, 4.0),), "log": ((0.01, 4.0),),
    "log1p": ((-0.9, 4.0),), "reciprocal": ((0.1, 3.0),),
    "sigmoid": ((-40.0, 40.0),), "softplus": ((-40.0, 40.0),),
    "divide": ((-3, 3), (0.1, 3.0)), "floordiv": ((-9, 9), (0.3, 3.0)),
    "floormod": ((-9, 9), (0.3, 3.0)), "pow": ((0.1, 3.0), (-2.0, 2.0)),
    "sigmoid_grad": ((0.01, 0.99), (-3, 3)), "tanh_grad": ((-0.9, 0.9), (-3, 3)),
    "sqrt_grad": ((0.1, 3.0), (-3, 3)), "elu_grad": ((-3, 3), (-0.99, 3.0)),
    "relu6_grad": ((-3, 3), (-2.0, 8.0)), "relu6": ((-2.0, 8.0),),
}
INT_DOMAIN: dict[str, tuple[tuple[int, int], ...]] = {
    "floordiv": ((-9, 10), (1, 4)), "floormod": ((-9, 10), (1, 4)), "pow": ((-3, 4), (0, 4)),
}

UNARY_SHAPES = [(), (7,), (3, 4), (2, 3, 4)]
BINARY_SHAPES = [((3, 4), (4,)), ((3, 1), (1, 4)), ((), ()), ((), (5,)), ((2, 3, 4), (3, 1)),
                 ((4,), (2, 3, 4)), ((6,), (6,))]


def sample(rng: np.random.Generator, name: str, which: int, dtype: np.dtype,
           shape: tuple[int, ...]) -> np.ndarray:
    """An operand for kernel ``name`` (operand ``which``) inside its domain."""
    if dtype == BOOL:
        return rng.random(shape) < 0.5
    if dtype.kind == "i":
        lo, hi = INT_DOMAIN.get(name, ((-5, 6), (-5, 6)))[which]
        v = rng.integers(lo, hi, size=shape)
        if name in ("floordiv", "floormod") and which == 1:
            v = v * rng.choice([-1, 1], size=shape)  # divisors of both signs, never 0
        return v.astype(dtype)
    if name in COMPARISONS or name in ("maximum", "minimum", "sign"):
        return rng.integers(-2, 3, size=shape).astype(dtype)  # ties and zeros happen
    if name == "round":
        return (rng.integers(-8, 9, size=shape) / 2).astype(dtype)  # exact halves
    lo, hi = DOMAIN.get(name, ((-3.0, 3.0), (-3.0, 3.0)))[which]
    v = rng.uniform(lo, hi, size=shape)
    if name in ("floordiv", "floormod") and which == 1:
        v = v * rng.choice([-1, 1], size=shape)
    return v.astype(dtype)


def dtypes_for(name: str, unary: bool) -> list[np.dtype]:
    if name in LOGICAL:
        return [BOOL]
    out = [F32, F64]
    if name in (UNARY_INT if unary else BINARY_INT):
        out.append(I32)
    if name in ("equal", "not_equal"):
        out.append(BOOL)
    return out


def assert_same(got: np.ndarray, want: np.ndarray) -> None:
    """Same shape and dtype; equal for ints/bools, close for floats (1-2 ulp libm noise)."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape
    assert got.dtype == want.dtype
    if got.dtype.kind == "f":
        tol = {"rtol": 1e-5, "atol": 1e-6} if got.dtype == F32 else {"rtol": 1e-12, "atol": 1e-13}
        np.testing.assert_allclose(got, want, equal_nan=True, **tol)
    else:
        np.testing.assert_array_equal(got, want)


# -- element-wise ---------------------------------------------------------------------------


def test_tables_agree():
    """The generated kernels are the table's; the NumPy backend has a hand-written twin of
    most (an entry without one runs its scalar expression element by element)."""
    assert set(npb_module.UNARY) <= set(kernel_table.UNARY) == set(ew.UNARY_KERNELS)
    assert set(npb_module.BINARY) <= set(kernel_table.BINARY) == set(ew.BINARY_KERNELS)
    assert set(kernel_table.DOC) == set(kernel_table.UNARY) | set(kernel_table.BINARY)


def test_generated_file_is_current():
    assert codegen.check(), "run: python -m minitf.backends.codegen"


UNARY_CASES = [(n, d) for n in kernel_table.UNARY for d in dtypes_for(n, unary=True)]
BINARY_CASES = [(n, d) for n in kernel_table.BINARY for d in dtypes_for(n, unary=False)]


@pytest.mark.parametrize(("name", "dtype"), UNARY_CASES, ids=lambda v: str(v))
def test_unary_matches_reference(name, dtype):
    rng = np.random.default_rng(0)
    for shape in UNARY_SHAPES:
        x = sample(rng, name, 0, dtype, shape)
        assert_same(NB.unary(name, x, dtype, 0.3), REF.unary(name, x, dtype, 0.3))
    # Non-contiguous views, 2-D (used as they are) and 3-D (reshaped, so copied).
    x = sample(rng, name, 0, dtype, (4, 10))[::2, 1::3]
    assert_same(NB.unary(name, x, dtype, 0.3), REF.unary(name, x, dtype, 0.3))
    x = sample(rng, name, 0, dtype, (3, 4, 5)).transpose(2, 0, 1)
    assert_same(NB.unary(name, x, dtype, 0.3), REF.unary(name, x, dtype, 0.3))


@pytest.mark.parametrize(("name", "dtype"), BINARY_CASES, ids=lambda v: str(v))
def test_binary_matches_reference(name, dtype):
    rng = np.random.default_rng(1)
    out_dtype = BOOL if name in COMPARISONS or name in LOGICAL else dtype
    for sx, sy in BINARY_SHAPES:
        x, y = sample(rng, name, 0, dtype, sx), sample(rng, name, 1, dtype, sy)
        got = NB.binary(name, x, y, out_dtype, 0.3)
        assert_same(got, REF.binary(name, x, y, out_dtype, 0.3))
        assert got.shape == np.broadcast_shapes(sx, sy)
    # Non-contiguous x (a strided slice) against a transposed y.
    x = sample(rng, name, 0, dtype, (3, 8))[:, ::2]
    y = sample(rng, name, 1, dtype, (4, 3)).T
    assert_same(NB.binary(name, x, y, out_dtype, 0.3), REF.binary(name, x, y, out_dtype, 0.3))


def test_dtype_is_the_callers():
    x = np.array([2**31 - 1, 5], np.int32)
    out = NB.binary("add", x, np.int32(1), I32)
    assert out.dtype == I32 and out[0] == -(2**31)  # wraps like NumPy's int32
    assert NB.binary("less", x, x, bool).dtype == BOOL
    assert NB.unary("sqrt", np.float32([4.0]), np.float32).dtype == F32
    assert NB.binary("divide", np.int32([7]), np.int32([2]), F64)[0] == 3.5


@pytest.mark.parametrize("backend", [REF, NB], ids=["numpy", "numba"])
def test_special_values_without_warnings(backend):
    f = np.array([1.0, -1.0, 0.0, 2.5], np.float32)
    z = np.zeros(4, np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(backend.binary("divide", f, z, F32)[:2], [np.inf, -np.inf])
        assert np.isnan(backend.binary("divide", z, z, F32)).all()
        assert np.isnan(backend.binary("floormod", f, z, F32)).all()
        assert np.isnan(backend.unary("log", np.float32([-1.0]), F32)).all()
        assert backend.unary("log", np.float32([0.0]), F32)[0] == -np.inf
        big = np.array([-1000.0, 1000.0], np.float32)
        np.testing.assert_array_equal(backend.unary("sigmoid", big, F32), [0.0, 1.0])
        np.testing.assert_array_equal(backend.unary("softplus", big, F32), [0.0, 1000.0])
        np.testing.assert_array_equal(backend.binary("softplus_grad", np.ones(2, F32), big, F32),
                                      [0.0, 1.0])
    nan = np.float32([np.nan, 1.0])
    assert np.isnan(backend.binary("maximum", nan, nan[::-1], F32)).all()
    assert np.isnan(backend.binary("minimum", nan, nan[::-1], F32)).all()
    assert np.isnan(backend.unary("relu", nan, F32)[0])
    np.testing.assert_array_equal(backend.unary("round", np.float32([0.5, 1.5, -2.5, 2.6]), F32),
                                  [0.0, 2.0, -2.0, 3.0])
    np.testing.assert_array_equal(backend.binary("floormod", np.int32([-7, 7]),
                                                 np.int32([2, -2]), I32), [1, -1])
    np.testing.assert_array_equal(backend.binary("floordiv", np.float64([-7.5]),
                                                 np.float64([2.0]), F64), [-4.0])


@pytest.mark.parametrize("backend", [REF, NB], ids=["numpy", "numba"])
@pytest.mark.parametrize("fn", ["floordiv", "floormod"])
def test_integer_division_by_zero_raises(backend, fn):
    with pytest.raises(ValueError, match="Integer division by zero"):
        backend.binary(fn, np.int32([7, -7]), np.int32([1, 0]), I32)
    with pytest.raises(ValueError, match="Integer division by zero"):  # a broadcast scalar
        backend.binary(fn, np.uint8([7, 8]), np.uint8(0), np.dtype(np.uint8))


@pytest.mark.parametrize("backend", [REF, NB], ids=["numpy", "numba"])
def test_integer_negative_power_raises(backend):
    with pytest.raises(ValueError, match="negative integer powers"):
        backend.binary("pow", np.int32([2]), np.int32([-1]), I32)
    assert backend.binary("pow", np.float32([2]), np.float32([-1]), F32)[0] == 0.5


def test_unknown_kernel_names_are_reported():
    with pytest.raises(ValueError, match="Unknown kernel 'nope'"):
        NB.unary("nope", np.ones(2), F64)
    with pytest.raises(ValueError, match="Unknown kernel 'nope'"):
        REF.binary("nope", np.ones(2), np.ones(2), F64)


def test_empty_and_unsupported_dtypes():
    e = np.zeros((0, 3), np.float32)
    assert NB.binary("add", e, np.ones(3, np.float32), F32).shape == (0, 3)
    assert NB.unary("exp", e, F32).shape == (0, 3)
    h = np.float16([1.0, 2.0])  # not a kernel dtype: served by the NumPy reference
    assert NB.binary("add", h, h, np.float16).dtype == np.float16


@settings(max_examples=40, deadline=None)
@given(data=st.data(), name=st.sampled_from(["add", "maximum", "squared_difference", "less"]))
def test_random_broadcasting(data, name):
    shapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=4, max_side=4))
    dtype = data.draw(st.sampled_from([F32, I32]))
    x = data.draw(hnp.arrays(dtype, shapes.input_shapes[0], elements=st.integers(-9, 9)))
    y = data.draw(hnp.arrays(dtype, shapes.input_shapes[1], elements=st.integers(-9, 9)))
    out_dtype = BOOL if name == "less" else dtype
    got = NB.binary(name, x, y, out_dtype)
    assert got.shape == shapes.result_shape
    assert_same(got, REF.binary(name, x, y, out_dtype))


# -- reductions -----------------------------------------------------------------------------

REDUCE_FNS = ["sum", "mean", "max", "min", "prod", "any", "all"]


def all_axes(ndim: int) -> list[tuple[int, ...]]:
    return [c for r in range(ndim + 1) for c in itertools.combinations(range(ndim), r)]


REDUCE_CASES = [(fn, d) for fn in REDUCE_FNS
                for d in ([BOOL] if fn in ("any", "all") else [F32, F64, I32])]


@pytest.mark.parametrize(("fn", "dtype"), REDUCE_CASES, ids=str)
def test_reduce_matches_reference(fn, dtype):
    rng = np.random.default_rng(2)
    for shape in [(), (5,), (6, 5), (2, 3, 4)]:
        x = sample(rng, "reduce", 0, dtype, shape)
        if dtype.kind == "f" and fn == "prod":
            x = (x / 3 + 1).astype(dtype)  # keep products near 1
        for axes in all_axes(len(shape)):
            for keepdims in (False, True):
                got = NB.reduce(fn, x, axes, keepdims)
                assert_same(got, REF.reduce(fn, x, axes, keepdims))
                if not axes:
                    assert got is not x
    x = sample(rng, "reduce", 0, dtype, (4, 6, 3)).transpose(1, 2, 0)  # non-contiguous
    for axes in all_axes(3):
        assert_same(NB.reduce(fn, x, axes, False), REF.reduce(fn, x, axes, False))


@pytest.mark.parametrize("backend", [REF, NB], ids=["numpy", "numba"])
def test_reduce_semantics(backend):
    # float32 sums accumulate in float64: 1e8 + 1 - 1e8 is 1, not 0.
    x = np.float32([1e8, 1.0, -1e8])
    assert backend.reduce("sum", x, (0,), False) == 1.0
    assert backend.reduce("sum", x, (0,), False).dtype == F32
    # Integer means truncate toward zero, like TensorFlow's integer division.
    m = backend.reduce("mean", np.int32([[-1, -2], [1, 2]]), (1,), False)
    np.testing.assert_array_equal(m, [-1, 1])
    assert m.dtype == I32
    nan = np.float32([[1.0, np.nan], [2.0, 3.0]])
    np.testing.assert_array_equal(backend.reduce("max", nan, (1,), False), [np.nan, 3.0])
    np.testing.assert_array_equal(backend.reduce("min", nan, (0,), False), [1.0, np.nan])
    assert backend.reduce("sum", np.zeros((0, 3), F32), (0,), False).shape == (3,)


@settings(max_examples=30, deadline=None)
@given(x=hnp.arrays(F64, hnp.array_shapes(min_dims=1, max_dims=4, max_side=5),
                    elements=st.floats(-10, 10)),
       data=st.data())
def test_random_reductions(x, data):
    axes = data.draw(st.sampled_from(all_axes(x.ndim)))
    fn = data.draw(st.sampled_from(["sum", "mean", "max"]))
    assert_same(NB.reduce(fn, x, axes, False), REF.reduce(fn, x, axes, False))


# -- softmax family -------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [F32, F64], ids=str)
def test_softmax_family(dtype):
    rng = np.random.default_rng(3)
    for shape in [(5,), (4, 5), (2, 3, 5)]:
        x = (rng.standard_normal(shape) * 3).astype(dtype)
        assert_same(NB.softmax(x), REF.softmax(x))
        assert_same(NB.log_softmax(x), REF.log_softmax(x))
        p = rng.random(shape).astype(dtype)
        labels = (p / p.sum(-1, keepdims=True)).astype(dtype)
        for got, want in zip(NB.softmax_xent(x, labels), REF.softmax_xent(x, labels),
                             strict=True):
            assert_same(got, want)
        ids = rng.integers(0, shape[-1], size=shape[:-1]).astype(np.int32)
        for got, want in zip(NB.sparse_softmax_xent(x, ids), REF.sparse_softmax_xent(x, ids),
                             strict=True):
            assert_same(got, want)
    # Against float64 formulas written out, at magnitudes where a naive exp overflows.
    x = np.array([[1000.0, 1001.0, 999.0], [-5.0, 0.0, 5.0]], dtype)
    x64 = x.astype(np.float64) - x.max(-1, keepdims=True)
    ref = np.exp(x64) / np.exp(x64).sum(-1, keepdims=True)
    for backend in (REF, NB):
        np.testing.assert_allclose(backend.softmax(x), ref, rtol=1e-6)
        np.testing.assert_allclose(backend.log_softmax(x), np.log(ref), rtol=1e-6)
        loss, grad = backend.sparse_softmax_xent(x, np.array([1, 0]))
        np.testing.assert_allclose(loss, [-np.log(ref[0, 1]), -np.log(ref[1, 0])], rtol=1e-6)
        np.testing.assert_allclose(grad, ref - np.eye(3)[[1, 0]], rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("backend", [REF, NB], ids=["numpy", "numba"])
@pytest.mark.parametrize("bad", [5, -1])
def test_sparse_label_out_of_range(backend, bad):
    logits = np.zeros((3, 5), np.float32)
    with pytest.raises(ValueError, match=rf"label value of {bad} .*\[0, 5\)"):
        backend.sparse_softmax_xent(logits, np.array([0, bad, 1], np.int32))


@pytest.mark.parametrize("backend", [REF, NB], ids=["numpy", "numba"])
def test_sparse_label_shape_mismatch(backend):
    with pytest.raises(ValueError, match="do not match logits"):
        backend.sparse_softmax_xent(np.zeros((3, 5), np.float32), np.zeros(2, np.int32))


def test_softmax_does_not_write_inputs():
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    before = x.copy()
    NB.softmax(x)
    NB.softmax_xent(x, np.ones_like(x) / 3)
    NB.reduce("sum", x, (0,), False)
    np.testing.assert_array_equal(x, before)


# -- matmul ---------------------------------------------------------------------------------

# Sizes straddle the tiled kernel's blocks (16 rows, 128 of K, 256 columns, 4-row groups).
MATMUL_2D = [(1, 1, 1), (5, 3, 7), (19, 130, 37), (35, 9, 261)]


@pytest.mark.parametrize("dtype", [F32, F64], ids=str)
@pytest.mark.parametrize("m,k,n", MATMUL_2D)
def test_matmul_2d(m, k, n, dtype):
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((m, k)).astype(dtype), rng.standard_normal((k, n)).astype(dtype)
    want = a.astype(np.float64) @ b.astype(np.float64)
    tol = {"rtol": 1e-4, "atol": 1e-4} if dtype == F32 else {"rtol": 1e-10, "atol": 1e-10}
    for got in (NB.matmul(a, b), TILED.matmul(a, b), nmm.matmul_tiled(a, b),
                nmm.matmul_naive(a, b)):
        assert got.dtype == dtype
        np.testing.assert_allclose(got, want, **tol)


@pytest.mark.parametrize("ta,tb", list(itertools.product([False, True], repeat=2)))
def test_matmul_batched_and_transposed(ta, tb):
    rng = np.random.default_rng(5)
    a = rng.standard_normal((2, 1, 5, 7)).astype(np.float32)
    b = rng.standard_normal((3, 7, 6)).astype(np.float32)
    if ta:
        a = np.ascontiguousarray(np.swapaxes(a, -1, -2))
    if tb:
        b = np.ascontiguousarray(np.swapaxes(b, -1, -2))
    want = REF.matmul(a, b, ta, tb)
    assert want.shape == (2, 3, 5, 6)
    for backend in (NB, TILED):
        got = backend.matmul(a, b, ta, tb)
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_matmul_tiled_rejects_bad_shapes():
    with pytest.raises(ValueError, match="matmul needs"):
        nmm.matmul_tiled(np.ones((2, 3)), np.ones((4, 2)))
    with pytest.raises(ValueError, match="blas"):
        NumbaBackend(matmul="fast")
    assert TILED.matmul(np.ones((2, 0)), np.ones((0, 3))).tolist() == [[0.0] * 3] * 2


def test_optimizer_kernels_are_mixed_in():
    var, g = np.ones(3, np.float32), np.full(3, 2.0, np.float32)
    for backend in (REF, NB):
        np.testing.assert_allclose(backend.apply_gradient_descent(var, g, 0.1), [0.8] * 3)
