"""Fused recurrent kernels compiled with Numba (the reference is ``../rnn_numpy.py``).

Per time step the forward pass makes one BLAS call (``h @ recurrent_kernel``) and one kernel
that adds the bias, applies every gate's activation and updates the state, reading each gate
pre-activation once from cache; the backward pass likewise makes one kernel call and one BLAS
call per step, and the recurrent kernel's gradient for all steps at the end as one GEMM.
(Numba's own ``np.dot`` needs SciPy, so the GEMMs are NumPy calls between kernel calls.)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit

from ..rnn_numpy import GATES, WORKSPACE

Array = Any


@njit(cache=True, inline="always")
def _sig(x):
    return 1.0 / (1.0 + math.exp(-x))


# -- forward: one step, bias + gates + masked state update ---------------------------------------


@njit(cache=True, error_model="numpy")
def _simple_fwd(xp, t, hr, rb, mask, h, c, hs, cs, ws):
    n, u = h.shape
    for b in range(n):
        m = mask[b, t]
        for j in range(u):
            hn = math.tanh(xp[b, t, j] + hr[b, j] + rb[j])
            ws[b, t, j] = hn
            h[b, j] = h[b, j] + m * (hn - h[b, j])
            hs[b, t, j] = h[b, j]


@njit(cache=True, error_model="numpy")
def _lstm_fwd(xp, t, hr, rb, mask, h, c, hs, cs, ws):
    n, u = h.shape
    for b in range(n):
        m = mask[b, t]
        for j in range(u):
            i = _sig(xp[b, t, j] + hr[b, j] + rb[j])
            f = _sig(xp[b, t, u + j] + hr[b, u + j] + rb[u + j])
            g = math.tanh(xp[b, t, 2 * u + j] + hr[b, 2 * u + j] + rb[2 * u + j])
            o = _sig(xp[b, t, 3 * u + j] + hr[b, 3 * u + j] + rb[3 * u + j])
            cn = f * c[b, j] + i * g
            hn = o * math.tanh(cn)
            ws[b, t, j], ws[b, t, u + j], ws[b, t, 2 * u + j], ws[b, t, 3 * u + j] = i, f, g, o
            c[b, j] = c[b, j] + m * (cn - c[b, j])
            h[b, j] = h[b, j] + m * (hn - h[b, j])
            hs[b, t, j] = h[b, j]
            cs[b, t, j] = c[b, j]


@njit(cache=True, error_model="numpy")
def _gru_fwd(xp, t, hr, rb, mask, h, c, hs, cs, ws):
    n, u = h.shape
    for b in range(n):
        m = mask[b, t]
        for j in range(u):
            z = _sig(xp[b, t, j] + hr[b, j] + rb[j])
            r = _sig(xp[b, t, u + j] + hr[b, u + j] + rb[u + j])
            rh = hr[b, 2 * u + j] + rb[2 * u + j]
            hh = math.tanh(xp[b, t, 2 * u + j] + r * rh)
            hn = z * h[b, j] + (1.0 - z) * hh
            ws[b, t, j], ws[b, t, u + j], ws[b, t, 2 * u + j], ws[b, t, 3 * u + j] = z, r, hh, rh
            h[b, j] = h[b, j] + m * (hn - h[b, j])
            hs[b, t, j] = h[b, j]


# -- backward: one step; ``dh``/``dc`` carry the gradient, ``dhg`` is last step's GEMM -----------
# Each writes the gate gradients to ``dxp[:, t]`` and ``dhr[t]`` (the part through h @ r) and
# leaves in ``dh``/``dc`` the gradient on the previous state, less ``dhr[t] @ r.T``.


@njit(cache=True, error_model="numpy")
def _simple_bwd(t, h0, c0, mask, hs, cs, ws, dhs, dcs, dh, dhg, dc, dxp, dhr):
    n, u = dh.shape
    for b in range(n):
        m = mask[b, t]
        for j in range(u):
            d = dh[b, j] + dhg[b, j] + dhs[b, t, j]
            hn = ws[b, t, j]
            da = m * d * (1.0 - hn * hn)
            dxp[b, t, j] = da
            dhr[t, b, j] = da
            dh[b, j] = (1.0 - m) * d


@njit(cache=True, error_model="numpy")
def _lstm_bwd(t, h0, c0, mask, hs, cs, ws, dhs, dcs, dh, dhg, dc, dxp, dhr):
    n, u = dh.shape
    for b in range(n):
        m = mask[b, t]
        for j in range(u):
            d = dh[b, j] + dhg[b, j] + dhs[b, t, j]
            dct = dc[b, j] + dcs[b, t, j]
            cp = cs[b, t - 1, j] if t > 0 else c0[b, j]
            i, f, g, o = ws[b, t, j], ws[b, t, u + j], ws[b, t, 2 * u + j], ws[b, t, 3 * u + j]
            tc = math.tanh(f * cp + i * g)
            dhn = m * d
            dcn = m * dct + dhn * o * (1.0 - tc * tc)
            di = dcn * g * i * (1.0 - i)
            df = dcn * cp * f * (1.0 - f)
            dg = dcn * i * (1.0 - g * g)
            do = dhn * tc * o * (1.0 - o)
            dxp[b, t, j], dxp[b, t, u + j], dxp[b, t, 2 * u + j], dxp[b, t, 3 * u + j] = \
                di, df, dg, do
            dhr[t, b, j], dhr[t, b, u + j], dhr[t, b, 2 * u + j], dhr[t, b, 3 * u + j] = \
                di, df, dg, do
            dh[b, j] = (1.0 - m) * d
            dc[b, j] = (1.0 - m) * dct + dcn * f


@njit(cache=True, error_model="numpy")
def _gru_bwd(t, h0, c0, mask, hs, cs, ws, dhs, dcs, dh, dhg, dc, dxp, dhr):
    n, u = dh.shape
    for b in range(n):
        m = mask[b, t]
        for j in range(u):
            d = dh[b, j] + dhg[b, j] + dhs[b, t, j]
            hp = hs[b, t - 1, j] if t > 0 else h0[b, j]
            z, r, hh, rh = ws[b, t, j], ws[b, t, u + j], ws[b, t, 2 * u + j], ws[b, t, 3 * u + j]
            dhn = m * d
            dah = dhn * (1.0 - z) * (1.0 - hh * hh)
            daz = dhn * (hp - hh) * z * (1.0 - z)
            dar = dah * rh * r * (1.0 - r)
            dxp[b, t, j], dxp[b, t, u + j], dxp[b, t, 2 * u + j] = daz, dar, dah
            dhr[t, b, j], dhr[t, b, u + j], dhr[t, b, 2 * u + j] = daz, dar, dah * r
            dh[b, j] = (1.0 - m) * d + dhn * z


_FWD = {"simple": _simple_fwd, "lstm": _lstm_fwd, "gru": _gru_fwd}
_BWD = {"simple": _simple_bwd, "lstm": _lstm_bwd, "gru": _gru_bwd}


class RnnKernelsNumba:
    """The fused recurrent kernels for float32/float64; other dtypes take the NumPy path."""

    def rnn_sequence(self, cell: str, xp: Array, h0: Array, c0: Array, r: Array, rb: Array,
                     mask: Array) -> tuple[Array, Array, Array]:
        if xp.dtype not in (np.float32, np.float64):
            return super().rnn_sequence(cell, xp, h0, c0, r, rb, mask)
        n, steps, _ = xp.shape
        u = h0.shape[1]
        dt = xp.dtype
        hs = np.empty((n, steps, u), dt)
        cs = np.empty((n, steps, c0.shape[1]), dt)
        ws = np.empty((n, steps, WORKSPACE[cell] * u), dt)
        h, c = np.array(h0, dt, order="C"), np.array(c0, dt, order="C")
        r, rb, mask = np.ascontiguousarray(r), np.ascontiguousarray(rb), mask.astype(dt)
        hr = np.empty((n, r.shape[1]), dt)
        kernel = _FWD[cell]
        for t in range(steps):
            np.matmul(h, r, out=hr)
            kernel(xp, t, hr, rb, mask, h, c, hs, cs, ws)
        return hs, cs, ws

    def rnn_sequence_grad(self, cell: str, h0: Array, c0: Array, r: Array, mask: Array,
                          hs: Array, cs: Array, ws: Array, dhs: Array, dcs: Array
                          ) -> tuple[Array, Array, Array, Array, Array]:
        if hs.dtype not in (np.float32, np.float64):
            return super().rnn_sequence_grad(cell, h0, c0, r, mask, hs, cs, ws, dhs, dcs)
        n, steps, u = hs.shape
        dt = hs.dtype
        g = GATES[cell] * u
        dxp = np.empty((n, steps, g), dt)
        dhr = np.empty((steps, n, g), dt)  # time-major: each step's rows are one GEMM operand
        dh, dhg, dc = np.zeros((n, u), dt), np.zeros((n, u), dt), np.zeros(c0.shape, dt)
        rt = np.ascontiguousarray(r.T)
        kernel = _BWD[cell]
        for t in range(steps - 1, -1, -1):
            kernel(t, h0, c0, mask.astype(dt, copy=False), hs, cs, ws, dhs, dcs, dh, dhg, dc,
                   dxp, dhr)
            np.matmul(dhr[t], rt, out=dhg)
        h_prev = np.empty((steps, n, u), dt)
        h_prev[0] = h0
        h_prev[1:] = hs[:, :-1].transpose(1, 0, 2)
        flat = dhr.reshape(-1, g)
        return dxp, dh + dhg, dc, h_prev.reshape(-1, u).T @ flat, flat.sum(axis=0)
