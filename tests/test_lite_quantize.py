"""TFLite's quantization spec in ``minitf.lite.quantize`` and the integer kernels, against float
arithmetic (the spec's error bounds) and against the NumPy reference requantization."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from minitf.lite import kernels as K
from minitf.lite import quantize as Q

finite = st.floats(-1e3, 1e3, allow_nan=False, width=32)


@settings(deadline=None, max_examples=60)
@given(finite, finite)
def test_activation_params_cover_range_and_zero(a, b):
    lo, hi = min(a, b), max(a, b)
    scale, zp = Q.activation_params(lo, hi)
    assert -128 <= zp <= 127 and scale > 0
    # 0.0 is exact, and the range's ends are within half a step (plus the zero point's nudge)
    assert Q.dequantize(Q.quantize(np.float32(0.0), scale, zp), scale, zp) == 0.0
    for v in (min(lo, 0.0), max(hi, 0.0)):
        back = Q.dequantize(Q.quantize(np.float64(v), scale, zp), scale, zp)
        assert abs(float(back) - v) <= scale * 1.01 + 1e-6


@settings(deadline=None, max_examples=40)
@given(st.integers(1, 6), st.integers(1, 8), st.integers(0, 2**31 - 1))
def test_weights_symmetric_per_channel_error_half_step(rows, cols, seed):
    w = np.random.default_rng(seed).normal(0, 1, (rows, cols)) * np.random.default_rng(
        seed + 1).uniform(0.01, 10, cols)
    q, s = Q.quantize_weights(w, per_channel=True)
    assert q.dtype == np.int8 and q.min() >= -127 and q.max() <= 127 and s.shape == (cols,)
    assert np.all(np.abs(q * s.astype(np.float64) - w) <= s / 2 * (1 + 1e-6))
    qt, st_ = Q.quantize_weights(w, per_channel=False)
    assert st_.shape == (1,) and np.all(np.abs(qt * np.float64(st_[0]) - w) <= st_[0] / 2 + 1e-12)


@settings(deadline=None, max_examples=200)
@given(st.floats(1e-9, 1e3, allow_nan=False))
def test_quantize_multiplier_represents_real(real):
    m, shift = Q.quantize_multiplier(real)
    if m == 0:
        assert real < 2.0**-31
        return
    assert 2**30 <= m < 2**31
    assert math.isclose(m * 2.0 ** (shift - 31), real, rel_tol=2.0**-30)


@settings(deadline=None, max_examples=100)
@given(st.lists(st.integers(-(2**24), 2**24), min_size=1, max_size=16),
       st.floats(1e-6, 0.99), st.integers(-128, 127))
def test_requantize_is_rounded_float_product(acc, real, zp):
    """Integer rescale = round(acc * M) + zp within one step (the multiplier's 31-bit error)."""
    acc = np.array(acc, np.int32)
    m, shift = Q.multipliers(np.array([real]))
    got = _requant64(acc, m[0], shift[0], zp)
    want = np.floor(acc.astype(np.float64) * real + 0.5) + zp
    assert np.all(np.abs(got - want) <= 1)
    # the Numba kernel's scalar requant agrees with the NumPy reference bit for bit
    ref = Q.requantize(acc, m, shift, zp)
    ker = np.array([K.requant(int(a), m[0], shift[0], zp, -128, 127) for a in acc], np.int64)
    assert np.array_equal(ref.astype(np.int64), ker)


def _requant64(acc, m, shift, zp):
    total = 31 - np.int64(shift)
    return ((acc.astype(np.int64) * np.int64(m) + (np.int64(1) << (total - 1))) >> total) + zp


def test_int8_dense_kernel_matches_float_within_spec():
    """The integer Dense (fc_int8) vs float: error within a few output steps; and bit-exact
    against the NumPy reference pipeline (quantize, int32 accumulate, requantize)."""
    rng = np.random.default_rng(0)
    x = rng.normal(0.3, 1.0, (8, 40)).astype(np.float32)
    w = rng.normal(0, 0.2, (40, 12)).astype(np.float32)
    b = rng.normal(0, 0.1, 12).astype(np.float32)
    y = x @ w + b
    si, zi = Q.activation_params(x.min(), x.max())
    so, zo = Q.activation_params(y.min(), y.max())
    xq = Q.quantize(x, si, zi)
    wq, ws = Q.quantize_weights(w)
    bq = Q.quantize_bias(b, si, ws)
    m, sh = Q.multipliers(si * ws.astype(np.float64) / so)
    folded = (bq - zi * wq.astype(np.int64).sum(axis=0)).astype(np.int32)
    out = np.zeros((8, 12), np.int8)
    K.fc_int8(xq, np.ascontiguousarray(wq.T), folded, m, sh, zo, -128, 127,
              np.zeros(wq.shape[0], np.int8), np.zeros(12, np.int32), out)
    acc = (xq.astype(np.int64) - zi) @ wq.astype(np.int64) + bq
    assert np.array_equal(out, Q.requantize(acc, m, sh, zo))
    err = np.abs(Q.dequantize(out, so, zo) - y)
    # input rounding (si/2 per term), weight rounding (ws/2 per term) and output rounding
    bound = so + 0.5 * (si * np.abs(w).sum(axis=0) + ws * np.abs(x).sum(axis=1, keepdims=True))
    assert np.all(err <= bound)
    assert err.max() < 3 * so


def test_int8_conv_kernel_matches_reference():
    rng = np.random.default_rng(1)
    x = rng.integers(-128, 128, (2, 6, 7, 3)).astype(np.int8)
    w = rng.integers(-127, 128, (3, 2, 3, 5)).astype(np.int8)
    bias = rng.integers(-1000, 1000, 5).astype(np.int32)
    m, sh = Q.multipliers(np.full(5, 0.003))
    out = np.zeros((2, 4, 6, 5), np.int8)
    K.conv_int8(x, w, bias, m, sh, -3, -128, 127, 1, 1, np.zeros((6, 5), np.int32), out)
    acc = np.zeros((2, 4, 6, 5), np.int64) + bias
    for i in range(3):
        for j in range(2):
            acc += np.einsum("nhwc,co->nhwo", x[:, i:i + 4, j:j + 6].astype(np.int64),
                             w[i, j].astype(np.int64))
    assert np.array_equal(out, Q.requantize(acc, m, sh, -3))


def test_int8_softmax_and_max_pool():
    rng = np.random.default_rng(2)
    x = rng.integers(-128, 128, (4, 10)).astype(np.int8)
    si = 0.1
    table = np.rint(2.0**20 * np.exp(-np.arange(256) * si)).astype(np.int32)
    out = np.zeros_like(x)
    K.softmax_int8(x, table, out)
    p = np.exp(si * x.astype(np.float64))
    p /= p.sum(axis=1, keepdims=True)
    assert np.abs((out.astype(np.float64) + 128) / 256 - p).max() <= 1 / 256 + 1e-3
    img = rng.integers(-128, 128, (1, 4, 6, 2)).astype(np.int8)
    pooled = np.zeros((1, 2, 3, 2), np.int8)
    K.max_pool(img, 2, 2, 2, 2, pooled)
    assert np.array_equal(pooled, img.reshape(1, 2, 2, 3, 2, 2).max(axis=(2, 4)))
