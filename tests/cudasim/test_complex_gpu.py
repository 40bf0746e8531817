"""Complex64/complex128 on the CUDA backend (Numba's simulator): the complex element-wise
kernels, sum/mean/prod and matmul run as device kernels, with the host fallback switched off,
and agree with the NumPy reference; the complex cases of ``tests/op_cases.py`` whose op runs
on the device do so without a host round trip, except the ops whose kernel has no CUDA complex
form (``kernel_table.NO_CUDA_COMPLEX``), which placement runs on the CPU. The conversion
kernels (tf.complex, real, imag, abs, angle, casts between complex and real) run on the
device too. Tiny shapes: the simulator runs every thread as a Python thread."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: op_cases

from op_cases import CASES  # noqa: E402

import minitf as tf  # noqa: E402
from minitf.backends import kernel_table  # noqa: E402
from minitf.backends.cuda import CudaBackend, placement, to_numpy  # noqa: E402
from minitf.backends.cuda import elementwise as ew  # noqa: E402
from minitf.backends.numpy_backend import NumpyBackend  # noqa: E402
from minitf.framework import registry  # noqa: E402
from minitf.framework.device import GpuTensor  # noqa: E402

pytestmark = pytest.mark.gpu_sim

CUDA, REF = CudaBackend(), NumpyBackend()
C64, C128 = np.dtype(np.complex64), np.dtype(np.complex128)
BOOL_OUT = {"equal", "not_equal"}
CONVERT = set(kernel_table.CONVERT_UNARY) | set(kernel_table.CONVERT_BINARY)


def _on_gpu(t) -> bool:
    return isinstance(t, GpuTensor) and hasattr(t._dev, "copy_to_host")


@pytest.fixture
def on_host_calls(monkeypatch):
    """The methods ``CudaBackend`` ran on the host (its NumPy fallback) during the test."""
    calls = []
    real = CudaBackend._on_host

    def record(self, method, *args, **kwargs):
        calls.append(method)
        return real(self, method, *args, **kwargs)

    monkeypatch.setattr(CudaBackend, "_on_host", record)
    return calls


def _z(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.uniform(0.3, 2.0, shape) + 1j * rng.uniform(-2.0, 2.0, shape)).astype(dtype)


def test_cuda_complex_tables_follow_the_kernel_table():
    have = set(ew.COMPLEX_UNARY_KERNELS) | set(ew.COMPLEX_BINARY_KERNELS)
    want = set(kernel_table.COMPLEX_UNARY) | set(kernel_table.COMPLEX_BINARY)
    assert have == want - set(kernel_table.NO_CUDA_COMPLEX)
    for name in kernel_table.NO_CUDA_COMPLEX:
        with pytest.raises(KeyError):
            ew.COMPLEX_BINARY_KERNELS[name]


KERNELS = sorted(ew.COMPLEX_UNARY_KERNELS) + sorted(ew.COMPLEX_BINARY_KERNELS)


@pytest.mark.parametrize("name", KERNELS)
def test_complex_kernel_on_device(name, on_host_calls):
    dtype = C128 if name in ("divide", "exp") else C64  # both dtypes, each kernel body once
    x, y = _z((2, 5), dtype, 1), _z((5,), dtype, 2)  # y broadcast as a row
    out = np.dtype(bool) if name in BOOL_OUT else dtype
    if name in BOOL_OUT:
        y[1] = x[0, 1]
    if name in ew.COMPLEX_BINARY_KERNELS:
        got, want = CUDA.binary(name, x, y, out), REF.binary(name, x, y, out)
    else:
        got, want = CUDA.unary(name, x, out), REF.unary(name, x, out)
    assert not on_host_calls
    got = to_numpy(got)
    assert got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=2e-6, atol=1e-6)


@pytest.mark.parametrize("name", sorted(CONVERT))
def test_conversion_kernel_on_device(name, on_host_calls):
    """complex64 -> float32 (complex128 -> float64 for abs, whose hypot matters), and
    float32 -> complex64 (to_complex, and complex with a row broadcast)."""
    dtype = C128 if name == "complex_abs" else C64
    z = _z((2, 5), dtype, 1)
    z[0, 0] = 3e37 + 4e37j if dtype == C64 else 3e300 + 4e300j  # re² would overflow
    real = np.dtype(np.float32 if dtype == C64 else np.float64)
    if name == "complex":
        got, want = CUDA.binary(name, z.real, z.imag[0], dtype), REF.binary(name, z.real,
                                                                           z.imag[0], dtype)
    elif name == "to_complex":
        got, want = CUDA.unary(name, z.real, dtype), REF.unary(name, z.real, dtype)
    else:
        got, want = CUDA.unary(name, z, real), REF.unary(name, z, real)
    assert not on_host_calls
    got = to_numpy(got)
    assert got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=2e-7 if real == np.float32 else 1e-15)


def test_casts_between_complex_and_real_on_device(on_host_calls):
    """tf.cast float -> complex (zero imaginary part) and complex -> float (the real part,
    as TF) on '/GPU:0' stay on the device."""
    z = _z((2, 3), C64)
    with tf.device("/GPU:0"):
        c = tf.cast(tf.constant(z.real), tf.complex64)
        r = tf.cast(tf.constant(z), tf.float32)
        w = tf.cast(tf.constant(z), tf.complex128)
    assert all(map(_on_gpu, (c, r, w))) and not on_host_calls
    np.testing.assert_array_equal(c.numpy(), z.real.astype(C64))
    np.testing.assert_array_equal(r.numpy(), z.real)
    np.testing.assert_array_equal(w.numpy(), z.astype(C128))


def test_complex_reductions_and_matmul_on_device(on_host_calls):
    x = _z((3, 20), C64)  # rows longer than the simulator's reduction block (16)
    for fn in ("sum", "mean", "prod"):
        for axes in ((1,), (0,)):  # row kernels, column kernels
            got = to_numpy(CUDA.reduce(fn, x, axes, False))
            assert got.dtype == C64
            np.testing.assert_allclose(got, REF.reduce(fn, x, axes, False), rtol=1e-5)
    a, b = _z((5, 6), C128, 3), _z((6, 3), C128, 4)  # partial tiles (TILE = 4)
    np.testing.assert_allclose(to_numpy(CUDA.matmul(a, b)), a @ b, rtol=1e-12)
    np.testing.assert_allclose(to_numpy(CUDA.matmul(b, a, True, True)), (a @ b).T, rtol=1e-12)
    assert not on_host_calls


def test_no_cuda_complex_form_runs_on_the_host(on_host_calls):
    """Placement derives it from the op's kernel: complex Pow on '/GPU:0' runs on the CPU
    (its output is a host tensor); float Pow stays on the device."""
    pow_op = registry.get("Pow")
    assert placement.complex_on_host(pow_op)
    assert not placement.complex_on_host(registry.get("AddV2"))
    z = _z((2, 3), C64)
    with tf.device("/GPU:0"):
        p = tf.pow(tf.constant(z), tf.constant(z))
        f = tf.pow(tf.constant(z.real), 2.0)
    assert not _on_gpu(p) and _on_gpu(f)
    np.testing.assert_allclose(p.numpy(), z**z, rtol=1e-5)
    assert not on_host_calls


COMPLEX_DEVICE_CASES = [
    c for c in CASES if c.op in placement.DEVICE_OPS
    and (any(a.dtype.kind == "c" for a in c.arrays(np.float32))
         or registry.get(c.op).kernel in CONVERT)]  # tf.complex: real operands


@pytest.mark.parametrize("case", COMPLEX_DEVICE_CASES, ids=[c.id for c in COMPLEX_DEVICE_CASES])
def test_complex_cases_run_as_device_kernels(case, on_host_calls):
    """The complex cases of ops with device kernels run without the host fallback (the
    values against the CPU are checked by test_gpu_ops)."""
    arrays = case.arrays(np.float32)
    with tf.device("/GPU:0"):
        outs = case.run(*[tf.constant(a) for a in arrays])
    assert not on_host_calls, f"{case.id} ran {on_host_calls} on the host"
    assert all(map(_on_gpu, outs)) != placement.complex_on_host(registry.get(case.op)), case.id
