"""Fused recurrent kernels compiled with Numba (the reference is ``../rnn_numpy.py``).

Per time step the forward pass makes one BLAS call (``h @ recurrent_kernel``), one vectorised
tanh over all gates and one or two kernels for the gate arithmetic and the masked state update;
the backward pass one kernel call and one BLAS call per step, and the recurrent kernel's
gradient for all steps at the end as one GEMM.
(Numba's own ``np.dot`` needs SciPy, so the GEMMs are NumPy calls between kernel calls.)
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from ..rnn_numpy import GATES, WORKSPACE
from . import workers

Array = Any


# -- forward: per step one GEMM, NumPy's SIMD tanh over the gate block, and kernels for the rest --
# Sigmoid is computed as 0.5 * tanh(x / 2) + 0.5, so one vectorised tanh call activates all the
# gates of a step: the columns of sigmoid gates are pre-scaled by 1/2 (``_scale``). Scalar
# ``math.tanh``/``exp`` in a Numba loop cost ten times NumPy's vectorised float32 versions.


@njit(cache=True, error_model="numpy")
def _simple_state(a, t, mask, h, hs, ws):
    n, u = h.shape
    for b in range(n):
        m = mask[b, t]
        for j in range(u):
            hn = a[b, j]
            ws[b, t, j] = hn
            h[b, j] = h[b, j] + m * (hn - h[b, j])
            hs[b, t, j] = h[b, j]


@njit(cache=True, error_model="numpy")
def _lstm_gates(a, t, c, cn, ws, k):
    n, u = c.shape
    half = k[0]  # 0.5 in the arrays' dtype: a float literal would make float32 math float64
    for b in range(n):
        for j in range(u):
            i = half * a[b, j] + half
            f = half * a[b, u + j] + half
            g = a[b, 2 * u + j]
            o = half * a[b, 3 * u + j] + half
            ws[b, t, j] = i
            ws[b, t, u + j] = f
            ws[b, t, 2 * u + j] = g
            ws[b, t, 3 * u + j] = o
            cn[b, j] = f * c[b, j] + i * g


@njit(cache=True, error_model="numpy")
def _lstm_state(tc, cn, t, mask, h, c, hs, cs, ws):
    n, u = h.shape
    for b in range(n):
        m = mask[b, t]
        for j in range(u):
            ws[b, t, 4 * u + j] = tc[b, j]
            hn = ws[b, t, 3 * u + j] * tc[b, j]
            c[b, j] = c[b, j] + m * (cn[b, j] - c[b, j])
            h[b, j] = h[b, j] + m * (hn - h[b, j])
            hs[b, t, j] = h[b, j]
            cs[b, t, j] = c[b, j]


@njit(cache=True, error_model="numpy")
def _gru_gates(a, hr, xp, rbh, t, pre, ws):
    """``a``: tanh of the scaled z, r pre-activations; writes z, r, the candidate's recurrent
    projection and its pre-activation ``pre``."""
    n, u = pre.shape
    for b in range(n):
        for j in range(u):
            z = 0.5 * a[b, j] + 0.5
            r = 0.5 * a[b, u + j] + 0.5
            rh = hr[b, 2 * u + j] + rbh[j]
            ws[b, t, j] = z
            ws[b, t, u + j] = r
            ws[b, t, 3 * u + j] = rh
            pre[b, j] = xp[b, t, 2 * u + j] + r * rh


@njit(cache=True, error_model="numpy")
def _gru_state(hh, t, mask, h, hs, ws):
    n, u = h.shape
    for b in range(n):
        m = mask[b, t]
        for j in range(u):
            z = ws[b, t, j]
            ws[b, t, 2 * u + j] = hh[b, j]
            hn = z * h[b, j] + (1.0 - z) * hh[b, j]
            h[b, j] = h[b, j] + m * (hn - h[b, j])
            hs[b, t, j] = h[b, j]


def _scale(cell: str, u: int, dt) -> np.ndarray:
    """Per gate column: 1/2 for sigmoid gates (see above), 1 for tanh ones."""
    halves = {"simple": (), "lstm": (0, 1, 3), "gru": (0, 1)}[cell]
    s = np.ones(GATES[cell] * u, dt)
    for k in halves:
        s[k * u:(k + 1) * u] = 0.5
    return s


# -- backward: one step; ``dh``/``dc`` carry the gradient, ``dhg`` is last step's GEMM -----------
# Each writes the gate gradients to ``dxp[:, t]`` (for GRU also ``dhr[:, t]``, the part through
# h @ r, which differs for the candidate) and leaves in ``dh``/``dc`` the gradient on the
# previous state, less ``dhr[:, t] @ r.T``. ``hp``/``cp``: the states before step t.


@njit(cache=True, error_model="numpy")
def _simple_bwd(t, hp, cp, mask, ws, dhs, dcs, dh, dhg, dc, dxp, dhr, k):
    n, u = dh.shape
    for b in range(n):
        m = mask[b, t]
        for j in range(u):
            d = dh[b, j] + dhg[b, j] + dhs[b, t, j]
            hn = ws[b, t, j]
            dxp[b, t, j] = m * d * (1.0 - hn * hn)
            dh[b, j] = (1.0 - m) * d


@njit(cache=True, error_model="numpy")
def _lstm_bwd(t, hp, cp, mask, ws, dhs, dcs, dh, dhg, dc, dxp, dhr, k):
    n, u = dh.shape
    one = k[1]  # 1.0 in the arrays' dtype (see _lstm_gates)
    for b in range(n):
        m = mask[b, t]
        keep = one - m
        for j in range(u):
            d = dh[b, j] + dhg[b, j] + dhs[b, t, j]
            dct = dc[b, j] + dcs[b, t, j]
            i, f, g, o = ws[b, t, j], ws[b, t, u + j], ws[b, t, 2 * u + j], ws[b, t, 3 * u + j]
            tc = ws[b, t, 4 * u + j]
            dhn = m * d
            dcn = m * dct + dhn * o * (one - tc * tc)
            dxp[b, t, j] = dcn * g * i * (one - i)
            dxp[b, t, u + j] = dcn * cp[b, j] * f * (one - f)
            dxp[b, t, 2 * u + j] = dcn * i * (one - g * g)
            dxp[b, t, 3 * u + j] = dhn * tc * o * (one - o)
            dh[b, j] = keep * d
            dc[b, j] = keep * dct + dcn * f


@njit(cache=True, error_model="numpy")
def _gru_bwd(t, hp, cp, mask, ws, dhs, dcs, dh, dhg, dc, dxp, dhr, k):
    n, u = dh.shape
    for b in range(n):
        m = mask[b, t]
        for j in range(u):
            d = dh[b, j] + dhg[b, j] + dhs[b, t, j]
            z, r, hh, rh = ws[b, t, j], ws[b, t, u + j], ws[b, t, 2 * u + j], ws[b, t, 3 * u + j]
            dhn = m * d
            dah = dhn * (1.0 - z) * (1.0 - hh * hh)
            daz = dhn * (hp[b, j] - hh) * z * (1.0 - z)
            dar = dah * rh * r * (1.0 - r)
            dxp[b, t, j], dxp[b, t, u + j], dxp[b, t, 2 * u + j] = daz, dar, dah
            dhr[b, t, j], dhr[b, t, u + j], dhr[b, t, 2 * u + j] = daz, dar, dah * r
            dh[b, j] = (1.0 - m) * d + dhn * z


_BWD = {"simple": _simple_bwd, "lstm": _lstm_bwd, "gru": _gru_bwd}


class RnnKernelsNumba:
    """The fused recurrent kernels for float32/float64; other dtypes take the NumPy path."""

    def rnn_sequence(self, cell: str, xp: Array, h0: Array, c0: Array, r: Array, rb: Array,
                     mask: Array) -> tuple[Array, Array, Array]:
        if xp.dtype not in (np.float32, np.float64):
            return super().rnn_sequence(cell, xp, h0, c0, r, rb, mask)
        n, steps, g = xp.shape
        u = h0.shape[1]
        dt = xp.dtype
        hs = np.empty((n, steps, u), dt)
        cs = np.empty((n, steps, c0.shape[1]), dt)
        ws = np.empty((n, steps, WORKSPACE[cell] * u), dt)
        h, c = np.array(h0, dt, order="C"), np.array(c0, dt, order="C")
        mask = mask.astype(dt)
        scale = _scale(cell, u, dt)
        rs = np.ascontiguousarray(r * scale)
        if cell == "gru":  # the candidate's recurrent bias goes inside r * (h @ r_h + rb_h)
            xb = (xp[:, :, :2 * u] + rb[:2 * u]) * scale[:2 * u]
            rbh = np.ascontiguousarray(rb[2 * u:])
        else:
            xb = (xp + rb) * scale
        hr = np.empty((n, g), dt)
        tmp, tmp2 = np.empty((n, u), dt), np.empty((n, u), dt)
        with workers.single_threaded_blas():  # small products; BLAS's threads would spin
            self._forward_steps(cell, steps, u, h, c, rs, xb, xp, rbh if cell == "gru" else None,
                                mask, hr, tmp, tmp2, hs, cs, ws)
        return hs, cs, ws

    @staticmethod
    def _forward_steps(cell, steps, u, h, c, rs, xb, xp, rbh, mask, hr, tmp, tmp2, hs, cs, ws):
        k = np.array([0.5, 1.0], h.dtype)
        for t in range(steps):
            np.matmul(h, rs, out=hr)
            if cell == "simple":
                np.add(hr, xb[:, t], out=hr)
                np.tanh(hr, out=hr)
                _simple_state(hr, t, mask, h, hs, ws)
            elif cell == "lstm":
                np.add(hr, xb[:, t], out=hr)
                np.tanh(hr, out=hr)
                _lstm_gates(hr, t, c, tmp, ws, k)
                np.tanh(tmp, out=tmp2)
                _lstm_state(tmp2, tmp, t, mask, h, c, hs, cs, ws)
            else:
                a = hr[:, :2 * u] + xb[:, t]
                np.tanh(a, out=a)
                _gru_gates(a, hr, xp, rbh, t, tmp, ws)
                np.tanh(tmp, out=tmp2)
                _gru_state(tmp2, t, mask, h, hs, ws)

    def rnn_sequence_grad(self, cell: str, h0: Array, c0: Array, r: Array, mask: Array,
                          hs: Array, cs: Array, ws: Array, dhs: Array, dcs: Array
                          ) -> tuple[Array, Array, Array, Array, Array]:
        if hs.dtype not in (np.float32, np.float64):
            return super().rnn_sequence_grad(cell, h0, c0, r, mask, hs, cs, ws, dhs, dcs)
        n, steps, u = hs.shape
        dt = hs.dtype
        g = GATES[cell] * u
        dxp = np.empty((n, steps, g), dt)
        # the gradient through h @ r: the same as dxp except for GRU's candidate
        dhr = np.empty((n, steps, g), dt) if cell == "gru" else dxp
        dh, dhg, dc = np.zeros((n, u), dt), np.zeros((n, u), dt), np.zeros(c0.shape, dt)
        rt = np.ascontiguousarray(r.T)
        mask = mask.astype(dt, copy=False)
        kernel = _BWD[cell]
        k = np.array([0.5, 1.0], dt)
        with workers.single_threaded_blas():
            for t in range(steps - 1, -1, -1):
                hp, cp = (hs[:, t - 1], cs[:, t - 1]) if t else (h0, c0)
                kernel(t, hp, cp, mask, ws, dhs, dcs, dh, dhg, dc, dxp, dhr, k)
                np.matmul(dhr[:, t], rt, out=dhg)
        h_prev = np.concatenate([h0[:, None], hs[:, :-1]], axis=1).reshape(-1, u)
        flat = dhr.reshape(-1, g)
        dr = workers.matmul(h_prev.T, flat, np.empty((u, g), dt))  # split over the cores
        return dxp, dh + dhg, dc, dr, flat.sum(axis=0)
