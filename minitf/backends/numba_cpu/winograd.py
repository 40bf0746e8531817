"""Winograd F(2x2, 3x3) kernels for ``FusedConv2DMaxPool`` and its backward ops.

With a 3x3 filter at stride 1 and 2x2 max pooling at stride 2, every pooling window is one
2x2 output tile of Winograd's minimal filtering algorithm (Lavin & Gray, "Fast Algorithms
for Convolutional Neural Networks", 2016). A tile's 2x2 outputs come from the 4x4 input patch
under it in three steps: transform the patch (``V = Bᵀ d B``, additions only), multiply it
element by element with the transformed filter (``U = G g Gᵀ``) and sum over input channels,
transform back (``Y = Aᵀ M A``). The middle step, over a chunk of tiles, is 16 matrix
products ``M[k] = V[k] @ U[k]`` of shape (tiles, ci) @ (ci, co): 16 multiply-adds per tile and
channel pair instead of 36, and conv outputs that no pooling window reads (the last row and
column of an odd-sized output) are never computed. The backward ops run the transposed steps
(``Aᵀ → A``, ``@ U → @ Uᵀ``, ``Bᵀ → B``) on the same tiles: the exact adjoint of the forward,
so the same saving.

Arrays: ``V`` is (16, tiles, ci), ``M`` (16, tiles, co), ``U`` (16, ci, co); tile ``t`` of a
chunk is ``(n*P + p)*Q + q`` for image ``n`` and pooled position ``(p, q)``; index ``k = 4*i + j``
of a 4x4 transform. The kernels' channel loops must vectorise (else the transforms cost
as much as the products save), and LLVM gives up on a loop that loads and stores through
more than a few pointers it cannot prove apart: each inner loop here therefore writes one
value from at most four, with the transform's coefficients as a table, or (the output
transform) stores to two arrays only. Measured on the second MNIST layer: see
benchmarks/results/cnn.txt.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

Array = Any


# -- the transforms of F(2, 3) -----------------------------------------------------------------

BT = np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]], dtype=np.float64)
G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]], dtype=np.float64)
AT = np.array([[1, 1, 1, 0], [0, 1, -1, -1]], dtype=np.float64)

# Bᵀ's two nonzeros per row: their columns and values
BT_COLS = np.array([np.flatnonzero(row) for row in BT], dtype=np.int64)
_BT_VALS = np.array([row[np.flatnonzero(row)] for row in BT])
# A dY Aᵀ for a dY that is 1 at window position (a, b) (column 2a + b), 0 elsewhere
_DM = np.array([[AT[a, i] * AT[b, j] for a in (0, 1) for b in (0, 1)]
                for i in range(4) for j in range(4)])


def tables(dtype: Any) -> tuple[Array, Array, Array]:
    """Bᵀ's nonzero values, Bᵀ, and the one-hot output adjoint, in ``dtype``."""
    return _BT_VALS.astype(dtype), BT.astype(dtype), _DM.astype(dtype)


@njit(cache=True, nogil=True, inline="always")
def _at(m0, m1, m2, m3):
    """``Aᵀ m``: the 1-D output transform."""
    return m0 + m1 + m2, m1 - m2 - m3


# -- kernels ----------------------------------------------------------------------------------

# G w Gᵀ for all filters at once: entry 4a + b of it is kron(G, G)[4a + b] @ w.flat[9 taps]
_GG = np.kron(G, G)


def filter_transform(w: Array) -> Array:
    """``u[:, c, o] = G w[:, :, c, o] Gᵀ`` (flattened 4x4) for a (3, 3, ci, co) filter."""
    kh, kw, ci, co = w.shape
    return (_GG.astype(w.dtype) @ w.reshape(kh * kw, ci * co)).reshape(16, ci, co)


def filter_adjoint(du: Array) -> Array:
    """``dw[:, :, c, o] = Gᵀ du[:, c, o] G``: the adjoint of ``filter_transform``."""
    _, ci, co = du.shape
    return (_GG.T.astype(du.dtype) @ du.reshape(16, ci * co)).reshape(3, 3, ci, co)


@njit(cache=True, nogil=True)
def input_transform(xp, P, Q, cols, vals, v):
    """``v[:, t, :] = Bᵀ d B`` for the 4x4 patch ``d = xp[n, 2p:2p+4, 2q:2q+4]`` of every tile
    (``xp`` already padded: every patch lies inside it). ``cols``/``vals``: Bᵀ's nonzeros,
    so each entry is four inputs with signs."""
    n_img, ci = xp.shape[0], xp.shape[3]
    for n in range(n_img):
        for p in range(P):
            for q in range(Q):
                t = (n * P + p) * Q + q
                for i in range(4):
                    r0, r1 = 2 * p + cols[i, 0], 2 * p + cols[i, 1]
                    s0, s1 = vals[i, 0], vals[i, 1]
                    for j in range(4):
                        c0, c1 = 2 * q + cols[j, 0], 2 * q + cols[j, 1]
                        u0, u1 = vals[j, 0], vals[j, 1]
                        out = v[4 * i + j, t]
                        for ch in range(ci):
                            out[ch] = (s0 * (u0 * xp[n, r0, c0, ch] + u1 * xp[n, r0, c1, ch])
                                       + s1 * (u0 * xp[n, r1, c0, ch] + u1 * xp[n, r1, c1, ch]))


@njit(cache=True, nogil=True)
def input_adjoint(dv, P, Q, bt, dxp):
    """Add ``B dv[:, t, :] Bᵀ`` into each tile's patch of ``dxp``: the adjoint of
    ``input_transform`` (patches overlap: one thread per chunk of images)."""
    n_img, ci = dxp.shape[0], dxp.shape[3]
    w = np.empty((16, ci), dtype=dxp.dtype)  # B dv of one tile
    for n in range(n_img):
        for p in range(P):
            for q in range(Q):
                t = (n * P + p) * Q + q
                for a in range(4):
                    for j in range(4):
                        b0, b1, b2, b3 = bt[0, a], bt[1, a], bt[2, a], bt[3, a]
                        out = w[4 * a + j]
                        for ch in range(ci):
                            out[ch] = (b0 * dv[j, t, ch] + b1 * dv[4 + j, t, ch]
                                       + b2 * dv[8 + j, t, ch] + b3 * dv[12 + j, t, ch])
                for a in range(4):
                    for b in range(4):
                        b0, b1, b2, b3 = bt[0, b], bt[1, b], bt[2, b], bt[3, b]
                        dst = dxp[n, 2 * p + a, 2 * q + b]
                        for ch in range(ci):
                            dst[ch] += (b0 * w[4 * a, ch] + b1 * w[4 * a + 1, ch]
                                        + b2 * w[4 * a + 2, ch] + b3 * w[4 * a + 3, ch])


@njit(cache=True, nogil=True, inline="always")
def window_max(y00, y01, y10, y11, has_r1, has_c1, base, co, ow):
    """A window's first maximum (row-major, positions past the output skipped) and its flat
    index ``(r*ow + c)*co`` (channel 0) from the window's four values."""
    best, at = y00, base
    if has_c1 and y01 > best:
        best, at = y01, base + co
    if has_r1 and y10 > best:
        best, at = y10, base + ow * co
    if has_r1 and has_c1 and y11 > best:
        best, at = y11, base + (ow + 1) * co
    return best, at


@njit(cache=True, nogil=True)
def output_pool(m, b, relu, oh, ow, z, arg):
    """For each tile: ``Y = Aᵀ m[:, t, :] A + b`` (the 2x2 window), its first maximum
    (row-major; positions past the ``oh`` x ``ow`` output skipped) into ``z``, the flat index
    ``(r*ow + c)*co + ch`` of that maximum into ``arg``; then ReLU if ``relu``."""
    n_img, P, Q, co = z.shape
    for n in range(n_img):
        for p in range(P):
            has_r1 = 2 * p + 1 < oh
            for q in range(Q):
                t = (n * P + p) * Q + q
                has_c1 = 2 * q + 1 < ow
                base = (2 * p * ow + 2 * q) * co
                zo, ao = z[n, p, q], arg[n, p, q]
                for ch in range(co):
                    r0 = _at(m[0, t, ch], m[1, t, ch], m[2, t, ch], m[3, t, ch])  # M A
                    r1 = _at(m[4, t, ch], m[5, t, ch], m[6, t, ch], m[7, t, ch])
                    r2 = _at(m[8, t, ch], m[9, t, ch], m[10, t, ch], m[11, t, ch])
                    r3 = _at(m[12, t, ch], m[13, t, ch], m[14, t, ch], m[15, t, ch])
                    y00, y10 = _at(r0[0], r1[0], r2[0], r3[0])  # Aᵀ (M A)
                    y01, y11 = _at(r0[1], r1[1], r2[1], r3[1])
                    best, at = window_max(y00, y01, y10, y11, has_r1, has_c1, base, co, ow)
                    best += b[ch]
                    zo[ch] = max(best, 0.0) if relu else best
                    ao[ch] = at + ch


NONE = -(1 << 40)  # an index no window position has


@njit(cache=True, nogil=True, inline="always")
def window_indices(p, q, oh, ow, co):
    """Flat indices ``(r*ow + c)*co`` (channel 0) of pooling window (p, q)'s four positions
    (0, 0), (0, 1), (1, 0), (1, 1); ``NONE`` for one past the ``oh`` x ``ow`` output."""
    base = (2 * p * ow + 2 * q) * co
    k00 = base if 2 * p < oh and 2 * q < ow else NONE
    k01 = base + co if 2 * q + 1 < ow and k00 != NONE else NONE
    k10 = base + ow * co if 2 * p + 1 < oh and k00 != NONE else NONE
    k11 = base + (ow + 1) * co if k01 != NONE and k10 != NONE else NONE
    return k00, k01, k10, k11


@njit(cache=True, nogil=True)
def pooled_grad(arg, g, oh, ow, dm_table, dm):
    """``dm[:, t, :] = A dY Aᵀ`` where the window's ``dY`` holds ``g`` at ``arg`` and 0
    elsewhere (the adjoint of ``output_pool``'s transform; ``dm_table[k, 2a + b]`` is entry
    ``k`` of it for a 1 at window position (a, b)). False, with ``dm`` incomplete, if an
    index in ``arg`` lies outside its own window."""
    n_img, P, Q, co = g.shape
    pos = np.empty(co, dtype=np.int64)  # 2a + b of each channel's maximum
    for n in range(n_img):
        for p in range(P):
            for q in range(Q):
                t = (n * P + p) * Q + q
                k00, k01, k10, k11 = window_indices(p, q, oh, ow, co)
                bad = 0
                for ch in range(co):
                    k = arg[n, p, q, ch] - ch
                    pos[ch] = 1 if k == k01 else 2 if k == k10 else 3 if k == k11 else 0
                    bad += 0 if (k == k00) | (k == k01) | (k == k10) | (k == k11) else 1
                if bad:
                    return False
                src = g[n, p, q]
                for k in range(16):
                    f0, f1, f2, f3 = dm_table[k, 0], dm_table[k, 1], dm_table[k, 2], \
                        dm_table[k, 3]
                    out = dm[k, t]
                    for ch in range(co):
                        i = pos[ch]
                        f = f0 if i == 0 else f1 if i == 1 else f2 if i == 2 else f3
                        out[ch] = f * src[ch]
    return True


# -- when it applies, and the padded input ----------------------------------------------------

# Fewer input channels than this go through im2col: with few channels the products are
# too thin for BLAS and the transformed input V (16 values per tile and channel) outweighs
# the column matrix (9 per output and channel) the im2col path writes.
MIN_CHANNELS = 8


def applies(filter_shape: tuple[int, ...], strides: tuple[int, int],
            dilations: tuple[int, int]) -> bool:
    """Whether a convolution's geometry suits F(2x2, 3x3) (the pooling is checked apart)."""
    kh, kw, ci, _ = filter_shape
    return (kh, kw) == (3, 3) and tuple(strides) == (1, 1) and tuple(dilations) == (1, 1) \
        and ci >= MIN_CHANNELS


def padded_shape(shape: tuple[int, ...], P: int, Q: int, top: int, left: int, kh: int = 3,
                 kw: int = 3) -> tuple[int, ...]:
    """The shape ``padded`` gives an input of ``shape``: ``shape`` itself when every
    (kh+1) x (kw+1) patch of the ``P`` x ``Q`` tiles already lies inside it unshifted."""
    hp, wp = 2 * P + kh - 1, 2 * Q + kw - 1
    if top == 0 and left == 0 and shape[1] >= hp and shape[2] >= wp:
        return tuple(shape)
    return (shape[0], hp, wp, shape[3])


def padded(x: Array, P: int, Q: int, top: int, left: int, kh: int = 3, kw: int = 3) -> Array:
    """``x`` (a chunk of images) as the tiles' patches read it: shifted by the convolution's
    padding, zero where a patch hangs over, cut where no patch reaches (or ``x`` itself)."""
    shape = padded_shape(x.shape, P, Q, top, left, kh, kw)
    if shape == x.shape:
        return x
    xp = np.zeros(shape, dtype=x.dtype)
    h, w = max(0, min(x.shape[1], shape[1] - top)), max(0, min(x.shape[2], shape[2] - left))
    xp[:, top:top + h, left:left + w] = x[:, :h, :w]
    return xp


def unpadded(dxp: Array, out: Array, top: int, left: int) -> None:
    """The adjoint of ``padded``: ``out`` = the part of ``dxp`` that belongs to the input."""
    if dxp is out:
        return
    out[:] = 0.0
    h = max(0, min(out.shape[1], dxp.shape[1] - top))
    w = max(0, min(out.shape[2], dxp.shape[2] - left))
    out[:, :h, :w] = dxp[:, top:top + h, left:left + w]
