"""The Numba recurrent kernels against the NumPy reference with the batch split over two cores
(the op-level parity tests use sizes too small to split), and their float32 tanh against the
exact one."""

from __future__ import annotations

import numpy as np
import pytest

from minitf.backends import rnn_numpy
from minitf.backends.numba_cpu import rnn, workers


class _Kernels(rnn.RnnKernelsNumba, rnn_numpy.RnnKernelsNumpy):
    pass


@pytest.mark.parametrize("time_major", [False, True], ids=["batch-major", "time-major"])
@pytest.mark.parametrize("zero_h0", [True, False], ids=["zero-h0", "h0"])
@pytest.mark.parametrize("cell", list(rnn_numpy.GATES))
def test_split_batch_matches_reference(cell, zero_h0, time_major, monkeypatch):
    monkeypatch.setattr(workers, "WORKERS", 2)  # two parts even on a one-core runner
    monkeypatch.setattr(workers, "SPLIT_MIN_MACS", 0)  # and at this small size
    rng = np.random.default_rng(0)
    n, steps, u = 17, 6, 37  # uneven parts; vector loops with remainders
    g, cu = rnn_numpy.GATES[cell] * u, u if cell == "lstm" else 0
    xp = rng.normal(size=(n, steps, g))
    h0 = np.zeros((n, u)) if zero_h0 else rng.normal(size=(n, u))
    c0 = rng.normal(size=(n, cu))
    r = rng.normal(size=(u, g)) / (2 * np.sqrt(u))
    rb = rng.normal(size=g)
    mask = (rng.random((n, steps)) > 0.3).astype(np.float64)
    dhs, dcs = rng.normal(size=(n, steps, u)), rng.normal(size=(n, steps, cu))
    ref = rnn_numpy.RnnKernelsNumpy()
    want = ref.rnn_sequence(cell, xp, h0, c0, r, rb, mask)
    want_grad = ref.rnn_sequence_grad(cell, h0, c0, r, mask, *want, dhs, dcs)
    tm = (lambda a: np.ascontiguousarray(np.swapaxes(a, 0, 1))) if time_major else (lambda a: a)
    for dt, tol in [(np.float64, 1e-10), (np.float32, 2e-5)]:
        args = [a.astype(dt) for a in (xp, h0, c0, r, rb, mask)]
        args[0], args[5] = tm(args[0]), tm(args[5])
        got = _Kernels().rnn_sequence(cell, *args, time_major=time_major)
        for k, (a, b) in enumerate(zip(got, want)):
            assert a.dtype == dt
            np.testing.assert_allclose(a, tm(b), rtol=tol, atol=tol, err_msg=f"{dt} output {k}")
        grads = _Kernels().rnn_sequence_grad(
            cell, *[a.astype(dt) for a in (h0, c0, r)],
            *[tm(a.astype(dt)) for a in (mask, *want, dhs, dcs)], time_major=time_major)
        grads = (tm(grads[0]), *grads[1:])
        for k, (a, b) in enumerate(zip(grads, want_grad)):
            assert a.dtype == dt
            scale = max(1.0, float(np.abs(b).max())) if b.size else 1.0
            np.testing.assert_allclose(a, b, rtol=tol * 10, atol=tol * scale,
                                       err_msg=f"{dt} gradient {k}")


def test_empty_sequence():
    n, u = 3, 4
    z = np.zeros
    got = _Kernels().rnn_sequence("lstm", z((n, 0, 4 * u), np.float32), z((n, u), np.float32),
                                  z((n, u), np.float32), z((u, 4 * u), np.float32),
                                  z(4 * u, np.float32), z((n, 0), np.float32))
    assert [a.shape for a in got] == [(n, 0, u), (n, 0, u), (n, 0, 5 * u)]
    dxp, dh0, dc0, dr, db = _Kernels().rnn_sequence_grad(
        "lstm", np.ones((n, u), np.float32), z((n, u), np.float32),
        z((u, 4 * u), np.float32), z((n, 0), np.float32), *got, z((n, 0, u), np.float32),
        z((n, 0, u), np.float32))
    assert dxp.shape == (n, 0, 4 * u) and not dr.any() and not db.any()


def test_float32_tanh_is_within_a_few_ulp():
    x = np.linspace(-12, 12, 200_001).astype(np.float32)
    hr = x.reshape(1, -1)
    h = np.zeros((1, x.size), np.float32)
    hs = np.empty((1, 1, x.size), np.float32)
    ws = np.empty_like(hs)
    rnn._simple_step(hr, np.zeros_like(hs), np.zeros(x.size, np.float32), 0, 0,
                     np.ones((1, 1), np.float32), h, h[:, :0], hs, hs[..., :0], ws,
                     np.array([0.5, 1.0], np.float32))
    exact = np.tanh(x.astype(np.float64))
    err = np.abs(ws[0, 0] - exact)
    assert err.max() < 5e-7
    assert np.all(np.abs(ws[0, 0]) <= 1.0)
    small = np.abs(x) < 1e-2
    assert np.all(err[small] <= 1e-6 * np.abs(exact[small]) + 1e-12)  # relative near zero
