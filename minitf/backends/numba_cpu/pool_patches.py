"""``FusedConv2DMaxPool`` and its filter gradient for inputs with few channels, one input patch
per pooling window.

With a stride-1 convolution and 2x2 pooling at stride 2 (the geometry ``winograd.py`` uses),
the four conv outputs of a pooling window see one (kh+1) x (kw+1) patch of the input. For the
first MNIST layer (one channel) that patch is 16 numbers, against 4 x 9 = 36 in the four rows
im2col builds for the same outputs, and a patch is four short runs of one input row. So:

* forward: ``Y4 = patches @ W4``, where row ``t`` of ``patches`` is tile ``t``'s patch and
  ``W4`` holds the filter four times, shifted to each window position (zeros elsewhere): one
  BLAS product gives each window's four outputs side by side, which ``pool4`` reduces;
* filter gradient: ``R = patchesᵀ @ D4``, where ``D4`` holds each window's pooled gradient in
  the column block of its argmax position (zeros in the other three); ``fold`` adds R's four
  shifted blocks into the filter's shape.

Both products do 16/9 of the multiply-adds im2col needs, in a better shape for BLAS (K = 16
and N = 4*co instead of K = 9 and N = co for the forward) and from a smaller copy. The input
gradient keeps the im2col path (the first layer has none). Measured on the first MNIST layer:
see benchmarks/results/cnn.txt. Arrays: tile ``t`` of a chunk is ``(n*P + p)*Q + q``, window
position ``(a, b)`` is column block ``2a + b``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from . import winograd
from .winograd import window_indices, window_max

Array = Any


def applies(filter_shape: tuple[int, ...], strides: tuple[int, int],
            dilations: tuple[int, int]) -> bool:
    """Stride 1, no dilation, fewer input channels than Winograd takes (the pooling is
    checked apart). With many channels im2col's products are already efficient, and the
    patches' 16/9 more multiply-adds would cost more than they save."""
    return tuple(strides) == (1, 1) and tuple(dilations) == (1, 1) \
        and filter_shape[2] < winograd.MIN_CHANNELS


@njit(cache=True, nogil=True)
def patches(xp, P, Q, kh, kw, pm):
    """``pm[t, (u*(kw+1) + v)*ci + ch] = xp[n, 2p + u, 2q + v, ch]`` (``xp`` padded so that
    every patch lies inside it). Plain scalar copies: for a handful of values per patch row,
    a view or a flat run per row measured 2x slower."""
    n_img, ci = xp.shape[0], xp.shape[3]
    for n in range(n_img):
        for p in range(P):
            for q in range(Q):
                t, k = (n * P + p) * Q + q, 0
                for u in range(kh + 1):
                    for v in range(kw + 1):
                        for ch in range(ci):
                            pm[t, k] = xp[n, 2 * p + u, 2 * q + v, ch]
                            k += 1


def expand_filter(w: Array) -> Array:
    """``W4``: ``(kh+1)*(kw+1)*ci`` rows, ``4*co`` columns; block ``2a + b`` holds ``w`` at
    rows ``(a + i, b + j)`` of the patch."""
    kh, kw, ci, co = w.shape
    w4 = np.zeros((kh + 1, kw + 1, ci, 2, 2, co), dtype=w.dtype)
    for a in (0, 1):
        for b in (0, 1):
            w4[a:a + kh, b:b + kw, :, a, b, :] = w
    return w4.reshape((kh + 1) * (kw + 1) * ci, 4 * co)


def fold(r: Array, filter_shape: tuple[int, ...]) -> Array:
    """The adjoint of ``expand_filter``: add R's four blocks back into the filter's shape."""
    kh, kw, ci, co = filter_shape
    r6 = r.reshape(kh + 1, kw + 1, ci, 2, 2, co)
    dw = np.zeros(filter_shape, dtype=r.dtype)
    for a in (0, 1):
        for b in (0, 1):
            dw += r6[a:a + kh, b:b + kw, :, a, b, :]
    return dw


@njit(cache=True, nogil=True)
def pool4(y4, b, relu, oh, ow, z, arg):
    """Each window's first maximum (row-major; positions past the ``oh`` x ``ow`` output
    skipped) of ``y4[t]``'s four column blocks, plus ``b``, into ``z``; its flat index
    ``(r*ow + c)*co + ch`` into ``arg``; then ReLU if ``relu``."""
    n_img, P, Q, co = z.shape
    for n in range(n_img):
        for p in range(P):
            has_r1 = 2 * p + 1 < oh
            for q in range(Q):
                t = (n * P + p) * Q + q
                has_c1 = 2 * q + 1 < ow
                base = (2 * p * ow + 2 * q) * co
                row, zo, ao = y4[t], z[n, p, q], arg[n, p, q]
                for ch in range(co):
                    best, at = window_max(row[ch], row[co + ch], row[2 * co + ch],
                                          row[3 * co + ch], has_r1, has_c1, base, co, ow)
                    best += b[ch]
                    zo[ch] = max(best, 0.0) if relu else best
                    ao[ch] = at + ch


@njit(cache=True, nogil=True)
def grad_blocks(arg, g, oh, ow, zero, d4):
    """``d4[t, (2a + b)*co + ch]`` = the pooled gradient if the window's maximum is at
    (a, b), else ``zero`` (0 in d4's dtype). False, with ``d4`` incomplete, if an index in
    ``arg`` lies outside its own window."""
    n_img, P, Q, co = g.shape
    for n in range(n_img):
        for p in range(P):
            for q in range(Q):
                t = (n * P + p) * Q + q
                k00, k01, k10, k11 = window_indices(p, q, oh, ow, co)
                src, a, row = g[n, p, q], arg[n, p, q], d4[t]
                bad = 0
                for ch in range(co):
                    k = a[ch] - ch
                    bad += 0 if (k == k00) | (k == k01) | (k == k10) | (k == k11) else 1
                if bad:
                    return False
                # one block per loop: with four stores in one loop it does not vectorise
                # (measured 2x slower)
                for blk, kk in enumerate((k00, k01, k10, k11)):
                    for ch in range(co):
                        row[blk * co + ch] = src[ch] if a[ch] - ch == kk else zero
    return True
