"""Fused recurrent kernels compiled with Numba (the reference is ``../rnn_numpy.py``).

Per time step the forward pass makes one BLAS call (``h @ recurrent_kernel``) and one kernel
that adds the input projection and the bias, activates every gate and updates the masked state
in one pass over the (batch, gates*units) block. The backward pass makes per step one kernel
(gate gradients, the carried state gradients and the bias gradient) and one BLAS call, and the
recurrent kernel's gradient for all steps at the end as one GEMM. Nothing is allocated per step,
and float32 stays float32 throughout. (Numba's own ``np.dot`` needs SciPy, so the GEMMs are NumPy
calls between kernel calls; BLAS runs single-threaded, since its threads would spin between such
small products.) With several cores the batch is cut into one part per core, and each part runs
the whole recurrence in a thread of its own (the kernels release the GIL, as does BLAS).

Activations: sigmoid(x) = tanh(x/2)/2 + 1/2, so one tanh serves all gates. In float32, tanh is
Eigen's rational approximation (clamped 13/6 polynomial ratio, at most ~4e-7 relative error, a
few ulp), which LLVM vectorises; a scalar ``math.tanh`` per element costs several times more
and NumPy's vectorised tanh needs a pass of its own. float64 uses ``math.tanh`` (exact, as the
finite-difference gradient checks need). ``fastmath={"contract"}`` lets LLVM fuse a * b + c into
one FMA (the tanh polynomial: forward kernels ~20 % faster); nothing else is relaxed. The
kernels index rows of C-contiguous time-major arrays ([time, batch, ...]: a step's rows are one
block), so each inner loop runs over unit-stride 1-D views that LLVM vectorises; a part of the
batch is the row range ``lo:lo + len(h)`` of the full arrays (a column slice of them would not
be contiguous).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit, types
from numba.extending import overload

from ..rnn_numpy import GATES, WORKSPACE
from . import workers

Array = Any

_F32 = np.float32


@njit(inline="always", error_model="numpy", fastmath={"contract"})
def _tanh_f32(x):  # Eigen's generic_fast_tanh_float
    x = min(max(x, _F32(-9.0)), _F32(9.0))
    x2 = x * x
    p = x2 * _F32(-2.76076847742355e-16) + _F32(2.00018790482477e-13)
    p = x2 * p + _F32(-8.60467152213735e-11)
    p = x2 * p + _F32(5.12229709037114e-08)
    p = x2 * p + _F32(1.48572235717979e-05)
    p = x2 * p + _F32(6.37261928875436e-04)
    p = x2 * p + _F32(4.89352455891786e-03)
    q = x2 * _F32(1.19825839466702e-06) + _F32(1.18534705686654e-04)
    q = x2 * q + _F32(2.26843463243900e-03)
    q = x2 * q + _F32(4.89352518554385e-03)
    return min(max(x * p / q, _F32(-1.0)), _F32(1.0))  # p/q overshoots 1 by an ulp near 9


def _tanh(x):  # pragma: no cover - replaced in compiled code by the overload below
    return math.tanh(x)


@overload(_tanh, inline="always")
def _tanh_impl(x):
    if x == types.float32:
        return lambda x: _tanh_f32(x)
    return lambda x: math.tanh(x)


# -- forward: one kernel per step after ``hr = h_prev @ r`` ---------------------------------------
# ``k`` = [0.5, 1.0] in the arrays' dtype (a float literal would make float32 math float64).


@njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract"})
def _simple_step(hr, xp, rb, t, lo, mask, h, c, hs, cs, ws, k):
    n, u = h.shape
    for b in range(n):
        m = mask[t, lo + b]
        a, x, w, hb, ho = hr[b], xp[t, lo + b], ws[t, lo + b], h[b], hs[t, lo + b]
        for j in range(u):
            hn = _tanh(a[j] + x[j] + rb[j])
            w[j] = hn
            hb[j] += m * (hn - hb[j])
            ho[j] = hb[j]


@njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract"})
def _lstm_step(hr, xp, rb, t, lo, mask, h, c, hs, cs, ws, k):
    n, u = h.shape
    half = k[0]
    for b in range(n):
        m = mask[t, lo + b]
        a, x, w, ho, co = hr[b], xp[t, lo + b], ws[t, lo + b], hs[t, lo + b], cs[t, lo + b]
        hb, cb = h[b], c[b]
        # one loop per activation, then the state: a single loop over everything touches too
        # many arrays for LLVM's run-time aliasing checks and stays scalar (10x slower)
        s2, a2, x2, r2 = w[:2 * u], a[:2 * u], x[:2 * u], rb[:2 * u]  # i, f
        for j in range(2 * u):
            s2[j] = half * _tanh(half * (a2[j] + x2[j] + r2[j])) + half
        wg, ag, xg, rg = w[2 * u:3 * u], a[2 * u:3 * u], x[2 * u:3 * u], rb[2 * u:3 * u]
        for j in range(u):
            wg[j] = _tanh(ag[j] + xg[j] + rg[j])
        wo, ao, xo, ro = w[3 * u:4 * u], a[3 * u:], x[3 * u:], rb[3 * u:]
        for j in range(u):
            wo[j] = half * _tanh(half * (ao[j] + xo[j] + ro[j])) + half
        wi, wf, wc = w[:u], w[u:2 * u], w[4 * u:]
        for j in range(u):
            cn = wf[j] * cb[j] + wi[j] * wg[j]
            tc = _tanh(cn)
            wc[j] = tc
            cb[j] += m * (cn - cb[j])
            hb[j] += m * (wo[j] * tc - hb[j])
            co[j], ho[j] = cb[j], hb[j]


@njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract"})
def _gru_step(hr, xp, rb, t, lo, mask, h, c, hs, cs, ws, k):
    n, u = h.shape
    half, one = k[0], k[1]
    for b in range(n):
        m = mask[t, lo + b]
        a, x, w, hb, ho = hr[b], xp[t, lo + b], ws[t, lo + b], h[b], hs[t, lo + b]
        s2, a2, x2, r2 = w[:2 * u], a[:2 * u], x[:2 * u], rb[:2 * u]  # z, r
        for j in range(2 * u):
            s2[j] = half * _tanh(half * (a2[j] + x2[j] + r2[j])) + half
        wz, wr, wh, wrh = w[:u], w[u:2 * u], w[2 * u:3 * u], w[3 * u:]
        ah, xh, rbh = a[2 * u:], x[2 * u:], rb[2 * u:]
        for j in range(u):
            rh = ah[j] + rbh[j]  # the candidate's recurrent part: reset gate applied after
            hh = _tanh(xh[j] + wr[j] * rh)
            wh[j], wrh[j] = hh, rh
            z = wz[j]
            hb[j] += m * (z * hb[j] + (one - z) * hh - hb[j])
            ho[j] = hb[j]


# -- backward: one kernel per step, then ``dhg = dhr[:, t] @ r.T`` --------------------------------
# Each writes the gate gradients to ``dxp[:, t]`` (for GRU also ``dhr[:, t]``, the part through
# h @ r, which differs for the candidate), adds that part to the bias gradient ``db`` and leaves
# in ``dh``/``dc`` the gradient on the previous state, less ``dhr[:, t] @ r.T``.


@njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract"})
def _simple_bwd(t, lo, h0, c0, mask, hs, cs, ws, dhs, dcs, dh, dhg, dc, dxp, dhr, db, k):
    n, u = dh.shape
    one = k[1]
    for b in range(n):
        m = mask[t, lo + b]
        keep = one - m
        w, dx, dhb, dgb, dsb = ws[t, lo + b], dxp[t, lo + b], dh[b], dhg[b], dhs[t, lo + b]
        for j in range(u):
            d = dhb[j] + dgb[j] + dsb[j]
            dx[j] = m * d * (one - w[j] * w[j])
            dhb[j] = keep * d
        for j in range(u):
            db[j] += dx[j]


@njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract"})
def _lstm_bwd(t, lo, h0, c0, mask, hs, cs, ws, dhs, dcs, dh, dhg, dc, dxp, dhr, db, k):
    n, u = dh.shape
    one = k[1]
    for b in range(n):
        m = mask[t, lo + b]
        keep = one - m
        w, dx = ws[t, lo + b], dxp[t, lo + b]
        wi, wf, wg, wo, wc = w[:u], w[u:2 * u], w[2 * u:3 * u], w[3 * u:4 * u], w[4 * u:]
        di, df, dg, do = dx[:u], dx[u:2 * u], dx[2 * u:3 * u], dx[3 * u:]
        cp = cs[t - 1, lo + b] if t else c0[b]
        dhb, dgb, dcb, dsb, dcsb = dh[b], dhg[b], dc[b], dhs[t, lo + b], dcs[t, lo + b]
        for j in range(u):
            d = dhb[j] + dgb[j] + dsb[j]
            dct = dcb[j] + dcsb[j]
            i, f, g, o, tc = wi[j], wf[j], wg[j], wo[j], wc[j]
            dhn = m * d
            dcn = m * dct + dhn * o * (one - tc * tc)
            di[j] = dcn * g * i * (one - i)
            df[j] = dcn * cp[j] * f * (one - f)
            dg[j] = dcn * i * (one - g * g)
            do[j] = dhn * tc * o * (one - o)
            dhb[j] = keep * d
            dcb[j] = keep * dct + dcn * f
        for j in range(4 * u):
            db[j] += dx[j]


@njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract"})
def _gru_bwd(t, lo, h0, c0, mask, hs, cs, ws, dhs, dcs, dh, dhg, dc, dxp, dhr, db, k):
    n, u = dh.shape
    one = k[1]
    for b in range(n):
        m = mask[t, lo + b]
        keep = one - m
        w, dx, dr = ws[t, lo + b], dxp[t, lo + b], dhr[t, lo + b]
        wz, wr, wh, wrh = w[:u], w[u:2 * u], w[2 * u:3 * u], w[3 * u:]
        dxz, dxr, dxh = dx[:u], dx[u:2 * u], dx[2 * u:]
        drz, drr, drh = dr[:u], dr[u:2 * u], dr[2 * u:]
        hp = hs[t - 1, lo + b] if t else h0[b]
        dhb, dgb, dsb = dh[b], dhg[b], dhs[t, lo + b]
        for j in range(u):
            d = dhb[j] + dgb[j] + dsb[j]
            z, r, hh, rh = wz[j], wr[j], wh[j], wrh[j]
            dhn = m * d
            dah = dhn * (one - z) * (one - hh * hh)
            daz = dhn * (hp[j] - hh) * z * (one - z)
            dar = dah * rh * r * (one - r)
            dxz[j], dxr[j], dxh[j] = daz, dar, dah
            drz[j], drr[j], drh[j] = daz, dar, dah * r
            dhb[j] = keep * d + dhn * z
        for j in range(3 * u):
            db[j] += dr[j]


_STEP = {"simple": _simple_step, "lstm": _lstm_step, "gru": _gru_step}
_BWD = {"simple": _simple_bwd, "lstm": _lstm_bwd, "gru": _gru_bwd}


def _c(a: Array, dt: Any) -> Array:
    return np.ascontiguousarray(a, dtype=dt)


def _split(n: int, steps: int, u: int, g: int, work: Any) -> list:
    """``work(lo, hi)`` for batch rows ``lo:hi``: the whole recurrence of a part of the batch
    per core (one hand-off per sequence, not per step), once the products are large enough."""
    if n * steps * u * g < workers.SPLIT_MIN_MACS or n < 2 * _MIN_ROWS:
        with workers.single_threaded_blas():  # small products; BLAS's threads would spin
            return [work(0, n)]
    return workers.run_split(n, work)


_MIN_ROWS = 8  # fewer rows per product and a part's GEMMs lose more than the core gains


class RnnKernelsNumba:
    """The fused recurrent kernels for float32/float64; other dtypes take the NumPy path.
    The kernels run time-major (each step's rows are one contiguous block: batch-major rows
    lie a whole sequence apart, and their cache misses cost more than the gate arithmetic);
    batch-major arguments are copied, and batch-major results are views of time-major arrays.
    The batch is cut into one part per core (``workers.run_split``), each running all steps."""

    def rnn_sequence(self, cell: str, xp: Array, h0: Array, c0: Array, r: Array, rb: Array,
                     mask: Array, time_major: bool = False) -> tuple[Array, Array, Array]:
        if xp.dtype not in (np.float32, np.float64):
            return super().rnn_sequence(cell, xp, h0, c0, r, rb, mask, time_major)
        dt = xp.dtype
        xp, mask = _tm(xp, time_major, dt), _tm(mask, time_major, dt)
        steps, n, g = xp.shape
        u = h0.shape[1]
        hs = np.empty((steps, n, u), dt)
        cs = np.empty((steps, n, c0.shape[1]), dt)
        ws = np.empty((steps, n, WORKSPACE[cell] * u), dt)
        r, rb = _c(r, dt), _c(rb, dt)
        kernel, k = _STEP[cell], np.array([0.5, 1.0], dt)
        skip_first = not np.any(h0)  # h0 @ r is zero: Keras's default initial state

        def rows(lo: int, hi: int) -> None:
            h = np.array(h0[lo:hi], dt, order="C")  # the running state
            c = np.array(c0[lo:hi], dt, order="C")
            hr = np.zeros((hi - lo, g), dt)
            for t in range(steps):
                if t or not skip_first:
                    np.matmul(h, r, out=hr)
                kernel(hr, xp, rb, t, lo, mask, h, c, hs, cs, ws, k)

        _split(n, steps, u, g, rows)
        return tuple(_bm(a, time_major) for a in (hs, cs, ws))

    def rnn_sequence_grad(self, cell: str, h0: Array, c0: Array, r: Array, mask: Array,
                          hs: Array, cs: Array, ws: Array, dhs: Array, dcs: Array,
                          time_major: bool = False) -> tuple[Array, Array, Array, Array, Array]:
        if hs.dtype not in (np.float32, np.float64):
            return super().rnn_sequence_grad(cell, h0, c0, r, mask, hs, cs, ws, dhs, dcs,
                                             time_major)
        dt = hs.dtype
        mask, hs, cs, ws, dhs, dcs = (_tm(a, time_major, dt)
                                      for a in (mask, hs, cs, ws, dhs, dcs))
        h0, c0 = _c(h0, dt), _c(c0, dt)
        steps, n, u = hs.shape
        g = GATES[cell] * u
        dxp = np.empty((steps, n, g), dt)
        # the gradient through h @ r: the same as dxp except for GRU's candidate
        dhr = np.empty((steps, n, g), dt) if cell == "gru" else dxp
        dh0, dc0 = np.empty((n, u), dt), np.empty(c0.shape, dt)
        rt = np.ascontiguousarray(r.T, dtype=dt)
        kernel, k = _BWD[cell], np.array([0.5, 1.0], dt)

        def rows(lo: int, hi: int) -> Array:
            dh, dhg = np.zeros((hi - lo, u), dt), np.zeros((hi - lo, u), dt)
            dc, db = np.zeros((hi - lo, c0.shape[1]), dt), np.zeros(g, dt)
            h0_, c0_ = h0[lo:hi], c0[lo:hi]
            for t in range(steps - 1, -1, -1):
                kernel(t, lo, h0_, c0_, mask, hs, cs, ws, dhs, dcs, dh, dhg, dc, dxp, dhr, db, k)
                np.matmul(dhr[t, lo:hi], rt, out=dhg)
            np.add(dh, dhg, out=dh0[lo:hi])
            dc0[lo:hi] = dc
            return db

        db = sum(_split(n, steps, u, g, rows))
        # the recurrent kernel's gradient, all steps in one GEMM: the state before step t is
        # hs[t - 1] (h0 for t = 0, whose term is skipped when h0 is zero, as by default)
        dr = workers.matmul(hs[:-1].reshape(-1, u).T, dhr[1:].reshape(-1, g),
                            np.empty((u, g), dt))  # split over the cores
        if steps and np.any(h0):
            dr += h0.T @ dhr[0]
        return _bm(dxp, time_major), dh0, dc0, dr, db


def _tm(a: Array, time_major: bool, dt: Any) -> Array:
    """``a`` [time, batch, ...] C-contiguous in ``dt``: copied only if it is not already."""
    return _c(a if time_major else np.swapaxes(a, 0, 1), dt)


def _bm(a: Array, time_major: bool) -> Array:
    """A time-major result as the caller asked for it (a batch-major view, no copy)."""
    return a if time_major else np.swapaxes(a, 0, 1)
