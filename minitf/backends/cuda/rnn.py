"""The fused recurrent kernels for the GPU (the reference is ``../rnn_numpy.py``; the CPU
version, ``../numba_cpu/rnn.py``, has the same per-element bodies).

Per time step: one tiled matmul ``h @ recurrent_kernel`` and one kernel launch with a thread
per (batch row, unit) for the gates and the masked state update; backward likewise, and the
recurrent kernel's gradient at the end as one matmul over all steps. Everything stays on the
device. Other dtypes than float32/float64 run on the host (``NumpyBackend``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import cuda

from ..rnn_numpy import GATES, WORKSPACE
from . import layout

Array = Any
BLOCK = 128
_FLOATS = frozenset((np.dtype(np.float32), np.dtype(np.float64)))


@cuda.jit(device=True, inline=True)
def _sig(x):
    return 1.0 / (1.0 + math.exp(-x))


@cuda.jit
def simple_fwd(xp, t, hr, rb, mask, h, c, hs, cs, ws):
    n, u = h.shape
    for k in range(cuda.grid(1), n * u, cuda.gridsize(1)):
        b, j = k // u, k % u
        m = mask[b, t]
        hn = math.tanh(xp[b, t, j] + hr[b, j] + rb[j])
        ws[b, t, j] = hn
        h[b, j] = h[b, j] + m * (hn - h[b, j])
        hs[b, t, j] = h[b, j]


@cuda.jit
def lstm_fwd(xp, t, hr, rb, mask, h, c, hs, cs, ws):
    n, u = h.shape
    for k in range(cuda.grid(1), n * u, cuda.gridsize(1)):
        b, j = k // u, k % u
        m = mask[b, t]
        i = _sig(xp[b, t, j] + hr[b, j] + rb[j])
        f = _sig(xp[b, t, u + j] + hr[b, u + j] + rb[u + j])
        g = math.tanh(xp[b, t, 2 * u + j] + hr[b, 2 * u + j] + rb[2 * u + j])
        o = _sig(xp[b, t, 3 * u + j] + hr[b, 3 * u + j] + rb[3 * u + j])
        cn = f * c[b, j] + i * g
        tc = math.tanh(cn)
        hn = o * tc
        ws[b, t, 4 * u + j] = tc
        ws[b, t, j] = i
        ws[b, t, u + j] = f
        ws[b, t, 2 * u + j] = g
        ws[b, t, 3 * u + j] = o
        c[b, j] = c[b, j] + m * (cn - c[b, j])
        h[b, j] = h[b, j] + m * (hn - h[b, j])
        hs[b, t, j] = h[b, j]
        cs[b, t, j] = c[b, j]


@cuda.jit
def gru_fwd(xp, t, hr, rb, mask, h, c, hs, cs, ws):
    n, u = h.shape
    for k in range(cuda.grid(1), n * u, cuda.gridsize(1)):
        b, j = k // u, k % u
        m = mask[b, t]
        z = _sig(xp[b, t, j] + hr[b, j] + rb[j])
        r = _sig(xp[b, t, u + j] + hr[b, u + j] + rb[u + j])
        rh = hr[b, 2 * u + j] + rb[2 * u + j]
        hh = math.tanh(xp[b, t, 2 * u + j] + r * rh)
        hn = z * h[b, j] + (1.0 - z) * hh
        ws[b, t, j] = z
        ws[b, t, u + j] = r
        ws[b, t, 2 * u + j] = hh
        ws[b, t, 3 * u + j] = rh
        h[b, j] = h[b, j] + m * (hn - h[b, j])
        hs[b, t, j] = h[b, j]


@cuda.jit
def simple_bwd(t, h0, c0, mask, hs, cs, ws, dhs, dcs, dh, dhg, dc, dxp, dhr):
    n, u = dh.shape
    for k in range(cuda.grid(1), n * u, cuda.gridsize(1)):
        b, j = k // u, k % u
        m = mask[b, t]
        d = dh[b, j] + dhg[b, j] + dhs[b, t, j]
        hn = ws[b, t, j]
        da = m * d * (1.0 - hn * hn)
        dxp[b, t, j] = da
        dhr[t, b, j] = da
        dh[b, j] = (1.0 - m) * d


@cuda.jit
def lstm_bwd(t, h0, c0, mask, hs, cs, ws, dhs, dcs, dh, dhg, dc, dxp, dhr):
    n, u = dh.shape
    for k in range(cuda.grid(1), n * u, cuda.gridsize(1)):
        b, j = k // u, k % u
        m = mask[b, t]
        d = dh[b, j] + dhg[b, j] + dhs[b, t, j]
        dct = dc[b, j] + dcs[b, t, j]
        cp = cs[b, t - 1, j] if t > 0 else c0[b, j]
        i, f, g, o = ws[b, t, j], ws[b, t, u + j], ws[b, t, 2 * u + j], ws[b, t, 3 * u + j]
        tc = ws[b, t, 4 * u + j]
        dhn = m * d
        dcn = m * dct + dhn * o * (1.0 - tc * tc)
        di = dcn * g * i * (1.0 - i)
        df = dcn * cp * f * (1.0 - f)
        dg = dcn * i * (1.0 - g * g)
        do = dhn * tc * o * (1.0 - o)
        dxp[b, t, j] = di
        dxp[b, t, u + j] = df
        dxp[b, t, 2 * u + j] = dg
        dxp[b, t, 3 * u + j] = do
        dhr[t, b, j] = di
        dhr[t, b, u + j] = df
        dhr[t, b, 2 * u + j] = dg
        dhr[t, b, 3 * u + j] = do
        dh[b, j] = (1.0 - m) * d
        dc[b, j] = (1.0 - m) * dct + dcn * f


@cuda.jit
def gru_bwd(t, h0, c0, mask, hs, cs, ws, dhs, dcs, dh, dhg, dc, dxp, dhr):
    n, u = dh.shape
    for k in range(cuda.grid(1), n * u, cuda.gridsize(1)):
        b, j = k // u, k % u
        m = mask[b, t]
        d = dh[b, j] + dhg[b, j] + dhs[b, t, j]
        hp = hs[b, t - 1, j] if t > 0 else h0[b, j]
        z, r, hh, rh = ws[b, t, j], ws[b, t, u + j], ws[b, t, 2 * u + j], ws[b, t, 3 * u + j]
        dhn = m * d
        dah = dhn * (1.0 - z) * (1.0 - hh * hh)
        daz = dhn * (hp - hh) * z * (1.0 - z)
        dar = dah * rh * r * (1.0 - r)
        dxp[b, t, j] = daz
        dxp[b, t, u + j] = dar
        dxp[b, t, 2 * u + j] = dah
        dhr[t, b, j] = daz
        dhr[t, b, u + j] = dar
        dhr[t, b, 2 * u + j] = dah * r
        dh[b, j] = (1.0 - m) * d + dhn * z


@cuda.jit
def previous_states(h0, hs, out):
    """``out[t*n + b, j]`` = the state before step t: ``h0`` for t = 0, else ``hs[b, t-1]``."""
    n, steps, u = hs.shape
    for k in range(cuda.grid(1), steps * n * u, cuda.gridsize(1)):
        row, j = k // u, k % u
        t, b = row // n, row % n
        out[row, j] = h0[b, j] if t == 0 else hs[b, t - 1, j]


@cuda.jit
def add_into(a, b, out):
    for k in range(cuda.grid(1), a.shape[0] * a.shape[1], cuda.gridsize(1)):
        i, j = k // a.shape[1], k % a.shape[1]
        out[i, j] = a[i, j] + b[i, j]


FWD = {"simple": simple_fwd, "lstm": lstm_fwd, "gru": gru_fwd}
BWD = {"simple": simple_bwd, "lstm": lstm_bwd, "gru": gru_bwd}


def _grid(count: int) -> int:
    return max(1, min(-(-count // BLOCK), 1024))


class RnnKernelsCuda:
    """``rnn_sequence`` and ``rnn_sequence_grad`` on the device (mixed into CudaBackend)."""

    def rnn_sequence(self, cell: str, xp: Array, h0: Array, c0: Array, r: Array, rb: Array,
                     mask: Array, time_major: bool = False) -> tuple[Array, Array, Array]:
        from .backend import to_device

        xp, h0, c0, r, rb, mask = (to_device(a) for a in (xp, h0, c0, r, rb, mask))
        if xp.dtype not in _FLOATS or any(a.dtype != xp.dtype for a in (h0, c0, r, rb, mask)):
            return self._on_host("rnn_sequence", cell, xp, h0, c0, r, rb, mask, time_major)
        if time_major:  # the kernels index [batch, time]: swapped copies in and out
            res = self.rnn_sequence(cell, layout.swap01(xp), h0, c0, r, rb, layout.swap01(mask))
            return tuple(layout.swap01(a) for a in res)
        n, steps, _ = xp.shape
        u = h0.shape[1]
        hs = cuda.device_array((n, steps, u), xp.dtype)
        cs = cuda.device_array((n, steps, c0.shape[1]), xp.dtype)
        ws = cuda.device_array((n, steps, WORKSPACE[cell] * u), xp.dtype)
        h, c = cuda.device_array_like(h0), cuda.device_array_like(c0)
        h.copy_to_device(h0)  # the kernels update the state in place
        c.copy_to_device(c0)
        for t in range(steps):
            hr = self.matmul(h, r)
            FWD[cell][_grid(n * u), BLOCK](xp, t, hr, rb, mask, h, c, hs, cs, ws)
        return hs, cs, ws

    def rnn_sequence_grad(self, cell: str, h0: Array, c0: Array, r: Array, mask: Array,
                          hs: Array, cs: Array, ws: Array, dhs: Array, dcs: Array,
                          time_major: bool = False) -> tuple[Array, Array, Array, Array, Array]:
        from .backend import to_device

        arrs = [to_device(a) for a in (h0, c0, r, mask, hs, cs, ws, dhs, dcs)]
        h0, c0, r, mask, hs, cs, ws, dhs, dcs = arrs
        if hs.dtype not in _FLOATS or any(a.dtype != hs.dtype for a in arrs):
            return self._on_host("rnn_sequence_grad", cell, *arrs, time_major)
        if time_major:
            dxp, *rest = self.rnn_sequence_grad(cell, h0, c0, r, *(
                layout.swap01(a) for a in (mask, hs, cs, ws, dhs, dcs)))
            return (layout.swap01(dxp), *rest)
        n, steps, u = hs.shape
        g = GATES[cell] * u
        dt = hs.dtype
        dxp = cuda.device_array((n, steps, g), dt)
        dhr = cuda.device_array((steps, n, g), dt)
        dh = cuda.to_device(np.zeros((n, u), dt))
        dhg = cuda.to_device(np.zeros((n, u), dt))
        dc = cuda.to_device(np.zeros(c0.shape, dt))
        for t in range(steps - 1, -1, -1):
            BWD[cell][_grid(n * u), BLOCK](t, h0, c0, mask, hs, cs, ws, dhs, dcs, dh, dhg, dc,
                                           dxp, dhr)
            dhg = self.matmul(dhr[t], r, transpose_b=True).reshape((n, u))
        dh0 = cuda.device_array_like(dh)
        add_into[_grid(n * u), BLOCK](dh, dhg, dh0)
        prev = cuda.device_array((steps * n, u), dt)
        previous_states[_grid(steps * n * u), BLOCK](h0, hs, prev)
        flat = dhr.reshape((steps * n, g))
        dr = self.matmul(prev, flat, transpose_a=True).reshape((u, g))
        return dxp, dh0, dc, dr, self.reduce("sum", flat, (0,), False)
