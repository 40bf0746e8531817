"""Numba kernels of ``FusedConv2DMaxPool`` and its backward ops (``minitf/ops/conv_pool_ops.py``).

All three work on chunks of a few images whose column matrix and convolution output fit in
the core's L2 cache. The forward multiplies a chunk's columns by the filters (BLAS), then
``_bias_pool`` adds the bias, pools and activates the block while it is in cache: the
full-size convolution output never reaches memory. The backward ops scatter the pooled
gradient of a chunk into a zeroed block (``_scatter``) and feed it to the same products as
``Conv2DBackpropFilter`` / ``Conv2DBackpropInput``. Measured on the first MNIST layer (28x28x1
-> 26x26x32 -> 13x13x32, batch 64, one process, interleaved): see benchmarks/results/cnn.txt.

Stride-1 convolutions pooled 2x2 at stride 2 take a tiled path instead, each pooling window
one tile: 3x3 filters over at least ``winograd.MIN_CHANNELS`` input channels (the second MNIST
layer) Winograd's (``winograd.py``: 2.25x fewer multiply-adds in all three ops), fewer
channels (the first layer) one input patch per window (``pool_patches.py``: forward and
filter gradient from a smaller copy and better-shaped products).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from ..conv_geometry import window_2d
from . import pool_patches, winograd, workers
from .conv import _FLOATS, _c, _col2im, sum_parts
from .workers import run_split

Array = Any

# Images per chunk: as many as keep the chunk's column matrix plus its convolution output
# (or gradient) within this many bytes, about half the L2 cache of one core, but enough
# for BLAS to get at least MIN_ROWS rows per product (smaller products run far below its
# peak: the second MNIST layer at 3 images per chunk took 1.3x longer than at 24).
FUSED_CHUNK_BYTES = 512 << 10
MIN_ROWS = 2048


@njit(cache=True, nogil=True)
def _bias_pool(y, b, relu, oh, ow, z, arg, pkh, pkw, psh, psw, ptop, pleft):
    """Pool ``y + b`` (rows ``(n*oh + r)*ow + c`` of a chunk of images, ``co`` columns) into
    ``z`` (n, ph, pw, co), each window's first maximum (row-major), and its flat index
    ``(r*ow + c)*co + ch`` into ``arg``; then ReLU if ``relu``."""
    n_img, ph, pw, co = z.shape
    for n in range(n_img):
        for pr in range(ph):
            i0, i1 = max(0, pr * psh - ptop), min(oh, pr * psh - ptop + pkh)
            for pc in range(pw):
                j0, j1 = max(0, pc * psw - pleft), min(ow, pc * psw - pleft + pkw)
                zo = z[n, pr, pc]
                ao = arg[n, pr, pc]
                first = True
                for r in range(i0, i1):
                    for c in range(j0, j1):
                        row = y[(n * oh + r) * ow + c]
                        base = (r * ow + c) * co
                        if first:
                            for ch in range(co):
                                zo[ch] = row[ch] + b[ch]
                                ao[ch] = base + ch
                            first = False
                        else:
                            for ch in range(co):
                                v = row[ch] + b[ch]
                                if v > zo[ch]:
                                    zo[ch] = v
                                    ao[ch] = base + ch
                if relu:
                    for ch in range(co):
                        zo[ch] = max(zo[ch], 0.0)


@njit(cache=True, nogil=True)
def _scatter(arg, g, dense):
    """``dense[n] = 0``, then ``dense[n, arg[n, k]] += g[n, k]`` (2-D views, one row per image)."""
    dense[:] = 0.0
    m = dense.shape[1]
    for n in range(g.shape[0]):
        a, v, d = arg[n], g[n], dense[n]
        for k in range(v.shape[0]):
            if a[k] < 0 or a[k] >= m:  # no bounds checks in compiled code: never write past
                raise IndexError("argmax holds an index outside the image")
            d[a[k]] += v[k]


@njit(cache=True, nogil=True)
def _gather(y, arg, out):
    """``out[n, k] = y[n, arg[n, k]]`` (2-D views, one row per image)."""
    m = y.shape[1]
    for n in range(out.shape[0]):
        a, src, dst = arg[n], y[n], out[n]
        for k in range(dst.shape[0]):
            if a[k] < 0 or a[k] >= m:
                raise IndexError("argmax holds an index outside the image")
            dst[k] = src[a[k]]


def _images_per_chunk(n_img: int, rows: int, per_row: int) -> int:
    """Images per chunk for ``rows`` product rows per image of ``per_row`` bytes each,
    evened out by ``workers.balanced``."""
    most = max(FUSED_CHUNK_BYTES // max(1, rows * per_row), -(-MIN_ROWS // max(1, rows)))
    return workers.balanced(n_img, most)


# The tiled paths (Winograd, one patch per window) where they apply; False runs im2col for
# every geometry (benchmarks/cnn_epoch.py's ablation compares the two).
TILED = True

# Winograd chunks: images whose transformed input and product (16 values per tile and
# channel each) fit in about this many bytes, but at least this many tiles per product.
# Measured on the second MNIST layer (154 KB per image; the three ops, medians): batch 64
# 6.8 / 5.9 / 5.4 / 5.0 ms at 2 / 4 / 6 / 8 images per chunk; batch 1000 73 / 63 / 58 /
# 83 ms at 4 / 8 / 16 / 32.
WINOGRAD_CHUNK_BYTES = 2 << 20
WINOGRAD_MIN_TILES = 200


def _tiles_per_chunk(n_img: int, tiles: int, per_tile: int) -> int:
    """Images per Winograd chunk for ``tiles`` tiles per image of ``per_tile`` bytes each."""
    most = max(WINOGRAD_CHUNK_BYTES // max(1, tiles * per_tile),
               -(-WINOGRAD_MIN_TILES // max(1, tiles)))
    return workers.balanced(n_img, most)


def _ok(*arrays: Array) -> bool:
    """Float32/float64 arrays of one dtype, none empty (else the NumPy reference runs)."""
    return (arrays[0].dtype in _FLOATS and all(a.dtype == arrays[0].dtype for a in arrays)
            and all(a.size for a in arrays))


def _int_ok(argmax: Array) -> bool:
    return argmax.dtype == np.int32


class ConvPoolKernelsNumba:
    """Mixin: the fused convolution + max-pooling kernels, compiled; needs ``ConvKernelsNumba``
    (``_columns``) in the same backend."""

    def conv2d_bias_act_max_pool(self, x: Array, w: Array, b: Array, strides: tuple[int, int],
                                 padding: str, dilations: tuple[int, int], activation: str,
                                 ksize: tuple[int, int], pool_strides: tuple[int, int],
                                 pool_padding: str) -> tuple[Array, Array]:
        """Per chunk of images: im2col, one BLAS product, then bias + pool + ReLU in cache; or
        a tiled path (Winograd, patches) for stride-1 convolutions pooled 2x2 at stride 2."""
        if not _ok(x, w, b):
            return super().conv2d_bias_act_max_pool(x, w, b, strides, padding, dilations,
                                                    activation, ksize, pool_strides,
                                                    pool_padding)
        kh, kw, ci, co = w.shape
        n = x.shape[0]
        oh, ow, pads = window_2d(x.shape[1], x.shape[2], (kh, kw), strides, dilations, padding)
        ph, pw, ppads = window_2d(oh, ow, ksize, pool_strides, (1, 1), pool_padding)
        if TILED and tuple(ksize) == tuple(pool_strides) == (2, 2) and ppads[0] == ppads[2] == 0:
            tiles = (_c(x), _c(w), _c(b), activation == "relu", oh, ow, ph, pw, pads)
            if winograd.applies(w.shape, strides, dilations):
                return self._winograd_forward(*tiles)
            if pool_patches.applies(w.shape, strides, dilations):
                return self._patches_forward(*tiles)
        x, w2, b = _c(x), _c(w).reshape(-1, co), _c(b)
        z = np.empty((n, ph, pw, co), dtype=x.dtype)
        arg = np.empty((n, ph, pw, co), dtype=np.int32)
        k = kh * kw * ci
        step = _images_per_chunk(n, oh * ow, (k + co) * x.itemsize)
        geo = (ksize[0], ksize[1], pool_strides[0], pool_strides[1], ppads[0], ppads[2])

        def work(n0: int, n1: int) -> None:  # one chunk of images
            buf = np.empty((n1 - n0) * oh * ow * k, dtype=x.dtype)
            cols = self._columns(x[n0:n1], buf, kh, kw, strides, dilations, pads, oh, ow)
            y = np.matmul(cols, w2)
            _bias_pool(y, b, activation == "relu", oh, ow, z[n0:n1], arg[n0:n1], *geo)

        run_split(n, work, step=step)
        return z, arg

    def fused_conv2d_max_pool_backprop_filter(self, x: Array, filter_shape: tuple[int, ...],
                                              argmax: Array, g: Array,
                                              strides: tuple[int, int], padding: str,
                                              dilations: tuple[int, int]) -> Array:
        """Per chunk: scatter the pooled gradient into a zeroed block, add ``cols.T @ block``;
        or a tiled path, when every argmax lies in its own 2x2 stride-2 window."""
        if not (_ok(x, g) and _int_ok(argmax)):
            return super().fused_conv2d_max_pool_backprop_filter(
                x, filter_shape, argmax, g, strides, padding, dilations)
        kh, kw, ci, co = filter_shape
        n = x.shape[0]
        oh, ow, pads = window_2d(x.shape[1], x.shape[2], (kh, kw), strides, dilations, padding)
        # the tiled paths check the pooling through the argmax (None: not 2x2 at stride 2)
        tiled = None
        if TILED and winograd.applies(filter_shape, strides, dilations):
            tiled = self._winograd_filter_grad
        elif TILED and pool_patches.applies(filter_shape, strides, dilations):
            tiled = self._patches_filter_grad
        if tiled is not None:
            dw = tiled(_c(x), tuple(filter_shape), _c(argmax), _c(g), oh, ow, pads)
            if dw is not None:
                return dw
        k = kh * kw * ci
        x, arg2, g2 = _c(x), _c(argmax).reshape(n, -1), _c(g).reshape(n, -1)
        step = _images_per_chunk(n, oh * ow, (k + co) * x.itemsize)

        def work(n0: int, n1: int) -> Array:  # one chunk's share of the gradient
            dy = np.empty((n1 - n0, oh * ow * co), dtype=x.dtype)
            _scatter(arg2[n0:n1], g2[n0:n1], dy)
            buf = np.empty((n1 - n0) * oh * ow * k, dtype=x.dtype)
            cols = self._columns(x[n0:n1], buf, kh, kw, strides, dilations, pads, oh, ow)
            return np.matmul(cols.T, dy.reshape(-1, co))

        return sum_parts(run_split(n, work, step=step)).reshape(kh, kw, ci, co)

    def fused_conv2d_max_pool_backprop_input(self, input_shape: tuple[int, ...], w: Array,
                                             argmax: Array, g: Array, strides: tuple[int, int],
                                             padding: str,
                                             dilations: tuple[int, int]) -> Array:
        """Per chunk: scatter the pooled gradient into a zeroed block, ``block @ w.T``, col2im;
        or Winograd's path, when every argmax lies in its own 2x2 stride-2 window."""
        if not (_ok(w, g) and _int_ok(argmax)):
            return super().fused_conv2d_max_pool_backprop_input(
                input_shape, w, argmax, g, strides, padding, dilations)
        kh, kw, ci, co = w.shape
        n = input_shape[0]
        oh, ow, pads = window_2d(input_shape[1], input_shape[2], (kh, kw), strides, dilations,
                                 padding)
        if TILED and winograd.applies(w.shape, strides, dilations):
            dx = self._winograd_input_grad(tuple(input_shape), _c(w), _c(argmax), _c(g), oh,
                                           ow, pads)
            if dx is not None:
                return dx
        k = kh * kw * ci
        w2t = _c(w).reshape(-1, co).T
        arg2, g2 = _c(argmax).reshape(n, -1), _c(g).reshape(n, -1)
        dx = np.zeros(tuple(input_shape), dtype=g.dtype)
        step = _images_per_chunk(n, oh * ow, (k + co) * g.itemsize)

        def work(n0: int, n1: int) -> None:  # one chunk of images
            dy = np.empty((n1 - n0, oh * ow * co), dtype=g.dtype)
            _scatter(arg2[n0:n1], g2[n0:n1], dy)
            dcols = np.matmul(dy.reshape(-1, co), w2t)
            _col2im(dcols, dx[n0:n1], kh, kw, strides[0], strides[1], dilations[0],
                    dilations[1], pads[0], pads[2], oh, ow)

        run_split(n, work, step=step)
        return dx

    # -- Winograd F(2x2, 3x3): 3x3 filters at stride 1, 2x2 pooling at stride 2 ---------------

    @staticmethod
    def _winograd_forward(x: Array, w: Array, b: Array, relu: bool, oh: int, ow: int, P: int,
                          Q: int, pads: tuple[int, ...]) -> tuple[Array, Array]:
        """Per chunk: transform the input tiles, 16 BLAS products, transform back and pool."""
        n, ci, co = x.shape[0], w.shape[2], w.shape[3]
        u = winograd.filter_transform(w)
        vals = winograd.tables(x.dtype)[0]
        z = np.empty((n, P, Q, co), dtype=x.dtype)
        arg = np.empty((n, P, Q, co), dtype=np.int32)
        step = _tiles_per_chunk(n, P * Q, 16 * (ci + co) * x.itemsize)

        def work(n0: int, n1: int) -> None:  # one chunk of images
            xp = winograd.padded(x[n0:n1], P, Q, pads[0], pads[2])
            v = np.empty((16, (n1 - n0) * P * Q, ci), dtype=x.dtype)
            winograd.input_transform(xp, P, Q, winograd.BT_COLS, vals, v)
            winograd.output_pool(np.matmul(v, u), b, relu, oh, ow, z[n0:n1], arg[n0:n1])

        run_split(n, work, step=step)
        return z, arg

    @staticmethod
    def _winograd_filter_grad(x: Array, filter_shape: tuple[int, ...], argmax: Array, g: Array,
                              oh: int, ow: int, pads: tuple[int, ...]) -> Array | None:
        """Per chunk: transform the input tiles and the pooled gradient, add ``Vᵀ @ dM``; the
        filter's adjoint transform once at the end. None if an argmax lies outside its
        window (then the im2col path runs)."""
        n, (_, P, Q, co), ci = x.shape[0], g.shape, filter_shape[2]
        vals, _, dm_table = winograd.tables(x.dtype)
        step = _tiles_per_chunk(n, P * Q, 16 * (ci + co) * x.itemsize)

        def work(n0: int, n1: int) -> Array | None:  # one chunk's share of dU
            dm = np.empty((16, (n1 - n0) * P * Q, co), dtype=x.dtype)
            if not winograd.pooled_grad(argmax[n0:n1], g[n0:n1], oh, ow, dm_table, dm):
                return None
            xp = winograd.padded(x[n0:n1], P, Q, pads[0], pads[2])
            v = np.empty((16, (n1 - n0) * P * Q, ci), dtype=x.dtype)
            winograd.input_transform(xp, P, Q, winograd.BT_COLS, vals, v)
            return np.matmul(v.transpose(0, 2, 1), dm)

        parts = run_split(n, work, step=step)
        if any(part is None for part in parts):
            return None
        return winograd.filter_adjoint(sum_parts(parts))

    @staticmethod
    def _winograd_input_grad(input_shape: tuple[int, ...], w: Array, argmax: Array, g: Array,
                             oh: int, ow: int, pads: tuple[int, ...]) -> Array | None:
        """Per chunk: transform the pooled gradient, 16 products ``dM @ Uᵀ``, add each tile's
        adjoint input transform into its patch. None if an argmax lies outside its window."""
        n, (_, P, Q, co), ci = input_shape[0], g.shape, w.shape[2]
        ut = np.ascontiguousarray(winograd.filter_transform(w).transpose(0, 2, 1))
        _, bt, dm_table = winograd.tables(g.dtype)
        dx = np.empty(input_shape, dtype=g.dtype)
        step = _tiles_per_chunk(n, P * Q, 16 * (ci + co) * g.itemsize)

        def work(n0: int, n1: int) -> bool:  # one chunk of images
            dm = np.empty((16, (n1 - n0) * P * Q, co), dtype=g.dtype)
            if not winograd.pooled_grad(argmax[n0:n1], g[n0:n1], oh, ow, dm_table, dm):
                return False
            dv = np.matmul(dm, ut)
            out = dx[n0:n1]
            shape = winograd.padded_shape(out.shape, P, Q, pads[0], pads[2])
            dxp = out if shape == out.shape else np.empty(shape, dtype=g.dtype)
            dxp[:] = 0.0
            winograd.input_adjoint(dv, P, Q, bt, dxp)
            winograd.unpadded(dxp, out, pads[0], pads[2])
            return True

        return dx if all(run_split(n, work, step=step)) else None

    # -- one patch per pooling window: stride-1 convolutions over few channels -------------

    @staticmethod
    def _patches_forward(x: Array, w: Array, b: Array, relu: bool, oh: int, ow: int, P: int,
                         Q: int, pads: tuple[int, ...]) -> tuple[Array, Array]:
        """Per chunk: the windows' patches, one BLAS product with the filter placed four times,
        the pooling of each window's four outputs."""
        n, (kh, kw, _, co) = x.shape[0], w.shape
        w4 = pool_patches.expand_filter(w)
        z = np.empty((n, P, Q, co), dtype=x.dtype)
        arg = np.empty((n, P, Q, co), dtype=np.int32)
        step = _tiles_per_chunk(n, P * Q, (w4.shape[0] + w4.shape[1]) * x.itemsize)

        def work(n0: int, n1: int) -> None:  # one chunk of images
            xp = winograd.padded(x[n0:n1], P, Q, pads[0], pads[2], kh, kw)
            pm = np.empty(((n1 - n0) * P * Q, w4.shape[0]), dtype=x.dtype)
            pool_patches.patches(xp, P, Q, kh, kw, pm)
            pool_patches.pool4(pm @ w4, b, relu, oh, ow, z[n0:n1], arg[n0:n1])

        run_split(n, work, step=step)
        return z, arg

    @staticmethod
    def _patches_filter_grad(x: Array, filter_shape: tuple[int, ...], argmax: Array, g: Array,
                             oh: int, ow: int, pads: tuple[int, ...]) -> Array | None:
        """Per chunk: the pooled gradient in its argmax's column block, the windows' patches,
        ``patchesᵀ @ blocks``; folded into the filter's shape once at the end. None if an
        argmax lies outside its window."""
        n, (_, P, Q, co), (kh, kw, ci, _) = x.shape[0], g.shape, filter_shape
        k4 = (kh + 1) * (kw + 1) * ci
        zero = x.dtype.type(0)
        step = _tiles_per_chunk(n, P * Q, (k4 + 4 * co) * x.itemsize)

        def work(n0: int, n1: int) -> Array | None:  # one chunk's share of R
            d4 = np.empty(((n1 - n0) * P * Q, 4 * co), dtype=x.dtype)
            if not pool_patches.grad_blocks(argmax[n0:n1], g[n0:n1], oh, ow, zero, d4):
                return None
            xp = winograd.padded(x[n0:n1], P, Q, pads[0], pads[2], kh, kw)
            pm = np.empty(((n1 - n0) * P * Q, k4), dtype=x.dtype)
            pool_patches.patches(xp, P, Q, kh, kw, pm)
            return pm.T @ d4

        parts = run_split(n, work, step=step)
        if any(part is None for part in parts):
            return None
        return pool_patches.fold(sum_parts(parts), filter_shape)

    def gather_argmax(self, y: Array, argmax: Array) -> Array:
        """``y[n].flat[argmax[n, ...]]``."""
        if not (_ok(y) and _int_ok(argmax) and argmax.size):
            return super().gather_argmax(y, argmax)
        n = y.shape[0]
        out = np.empty(argmax.shape, dtype=y.dtype)
        _gather(_c(y).reshape(n, -1), _c(argmax).reshape(n, -1), out.reshape(n, -1))
        return out

    def scatter_argmax(self, argmax: Array, g: Array, shape: tuple[int, ...]) -> Array:
        """Zeros of ``shape`` with ``g`` added at ``argmax``."""
        if not (_ok(g) and _int_ok(argmax)) or 0 in tuple(shape):
            return super().scatter_argmax(argmax, g, shape)
        n = shape[0]
        out = np.empty(tuple(shape), dtype=g.dtype)
        _scatter(_c(argmax).reshape(n, -1), _c(g).reshape(n, -1), out.reshape(n, -1))
        return out
