"""Numba CPU kernels of the ``tf.lite`` interpreter: int8, hybrid (dynamic-range) and float32.

Every kernel writes into an output array the interpreter allocated once, at
``allocate_tensors``; none allocates per call. The int8 kernels are integer from end to end:
int8 x int8 products summed in int32, the input zero point folded into the int32 bias
(``sum((x - zx) * w) = sum(x * w) - zx * sum(w)``, since weights have zero point 0), then
:func:`requant`: an int64 multiply by the layer's fixed-point multiplier, a rounding shift,
the output zero point and the fused activation's clamp.

Layouts (minitf's own, see ``format.py``): Dense weights ``[out, in]`` so each output is one
contiguous dot product (LLVM vectorizes the int8 one into int16 multiply-adds, vpmaddwd; the
interpreter hands the int8 values over in int16 so that no load needs a sign extension);
convolution weights ``[kh, kw, in, out]`` (Keras' HWIO) so the innermost loop updates all
output channels of a pixel at once (:func:`conv_int8`), or, with column stride 1, tiled along
a whole output row so that each tap is one long loop (:func:`conv_wide_int8`). Convolutions
read an input already padded (for SAME, the pad value is the input zero point, which the
folded bias turns into an exact 0). What LLVM vectorizes depends on the loop's shape: a
reduction whose both operands are contiguous int8/int16 becomes multiply-adds, a short inner
loop (16 channels) runs in its scalar/narrow remainder code, so the fast kernels give the
vectorizer long contiguous inner loops.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# -- shared pieces -----------------------------------------------------------------------------


@njit(cache=True, nogil=True, inline="always")
def requant(acc, m, shift, zp, lo, hi):
    """``clip(((acc * m + 2**(30 - shift)) >> (31 - shift)) + zp, lo, hi)`` in integers."""
    total = np.int64(31 - shift)
    v = (np.int64(acc) * np.int64(m) + (np.int64(1) << (total - 1))) >> total
    v += zp
    return lo if v < lo else (hi if v > hi else v)


@njit(cache=True, nogil=True, inline="always")
def _dot_i8(a, b):
    s = np.int32(0)
    for k in range(a.shape[0]):
        # Numba types int32 * int32 as int64; truncating each step lets LLVM keep the whole
        # reduction in 32-bit lanes (twice as many per vector, widening multiply-adds)
        s = np.int32(s + np.int32(a[k]) * np.int32(b[k]))
    return s


@njit(cache=True, nogil=True, fastmath=True, inline="always")
def _dot_f32(a, b):
    s = np.float32(0.0)
    for k in range(a.shape[0]):
        s += a[k] * b[k]
    return s


@njit(cache=True, nogil=True, inline="always")
def _conv_row(x, n, r0, sw, w, acc):
    """``acc[c, o] += sum_{i,j,ch} x[n, r0+i, c*sw+j, ch] * w[i, j, ch, o]`` for every output
    column c of one output row (acc [out_w, out_ch], preset to the bias).

    A whole row per pass (not a pixel): each weight vector ``w[i, j, ch]`` is loaded once per
    row, and the innermost loop updates all output channels of a pixel in SIMD lanes
    (measured on the MNIST CNN's first layer: 3.2x faster than pixel by pixel at batch 1).
    """
    kh, kw, ci, co = w.shape
    for i in range(kh):
        xrow = x[n, r0 + i]
        for j in range(kw):
            for ch in range(ci):
                wr = w[i, j, ch]
                for c in range(acc.shape[0]):
                    xv = _narrow(acc, xrow[c * sw + j, ch])
                    a = acc[c]
                    for o in range(co):
                        a[o] = _narrow(a, a[o] + xv * wr[o])


@njit(cache=True, nogil=True, inline="always")
def _narrow(like, v):
    """``v`` in ``like``'s dtype: int32 accumulators stay 32-bit (see ``_dot_i8``)."""
    return like.dtype.type(v)


@njit(cache=True, nogil=True)
def _symmetric_int8(x, xq):
    """Quantize ``x`` (any shape, contiguous) into ``xq`` with scale max|x| / 127; the scale."""
    xf, qf = x.ravel(), xq.ravel()
    amax = np.float32(0.0)
    for k in range(xf.shape[0]):
        v = abs(xf[k])
        if v > amax:
            amax = v
    scale = amax / np.float32(127.0) if amax > 0 else np.float32(1.0)
    inv = np.float32(1.0) / scale
    for k in range(xf.shape[0]):
        qf[k] = np.int8(round(xf[k] * inv))
    return scale


# -- quantize / dequantize ---------------------------------------------------------------------


@njit(cache=True, nogil=True)
def quantize(x, scale, zp, out):
    """float32 -> int8: ``clip(round(x / scale) + zp, -128, 127)`` (half to even)."""
    xf, of = x.ravel(), out.ravel()
    inv = 1.0 / scale
    for k in range(xf.shape[0]):
        v = round(xf[k] * inv) + zp
        of[k] = -128 if v < -128 else (127 if v > 127 else v)


@njit(cache=True, nogil=True)
def dequantize(q, scale, zp, out):
    """int8 -> float32: ``(q - zp) * scale`` (also float16 -> float32 with scale 1, zp 0)."""
    qf, of = q.ravel(), out.ravel()
    for k in range(qf.shape[0]):
        of[k] = np.float32((np.float64(qf[k]) - zp) * scale)


# -- fully connected -----------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def fc_int8(x, w, bias, m, shift, zp, lo, hi, xs, acc, out):
    """``out = requant(x @ w.T + bias)``: x int8 [N, K], w int8 values [O, K] (held in int8 or
    int16), bias int32 [O]. Scratch: xs [K] of w's dtype, where each row of x is widened once
    (not once per output: ~10 % faster with int16 weights), and acc int32 [O], so that a row
    is requantized in one vector loop."""
    for n in range(x.shape[0]):
        for k in range(xs.shape[0]):
            xs[k] = x[n, k]
        for o in range(w.shape[0]):
            acc[o] = bias[o] + _dot_i8(xs, w[o])
        requant_row(acc, m, shift, zp, lo, hi, out[n])


@njit(cache=True, nogil=True, fastmath=True)
def fc_float(x, w, bias, lo, hi, out):
    """``out = clip(x @ w.T + bias, lo, hi)`` in float32 (lo = 0 is a fused ReLU)."""
    for n in range(x.shape[0]):
        xr = x[n]
        for o in range(w.shape[0]):
            v = bias[o] + _dot_f32(xr, w[o])
            out[n, o] = lo if v < lo else (hi if v > hi else v)


@njit(cache=True, nogil=True, fastmath=True)
def fc_hybrid(x, w, w_scale, bias, lo, hi, xq, out):
    """Dynamic range: each input row quantized on the fly (symmetric), int8 dot products,
    then ``acc * x_scale * w_scale + bias`` in float32."""
    for n in range(x.shape[0]):
        sx = _symmetric_int8(x[n], xq)
        for o in range(w.shape[0]):
            v = np.float32(_dot_i8(xq, w[o])) * (sx * w_scale[o]) + bias[o]
            out[n, o] = lo if v < lo else (hi if v > hi else v)


@njit(cache=True, nogil=True, inline="always")
def _transpose(x, xt):
    """``xt[k, n] = x[n, k]`` in tiles of 32 columns (x's rows read contiguously)."""
    n_rows, n_cols = x.shape
    for k0 in range(0, n_cols, 32):
        for n in range(n_rows):
            xr = x[n]
            for k in range(k0, min(k0 + 32, n_cols)):
                xt[k, n] = xr[k]


@njit(cache=True, nogil=True, inline="always")
def _sparse_row(xt, indptr, indices, values, bias, o, acc):
    """``acc[n] = bias[o] + sum_p values[p] * xt[indices[p], n]`` over output o's nonzeros:
    one axpy over the whole batch per nonzero (vectorized along n)."""
    for n in range(acc.shape[0]):
        acc[n] = bias[o]
    for p in range(indptr[o], indptr[o + 1]):
        v = values[p]
        xr = xt[indices[p]]
        for n in range(acc.shape[0]):
            acc[n] = _narrow(acc, acc[n] + _narrow(acc, v) * _narrow(acc, xr[n]))


@njit(cache=True, nogil=True)
def fc_sparse_int8(x, indptr, indices, values, bias, m, shift, zp, lo, hi, xt, acc, out):
    """:func:`fc_int8` with the weights' nonzeros in CSR rows (one row per output), as outer
    products over the batch: x is transposed once into xt [K, N] (int8), then each nonzero
    adds ``w * x[:, k]`` to the int32 accumulators of its output (acc: [N] scratch). The work
    is ``nnz * N`` instead of ``O * K * N``; it pays for large batches only (see the
    interpreter's cost model)."""
    _transpose(x, xt)
    for o in range(indptr.shape[0] - 1):
        _sparse_row(xt, indptr, indices, values, bias, o, acc)
        for n in range(acc.shape[0]):
            out[n, o] = requant(acc[n], m[o], shift[o], zp, lo, hi)


@njit(cache=True, nogil=True, fastmath=True)
def fc_sparse_float(x, indptr, indices, values, bias, lo, hi, xt, acc, out):
    """:func:`fc_float` as :func:`fc_sparse_int8` does it (xt float32 [K, N], acc [N])."""
    _transpose(x, xt)
    for o in range(indptr.shape[0] - 1):
        _sparse_row(xt, indptr, indices, values, bias, o, acc)
        for n in range(acc.shape[0]):
            v = acc[n]
            out[n, o] = lo if v < lo else (hi if v > hi else v)


# -- convolution -----------------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def pad(x, top, left, value, out):
    """Copy x [N, H, W, C] into the middle of out, filling the border with ``value``."""
    out[:] = value
    h, w = x.shape[1], x.shape[2]
    out[:, top:top + h, left:left + w, :] = x


@njit(cache=True, nogil=True, inline="always")
def requant_row(acc, m, shift, zp, lo, hi, out):
    """:func:`requant` of one pixel's int32 channels into int8 ``out`` (a branch-free loop
    LLVM vectorizes: int64 lanes, per-lane shifts)."""
    for o in range(out.shape[0]):
        total = np.int64(31 - shift[o])
        v = (np.int64(acc[o]) * np.int64(m[o]) + (np.int64(1) << (total - 1))) >> total
        out[o] = min(max(v + zp, lo), hi)


@njit(cache=True, nogil=True, inline="always")
def _bias_rows(acc, bias):
    for c in range(acc.shape[0]):
        a = acc[c]
        for o in range(a.shape[0]):
            a[o] = bias[o]


@njit(cache=True, nogil=True)
def conv_int8(x, w, bias, m, shift, zp, lo, hi, sh, sw, acc, out):
    """Integer convolution of a padded int8 x with int8 w [kh, kw, in, out], requantized
    (acc: int32 [out_w, out_ch] scratch)."""
    n_img, oh, ow, co = out.shape
    for n in range(n_img):
        for r in range(oh):
            _bias_rows(acc, bias)
            _conv_row(x, n, r * sh, sw, w, acc)
            for c in range(ow):
                requant_row(acc[c], m, shift, zp, lo, hi, out[n, r, c])


@njit(cache=True, nogil=True)
def conv_pool_int8(x, w, bias, m, shift, zp, lo, hi, sh, sw, fh, fw, psh, psw, acc, pacc, out):
    """:func:`conv_int8` fused with the VALID ``fh x fw`` max pool (strides psh, psw) after it:
    the int32 sums of a window are maxed first and requantized once. Exact, because the
    requantization is non-decreasing (positive multiplier, rounding shift, clamp), so the max
    of the requantized values is the requantization of the max; it skips the int8 conv output
    and 3/4 of the requantizations of a 2x2 pool. acc: int32 [fh, needed conv columns, out_ch],
    pacc: int32 [out_ch], out: the pool's output."""
    n_img, ph, pw, co = out.shape
    for n in range(n_img):
        for pr in range(ph):
            for q in range(fh):
                _bias_rows(acc[q], bias)
                _conv_row(x, n, (pr * psh + q) * sh, sw, w, acc[q])
            for pc in range(pw):
                c0 = pc * psw
                first = acc[0, c0]
                for o in range(co):
                    pacc[o] = first[o]
                for q in range(fh):
                    for j in range(fw):
                        a = acc[q, c0 + j]
                        for o in range(co):
                            pacc[o] = max(pacc[o], a[o])  # branch-free: SIMD over channels
                requant_row(pacc, m, shift, zp, lo, hi, out[n, pr, pc])


@njit(cache=True, nogil=True)
def conv_wide_int8(x, taps, wt, bias, m, shift, zp, lo, hi, sh, fh, fw, psh, psw, xr, acc,
                   pacc, out):
    """:func:`conv_pool_int8` for convolutions with column stride 1, in long vector loops.

    Each input row is spread once per image into ``xr`` (int16 [H, in, W * out_ch]: every
    value repeated out_ch times), and the weights are tiled along a row at allocate_tensors
    (``wt`` int16 [taps, cols * out_ch], taps in pairs, a pad tap has weight 0); a tap then
    adds ``xr[r + i, ch, j * out_ch:] * wt[tap]`` to a whole output row (acc int32 [fh,
    cols * out_ch]) in one contiguous loop, instead of one short loop per pixel. Two taps'
    products are summed in int16 before widening: exact, as |x * w| <= 128 * 127 and two of
    them fit int16 (the caller ensures no weight is -128). ``taps`` int64 [taps, 3] holds
    (i, j, ch); pool 1 x 1 with strides 1 is the plain convolution.
    """
    n_img, ph, pw, co = out.shape
    ci, span = xr.shape[1], wt.shape[1]
    for n in range(n_img):
        for r in range(x.shape[1]):
            for ch in range(ci):
                dst = xr[r, ch]
                for c in range(x.shape[2]):
                    v = np.int16(x[n, r, c, ch])
                    d = dst[c * co:(c + 1) * co]
                    for o in range(co):
                        d[o] = v
        for pr in range(ph):
            for q in range(fh):
                a = acc[q]
                for c in range(span // co):
                    for o in range(co):
                        a[c * co + o] = bias[o]
                r0 = (pr * psh + q) * sh
                for t in range(0, taps.shape[0], 2):
                    i0, j0, c0 = taps[t, 0], taps[t, 1], taps[t, 2]
                    i1, j1, c1 = taps[t + 1, 0], taps[t + 1, 1], taps[t + 1, 2]
                    x0 = xr[r0 + i0, c0, j0 * co:j0 * co + span]
                    x1 = xr[r0 + i1, c1, j1 * co:j1 * co + span]
                    w0, w1 = wt[t], wt[t + 1]
                    for k in range(span):
                        a[k] = np.int32(a[k] + np.int16(np.int16(x0[k] * w0[k])
                                                        + np.int16(x1[k] * w1[k])))
            for pc in range(pw):
                c0 = pc * psw * co
                for o in range(co):
                    pacc[o] = acc[0, c0 + o]
                for q in range(fh):
                    for j in range(fw):
                        a = acc[q, c0 + j * co:c0 + (j + 1) * co]
                        for o in range(co):
                            pacc[o] = max(pacc[o], a[o])
                requant_row(pacc, m, shift, zp, lo, hi, out[n, pr, pc])


@njit(cache=True, nogil=True, fastmath=True)
def conv_float(x, w, bias, lo, hi, sh, sw, acc, out):
    """float32 convolution of a padded x, bias added and clipped to [lo, hi] (acc: float32
    [out_w, out_ch] scratch)."""
    n_img, oh, ow, co = out.shape
    for n in range(n_img):
        for r in range(oh):
            for c in range(ow):
                for o in range(co):
                    acc[c, o] = bias[o]
            _conv_row(x, n, r * sh, sw, w, acc)
            for c in range(ow):
                orow = out[n, r, c]
                for o in range(co):
                    v = acc[c, o]
                    orow[o] = lo if v < lo else (hi if v > hi else v)


@njit(cache=True, nogil=True, fastmath=True)
def conv_hybrid(x, w, w_scale, bias, lo, hi, sh, sw, xq, acc, out):
    """Dynamic range: each (padded) image quantized on the fly, integer convolution, float
    rescale and bias (acc: int32 [out_w, out_ch] scratch)."""
    n_img, oh, ow, co = out.shape
    for n in range(n_img):
        sx = _symmetric_int8(x[n], xq[0])
        for r in range(oh):
            acc[:] = 0
            _conv_row(xq, 0, r * sh, sw, w, acc)
            for c in range(ow):
                orow = out[n, r, c]
                for o in range(co):
                    v = np.float32(acc[c, o]) * (sx * w_scale[o]) + bias[o]
                    orow[o] = lo if v < lo else (hi if v > hi else v)


# -- pooling, activations, softmax ----------------------------------------------------------------


@njit(cache=True, nogil=True)
def max_pool(x, fh, fw, sh, sw, out):
    """VALID max pooling, any dtype (the max of int8 values is the int8 of the max)."""
    n_img, oh, ow, ch = out.shape
    for n in range(n_img):
        for r in range(oh):
            for c in range(ow):
                o = out[n, r, c]
                o[:] = x[n, r * sh, c * sw]
                for i in range(fh):
                    for j in range(fw):
                        xr = x[n, r * sh + i, c * sw + j]
                        for k in range(ch):
                            o[k] = max(o[k], xr[k])  # branch-free: SIMD over channels


@njit(cache=True, nogil=True)
def clamp(x, lo, hi, out):
    """Element-wise clip (ReLU: lo = 0 in float, lo = the zero point in int8)."""
    xf, of = x.ravel(), out.ravel()
    for k in range(xf.shape[0]):
        v = xf[k]
        of[k] = lo if v < lo else (hi if v > hi else v)


@njit(cache=True, nogil=True)
def softmax_int8(x, table, out):
    """Integer softmax over the last axis of int8 [N, K] via a lookup table.

    ``table[d] = round(2**20 * exp(-d * in_scale * beta))`` for d = max - x in [0, 255]; the
    int8 output has scale 1/256 and zero point -128, as TFLite's.
    """
    for n in range(x.shape[0]):
        xr = x[n]
        mx = xr[0]
        for j in range(xr.shape[0]):
            if xr[j] > mx:
                mx = xr[j]
        s = np.int64(0)
        for j in range(xr.shape[0]):
            s += table[np.int32(mx) - np.int32(xr[j])]
        for j in range(xr.shape[0]):
            v = (np.int64(table[np.int32(mx) - np.int32(xr[j])]) * 256 + s // 2) // s - 128
            out[n, j] = 127 if v > 127 else v


@njit(cache=True, nogil=True)
def softmax_float(x, beta, out):
    """float32 softmax over the last axis of [N, K]."""
    for n in range(x.shape[0]):
        xr = x[n]
        mx = xr.max()
        s = np.float32(0.0)
        for j in range(xr.shape[0]):
            e = np.exp((xr[j] - mx) * beta)
            out[n, j] = e
            s += e
        for j in range(xr.shape[0]):
            out[n, j] /= s
