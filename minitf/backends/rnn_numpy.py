"""Reference kernels of the fused recurrent ops (``minitf/ops/rnn_ops.py``), in NumPy.

Shapes (batch-major, as Keras): ``xp`` [batch, time, gates*units] is the input projection of
every step (``x @ kernel``, plus the input bias for GRU), ``h0``/``c0`` [batch, units] the
initial state (``c0`` has 0 columns except for LSTM), ``r`` [units, gates*units] the recurrent
kernel, ``rb`` [gates*units] the bias added to ``h @ r``, ``mask`` [batch, time] 1.0 for a real
step and 0.0 for a padded one (the state is carried through unchanged). With ``time_major``
every array with a time axis has it first instead ([time, batch, ...]; the Keras layers run
so, since the CPU kernels are faster when each step's rows are contiguous).

Gate order is Keras's: SimpleRNN ``h``; LSTM ``i, f, c, o``; GRU (``reset_after=True``)
``z, r, h``. The workspace ``ws`` keeps what the backward pass needs: the new state before
masking (SimpleRNN), the activated gates and one more block (LSTM ``i, f, g, o`` and
``tanh(c_new)``; GRU ``z, r, hh`` and its recurrent projection of the candidate
``h @ r_h + rb_h``).
"""

from __future__ import annotations

import numpy as np

from .base import Array

GATES = {"simple": 1, "lstm": 4, "gru": 3}
WORKSPACE = {"simple": 1, "lstm": 5, "gru": 4}


def _sigmoid(x: Array) -> Array:
    return 0.5 * (np.tanh(0.5 * x) + 1.0)  # never overflows, unlike 1 / (1 + exp(-x))


def step(cell: str, p: Array, hr: Array, h: Array, c: Array) -> tuple[Array, Array, Array]:
    """One unmasked step: ``p`` input projection, ``hr = h @ r + rb``; returns
    ``(h_new, c_new, workspace)``."""
    u = h.shape[1]
    if cell == "simple":
        hn = np.tanh(p + hr)
        return hn, c, hn
    if cell == "lstm":
        z = p + hr
        i, f, o = _sigmoid(z[:, :u]), _sigmoid(z[:, u:2 * u]), _sigmoid(z[:, 3 * u:])
        g = np.tanh(z[:, 2 * u:3 * u])
        cn = f * c + i * g
        tc = np.tanh(cn)
        return o * tc, cn, np.concatenate([i, f, g, o, tc], axis=1)
    zg = _sigmoid(p[:, :u] + hr[:, :u])
    rg = _sigmoid(p[:, u:2 * u] + hr[:, u:2 * u])
    hh = np.tanh(p[:, 2 * u:] + rg * hr[:, 2 * u:])
    return zg * h + (1 - zg) * hh, c, np.concatenate([zg, rg, hh, hr[:, 2 * u:]], axis=1)


def step_grad(cell: str, ws: Array, h: Array, c: Array, dhn: Array, dc: Array
              ) -> tuple[Array, Array, Array, Array]:
    """Backward of :func:`step` given ``dhn`` (and ``dc``, LSTM) on its new state: returns
    ``(dp, dhr, dh_direct, dc_prev)`` where ``dh_direct`` is the part of ``dh`` that does not go
    through ``h @ r``."""
    u = h.shape[1]
    if cell == "simple":
        da = dhn * (1 - ws * ws)
        return da, da, np.zeros_like(h), c
    if cell == "lstm":
        i, f, g, o, tc = (ws[:, k * u:(k + 1) * u] for k in range(5))
        dcn = dc + dhn * o * (1 - tc * tc)
        dz = np.concatenate([dcn * g * i * (1 - i), dcn * c * f * (1 - f),
                             dcn * i * (1 - g * g), dhn * tc * o * (1 - o)], axis=1)
        return dz, dz, np.zeros_like(h), dcn * f
    zg, rg, hh, hrh = (ws[:, k * u:(k + 1) * u] for k in range(4))
    dah = dhn * (1 - zg) * (1 - hh * hh)
    daz = dhn * (h - hh) * zg * (1 - zg)
    dar = dah * hrh * rg * (1 - rg)
    return (np.concatenate([daz, dar, dah], axis=1),
            np.concatenate([daz, dar, dah * rg], axis=1), dhn * zg, c)


def _swap(a: Array) -> Array:
    """Time-major <-> batch-major: the first two axes swapped (a view)."""
    return np.swapaxes(a, 0, 1)


class RnnKernelsNumpy:
    """``rnn_sequence`` and ``rnn_sequence_grad``: a loop over time, one GEMM per step."""

    def rnn_sequence(self, cell: str, xp: Array, h0: Array, c0: Array, r: Array, rb: Array,
                     mask: Array, time_major: bool = False) -> tuple[Array, Array, Array]:
        """``(hs, cs, ws)``: the state after every step, [batch, time, units] each (``cs`` has
        0 columns except for LSTM), and the workspace for the backward pass. ``time_major``:
        every array with a time axis has it first ([time, batch, ...])."""
        if time_major:
            res = self.rnn_sequence(cell, _swap(xp), h0, c0, r, rb, _swap(mask))
            return tuple(_swap(a) for a in res)
        n, steps, _ = xp.shape
        u = h0.shape[1]
        hs = np.empty((n, steps, u), xp.dtype)
        cs = np.empty((n, steps, c0.shape[1]), xp.dtype)
        ws = np.empty((n, steps, WORKSPACE[cell] * u), xp.dtype)
        h, c = h0, c0
        for t in range(steps):
            hn, cn, ws[:, t] = step(cell, xp[:, t], h @ r + rb, h, c)
            m = mask[:, t, None]
            h = m * hn + (1 - m) * h
            c = m * cn + (1 - m) * c
            hs[:, t], cs[:, t] = h, c
        return hs, cs, ws

    def rnn_sequence_grad(self, cell: str, h0: Array, c0: Array, r: Array, mask: Array,
                          hs: Array, cs: Array, ws: Array, dhs: Array, dcs: Array,
                          time_major: bool = False) -> tuple[Array, Array, Array, Array, Array]:
        """Backpropagation through time: ``(dxp, dh0, dc0, dr, drb)`` given the gradients
        ``dhs``/``dcs`` on every step's state."""
        if time_major:
            dxp, *rest = self.rnn_sequence_grad(cell, h0, c0, r, *(
                _swap(a) for a in (mask, hs, cs, ws, dhs, dcs)))
            return (_swap(dxp), *rest)
        n, steps, u = hs.shape
        g = GATES[cell] * u
        dxp = np.empty((n, steps, g), hs.dtype)
        dhr = np.empty((n, steps, g), hs.dtype)
        dh = np.zeros_like(h0)
        dc = np.zeros_like(c0)
        for t in range(steps - 1, -1, -1):
            h = hs[:, t - 1] if t else h0
            c = cs[:, t - 1] if t else c0
            m = mask[:, t, None]
            dh = dh + dhs[:, t]
            dc = dc + dcs[:, t]
            dp, dhr[:, t], dh_direct, dc_prev = step_grad(cell, ws[:, t], h, c, m * dh, m * dc)
            dxp[:, t] = dp
            dh = (1 - m) * dh + dh_direct + dhr[:, t] @ r.T
            dc = (1 - m) * dc + dc_prev if cell == "lstm" else dc
        h_prev = np.concatenate([h0[:, None], hs[:, :-1]], axis=1).reshape(-1, u)
        flat = dhr.reshape(-1, g)
        return dxp, dh, dc, h_prev.T @ flat, flat.sum(axis=0)
