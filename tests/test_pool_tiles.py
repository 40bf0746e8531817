"""The Numba backend's tiled paths for FusedConv2DMaxPool with 2x2 pooling at stride 2: the
Winograd F(2x2, 3x3) transforms are exact and each backward transform is the adjoint of its
forward one; the filter placed four times for the patch path folds back; the ops equal the
NumPy reference (which convolves directly) over random geometries; an argmax outside its
window falls back to the im2col path."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from op_cases import argmax_into

from minitf.backends.numba_cpu import NumbaBackend, pool_patches, winograd
from minitf.backends.numpy_backend import NumpyBackend

NB, REF = NumbaBackend(), NumpyBackend()


def test_one_tile_is_the_correlation_of_its_patch():
    rng = np.random.default_rng(0)
    d, g = rng.standard_normal((4, 4)), rng.standard_normal((3, 3))
    y = winograd.AT @ ((winograd.G @ g @ winograd.G.T) * (winograd.BT @ d @ winograd.BT.T)) \
        @ winograd.AT.T
    direct = [[np.sum(d[r:r + 3, c:c + 3] * g) for c in (0, 1)] for r in (0, 1)]
    np.testing.assert_allclose(y, direct, rtol=1e-12)


def test_filter_transform_and_its_adjoint():
    rng = np.random.default_rng(1)
    w, du = rng.standard_normal((3, 3, 2, 5)), rng.standard_normal((16, 2, 5))
    u = winograd.filter_transform(w)
    np.testing.assert_allclose(u[:, 1, 3].reshape(4, 4),
                               winograd.G @ w[:, :, 1, 3] @ winograd.G.T, rtol=1e-12)
    # <F w, du> == <w, Fᵀ du>
    np.testing.assert_allclose(np.vdot(u, du), np.vdot(w, winograd.filter_adjoint(du)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_input_transform_and_its_adjoint(dtype):
    rng = np.random.default_rng(2)
    P, Q, ci = 3, 2, 9
    x = rng.standard_normal((2, 2 * P + 2, 2 * Q + 2, ci)).astype(dtype)
    dv = rng.standard_normal((16, 2 * P * Q, ci)).astype(dtype)
    vals, bt, _ = winograd.tables(dtype)
    v = np.empty_like(dv)
    winograd.input_transform(x, P, Q, winograd.BT_COLS, vals, v)
    patch = x[1, 2:6, 2:6, 4].astype(np.float64)  # image 1, tile (1, 1), channel 4
    np.testing.assert_allclose(v[:, (1 * P + 1) * Q + 1, 4].reshape(4, 4),
                               winograd.BT @ patch @ winograd.BT.T, rtol=1e-5)
    dx = np.zeros_like(x)
    winograd.input_adjoint(dv, P, Q, bt, dx)
    tol = 1e-4 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(np.vdot(v, dv), np.vdot(x, dx), rtol=tol)


def _no_im2col(*_args, **_kw):
    raise AssertionError("the im2col path ran instead of Winograd")


@settings(deadline=None, max_examples=40)
@given(n=st.integers(1, 3), h=st.integers(3, 9), w=st.integers(3, 9), ci=st.integers(1, 10),
       co=st.integers(1, 4), kh=st.integers(1, 4), kw=st.integers(1, 4),
       padding=st.sampled_from(["VALID", "SAME"]),
       pool_padding=st.sampled_from(["VALID", "SAME"]), relu=st.booleans(),
       seed=st.integers(0, 2**16))
def test_tiled_paths_equal_the_reference(n, h, w, ci, co, kh, kw, padding, pool_padding, relu,
                                         seed):
    """Winograd (3x3, >= 8 channels) or one patch per window (fewer channels, any filter
    size): forward and filter gradient never build im2col columns; the input gradient
    does only on the patch path (it has none of its own)."""
    if ci >= winograd.MIN_CHANNELS:
        kh = kw = 3
    # a VALID convolution or pooling needs an input at least its window's size
    assume(padding == "SAME" or (h >= kh and w >= kw))
    oh, ow = (h, w) if padding == "SAME" else (h - kh + 1, w - kw + 1)
    assume(pool_padding == "SAME" or (oh >= 2 and ow >= 2))
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, h, w, ci))
    f, b = rng.standard_normal((kh, kw, ci, co)), rng.standard_normal(co)
    pool = ((2, 2), (2, 2), pool_padding)
    act = "relu" if relu else "linear"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(NumbaBackend, "_columns", staticmethod(_no_im2col))
        got = NB.conv2d_bias_act_max_pool(x, f, b, (1, 1), padding, (1, 1), act, *pool)
        want = REF.conv2d_bias_act_max_pool(x, f, b, (1, 1), padding, (1, 1), act, *pool)
        np.testing.assert_allclose(got[0], want[0], rtol=1e-10, atol=1e-10)
        np.testing.assert_array_equal(got[1], want[1])
        g = rng.standard_normal(want[0].shape)
        args = (x, f.shape, want[1], g, (1, 1), padding, (1, 1))
        np.testing.assert_allclose(NB.fused_conv2d_max_pool_backprop_filter(*args),
                                   REF.fused_conv2d_max_pool_backprop_filter(*args),
                                   rtol=1e-10, atol=1e-10)
        if ci < winograd.MIN_CHANNELS:
            mp.undo()
        args = (x.shape, f, want[1], g, (1, 1), padding, (1, 1))
        np.testing.assert_allclose(NB.fused_conv2d_max_pool_backprop_input(*args),
                                   REF.fused_conv2d_max_pool_backprop_input(*args),
                                   rtol=1e-10, atol=1e-10)


def test_float32_on_the_mnist_layer_is_as_accurate_as_im2col():
    rng = np.random.default_rng(3)
    x = rng.uniform(0, 1, (4, 13, 13, 32))
    f, b = rng.standard_normal((3, 3, 32, 64)) * 0.1, rng.standard_normal(64) * 0.1
    pool = ((2, 2), (2, 2), "VALID")
    exact = REF.conv2d_bias_act_max_pool(x, f, b, (1, 1), "VALID", (1, 1), "relu", *pool)[0]
    x32, f32, b32 = (a.astype(np.float32) for a in (x, f, b))
    wino = NB.conv2d_bias_act_max_pool(x32, f32, b32, (1, 1), "VALID", (1, 1), "relu", *pool)[0]
    im2col = REF.conv2d_bias_act_max_pool(x32, f32, b32, (1, 1), "VALID", (1, 1), "relu",
                                          *pool)[0]
    err_w, err_i = np.abs(wino - exact).max(), np.abs(im2col - exact).max()
    assert err_w < 4 * err_i + 1e-6, (err_w, err_i)


@pytest.mark.parametrize("op, ci", [("fused_conv2d_max_pool_backprop_filter", 8),
                                    ("fused_conv2d_max_pool_backprop_input", 8),
                                    ("fused_conv2d_max_pool_backprop_filter", 2)])
def test_an_argmax_outside_its_window_falls_back_to_im2col(op, ci):
    rng = np.random.default_rng(4)
    x, f = rng.standard_normal((2, 8, 8, ci)), rng.standard_normal((3, 3, ci, 4))
    g = rng.standard_normal((2, 3, 3, 4))
    argmax = argmax_into(2, 3, 3, 4, 6, 6, windows=True)(rng)
    argmax[1, 2, 0, 3] = (0 * 6 + 5) * 4 + 3  # row 0, col 5: inside the image, not the window
    first = x if op.endswith("filter") else x.shape
    second = f.shape if op.endswith("filter") else f
    args = (first, second, argmax, g, (1, 1), "VALID", (1, 1))
    np.testing.assert_allclose(getattr(NB, op)(*args), getattr(REF, op)(*args), rtol=1e-10)


def test_the_expanded_filter_folds_back_as_its_adjoint():
    rng = np.random.default_rng(5)
    w = rng.standard_normal((3, 2, 2, 5))
    w4 = pool_patches.expand_filter(w)
    r = rng.standard_normal(w4.shape)
    np.testing.assert_allclose(np.vdot(w4, r), np.vdot(w, pool_patches.fold(r, w.shape)))
    # block (a, b) = 1 + 2 = 3 holds the filter shifted one row and one column down
    np.testing.assert_array_equal(w4.reshape(4, 3, 2, 2, 2, 5)[1:, 1:, :, 1, 1], w)


@pytest.mark.parametrize("shape, strides, dilations, ok", [
    ((3, 3, 8, 4), (1, 1), (1, 1), True),
    ((3, 3, 7, 4), (1, 1), (1, 1), False),  # few input channels: im2col
    ((5, 5, 8, 4), (1, 1), (1, 1), False),
    ((3, 3, 8, 4), (2, 2), (1, 1), False),
    ((3, 3, 8, 4), (1, 1), (2, 2), False),
])
def test_winograd_applies_only_to_its_geometry(shape, strides, dilations, ok):
    assert winograd.applies(shape, strides, dilations) is ok
    # the patch path takes stride-1 convolutions with fewer channels, of any filter size
    few = shape[2] < winograd.MIN_CHANNELS and strides == dilations == (1, 1)
    assert pool_patches.applies(shape, strides, dilations) is few
