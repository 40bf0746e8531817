"""Convolution and pooling kernels of the Numba CPU backend (NHWC input, HWIO filters).

A convolution is lowered to one matrix product (im2col + GEMM): ``_im2col`` copies, for every
output pixel, the ``kh * kw * ci`` inputs its window sees into one row of a matrix (zeros
where the window hangs over the padding), and BLAS multiplies that matrix by the filters
viewed as ``(kh*kw*ci, co)``. The filter gradient is the same matrix transposed times the
output gradient; the input gradient is the output gradient times the filters transposed,
scattered back by ``_col2im``. The copies are memory-bound; the products run in BLAS.
A direct kernel (no im2col: ``y[n, r, c, :] += x * w[i, j, ch, :]`` per input) was measured
on the MNIST CNN shapes (one thread, CPU time) and lost: for the 1-channel first layer with
fused bias+ReLU 2.3 vs 2.0 ms at batch 64 and 53 vs 40 ms at batch 1000; for the 32-channel
second layer 25 vs 5.5 ms at batch 64. ``conv2d_bias_act`` adds the bias and applies the
ReLU to each block of the output right after its product, while it is still in cache,
instead of two more passes over the whole output (inference at batch 1000: 1.7x faster).

Pooling kernels walk each window directly and never materialise the padding: out-of-range
positions are skipped.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
from numba import njit, prange

from ..conv_geometry import window_2d
from . import workers
from .workers import run_split

Array = Any
_FLOATS = frozenset((np.dtype(np.float32), np.dtype(np.float64)))

# The copy and pooling kernels are memory-bound and run next to multi-threaded BLAS calls,
# whose worker threads keep spinning for a while after each product: a ``prange`` kernel
# then fights them for the second core and slows down instead of up. Serial kernels leave
# both cores to BLAS. (The loops are still written with ``prange``: set True to compare.)
# Still true with OPENBLAS_THREAD_TIMEOUT=1 (threads sleep after a product): Numba's OpenMP
# workers then spin after each prange kernel instead. Measured (50 training steps, batch 64, interleaved,
# wall): serial 0.81 s; these kernels, im2col_t, bias+ReLU and the tiled pool gradient in
# prange 1.15 s; with OMP_WAIT_POLICY=PASSIVE 0.89-0.94 s; workqueue threading layer 1.11 s.
PARALLEL = False

# im2col works on chunks of images (which workers.run_split hands out) whose column matrix
# fits in about this many bytes: a batch of 1000 MNIST images would otherwise need a 139 MB
# matrix for the second layer, written and read once from memory instead of from cache.
# Measured (one thread, second MNIST layer): 66 vs 89 ms at batch 1000, 4.0 vs 4.9 ms at
# batch 64.
CHUNK_BYTES = 4 << 20

# Inputs with at most this many channels are lowered with ``_im2col_t`` (see there).
TRANSPOSED_MAX_CI = 3


@njit(cache=True, nogil=True, parallel=PARALLEL)
def _im2col(x, cols, kh, kw, sh, sw, dh, dw, top, left, oh, ow):
    """``cols[(n*oh + r)*ow + c, (i*kw + j)*ci + ch] = x[n, r*sh + i*dh - top, c*sw + j*dw -
    left, ch]`` (0 outside x)."""
    n_img, h, w, ci = x.shape
    for nr in prange(n_img * oh):
        n = nr // oh
        r = nr - n * oh
        for c in range(ow):
            m = nr * ow + c
            for i in range(kh):
                hi = r * sh + i * dh - top
                for j in range(kw):
                    wi = c * sw + j * dw - left
                    base = (i * kw + j) * ci
                    # scalar indexing: a view per (i, j) costs more than copying one channel
                    if 0 <= hi < h and 0 <= wi < w:
                        for ch in range(ci):
                            cols[m, base + ch] = x[n, hi, wi, ch]
                    else:
                        for ch in range(ci):
                            cols[m, base + ch] = 0.0


@njit(cache=True, nogil=True)
def _im2col_t(x, cols_t, kh, kw, sh, sw, dh, dw, top, left, oh, ow):
    """``_im2col`` transposed: ``cols_t[(i*kw + j)*ci + ch, (n*oh + r)*ow + c]``.

    For inputs with few channels (the 1-channel first MNIST layer), a row of ``cols`` is a
    handful of scattered scalars, while a row of ``cols_t`` is a run of ``ow`` outputs read
    from one input row: measured (one thread, 3x3 taps, batch 64 of 28x28x1) 0.5-0.7 vs
    1.8 ms, and BLAS multiplies either layout at the same speed. The whole first MNIST layer
    (interleaved, one thread): forward 1.3 vs 2.7 ms, filter gradient 1.3 vs 2.9 ms at batch
    64; forward 34 vs 55 ms at batch 1000."""
    n_img, h, w, ci = x.shape
    for i in range(kh):
        for j in range(kw):
            off = j * dw - left
            # output columns c whose input column c*sw + off lies inside [0, w)
            c0 = min(ow, max(0, (sw - 1 - off) // sw))
            c1 = max(c0, min(ow, (w - off + sw - 1) // sw))
            for ch in range(ci):
                dst_t = cols_t[(i * kw + j) * ci + ch]
                for n in range(n_img):
                    xn = x[n]
                    for r in range(oh):
                        hi = r * sh + i * dh - top
                        dst = dst_t[(n * oh + r) * ow:(n * oh + r + 1) * ow]
                        if hi < 0 or hi >= h:
                            dst[:] = 0.0
                            continue
                        src = xn[hi, :, ch]
                        for c in range(c0):
                            dst[c] = 0.0
                        for c in range(c0, c1):
                            dst[c] = src[c * sw + off]
                        for c in range(c1, ow):
                            dst[c] = 0.0


@njit(cache=True, nogil=True, parallel=PARALLEL)
def _col2im(cols, dx, kh, kw, sh, sw, dh, dw, top, left, oh, ow):
    """The adjoint of ``_im2col``: add every row of ``cols`` back into ``dx`` (zeroed).

    Windows of one image overlap, so the parallel loop is over images: no two threads ever
    write the same element."""
    n_img, h, w, ci = dx.shape
    for n in prange(n_img):
        for r in range(oh):
            for c in range(ow):
                row = cols[(n * oh + r) * ow + c]
                for i in range(kh):
                    hi = r * sh + i * dh - top
                    if hi < 0 or hi >= h:
                        continue
                    for j in range(kw):
                        wi = c * sw + j * dw - left
                        if wi < 0 or wi >= w:
                            continue
                        base = (i * kw + j) * ci
                        dst = dx[n, hi, wi]
                        for ch in range(ci):
                            dst[ch] += row[base + ch]


@njit(cache=True, nogil=True)
def _bias_act(y, b, relu):
    """``y[m, :] = act(y[m, :] + b)`` in place (act: ReLU or identity)."""
    for m in range(y.shape[0]):
        row = y[m]
        for k in range(y.shape[1]):
            v = row[k] + b[k]
            row[k] = (0.0 if v < 0 else v) if relu else v


@njit(cache=True, nogil=True, parallel=PARALLEL)
def _max_pool(x, y, kh, kw, sh, sw, top, left):
    n_img, h, w, ch_n = x.shape
    oh, ow = y.shape[1], y.shape[2]
    for nr in prange(n_img * oh):
        n = nr // oh
        r = nr - n * oh
        for c in range(ow):
            out = y[n, r, c]
            for ch in range(ch_n):
                out[ch] = -np.inf
            for i in range(kh):
                hi = r * sh + i - top
                if hi < 0 or hi >= h:
                    continue
                for j in range(kw):
                    wi = c * sw + j - left
                    if wi < 0 or wi >= w:
                        continue
                    src = x[n, hi, wi]
                    for ch in range(ch_n):
                        v = src[ch]
                        if v > out[ch]:
                            out[ch] = v


@njit(cache=True, nogil=True)
def _window_argmax(x, n, r, c, kh, kw, sh, sw, top, left, best, bh, bw):
    """For window (r, c) of image n, the (row, col) in x of each channel's first maximum
    (row-major, as TensorFlow), written into ``bh``/``bw``; ``best`` is scratch."""
    h, w, ch_n = x.shape[1], x.shape[2], x.shape[3]
    first = True
    for i in range(kh):
        hi = r * sh + i - top
        if hi < 0 or hi >= h:
            continue
        for j in range(kw):
            wi = c * sw + j - left
            if wi < 0 or wi >= w:
                continue
            src = x[n, hi, wi]
            if first:
                for ch in range(ch_n):
                    best[ch] = src[ch]
                    bh[ch] = hi
                    bw[ch] = wi
                first = False
            else:
                for ch in range(ch_n):
                    if src[ch] > best[ch]:
                        best[ch] = src[ch]
                        bh[ch] = hi
                        bw[ch] = wi


@njit(cache=True, nogil=True, parallel=PARALLEL)
def _max_pool_grad(x, dy, dx, kh, kw, sh, sw, top, left):
    n_img, ch_n = x.shape[0], x.shape[3]
    oh, ow = dy.shape[1], dy.shape[2]
    for n in prange(n_img):  # windows may overlap: one thread per image writes its dx
        best = np.empty(ch_n, x.dtype)
        bh = np.empty(ch_n, np.int64)
        bw = np.empty(ch_n, np.int64)
        for r in range(oh):
            for c in range(ow):
                _window_argmax(x, n, r, c, kh, kw, sh, sw, top, left, best, bh, bw)
                g = dy[n, r, c]
                for ch in range(ch_n):
                    dx[n, bh[ch], bw[ch], ch] += g[ch]


@njit(cache=True, nogil=True)
def _max_pool_grad_tiled(x, dy, dx, kh, kw, sh, sw, top, left):
    """``_max_pool_grad`` for windows that do not overlap (strides >= window): every input
    lies in at most one window, so each window's inputs are written (the gradient at the
    first maximum, 0 elsewhere) in two passes over channel vectors, with no scatter.
    Measured (one thread, batch 64, interleaved): 1.03 vs 1.62 ms for 26x26x32, 0.24 vs
    0.38 ms for 11x11x64. ``dx`` must be zeroed (inputs outside every window keep 0)."""
    n_img, h, w, ch_n = x.shape
    oh, ow = dy.shape[1], dy.shape[2]
    best = np.empty(ch_n, x.dtype)
    rest = np.empty(ch_n, x.dtype)  # gradient not yet placed (0 once placed)
    for n in range(n_img):
        for r in range(oh):
            i0, i1 = max(0, r * sh - top), min(h, r * sh - top + kh)
            for c in range(ow):
                j0, j1 = max(0, c * sw - left), min(w, c * sw - left + kw)
                if i0 >= i1 or j0 >= j1:
                    continue
                g = dy[n, r, c]
                first = x[n, i0, j0]
                for ch in range(ch_n):
                    best[ch] = first[ch]
                    rest[ch] = g[ch]
                for hi in range(i0, i1):
                    for wi in range(j0, j1):
                        src = x[n, hi, wi]
                        for ch in range(ch_n):
                            v = src[ch]
                            best[ch] = v if v > best[ch] else best[ch]
                for hi in range(i0, i1):
                    for wi in range(j0, j1):
                        src = x[n, hi, wi]
                        dst = dx[n, hi, wi]
                        for ch in range(ch_n):
                            hit = src[ch] == best[ch]
                            dst[ch] = rest[ch] if hit else 0.0
                            rest[ch] = 0.0 if hit else rest[ch]
                # a NaN maximum equals nothing: as in _window_argmax, the first input gets it
                d0 = dx[n, i0, j0]
                for ch in range(ch_n):
                    d0[ch] += rest[ch]


@njit(cache=True, nogil=True, parallel=PARALLEL)
def _max_pool_grad_grad(x, g, out, kh, kw, sh, sw, top, left):
    n_img, ch_n = x.shape[0], x.shape[3]
    oh, ow = out.shape[1], out.shape[2]
    for n in prange(n_img):
        best = np.empty(ch_n, x.dtype)
        bh = np.empty(ch_n, np.int64)
        bw = np.empty(ch_n, np.int64)
        for r in range(oh):
            for c in range(ow):
                _window_argmax(x, n, r, c, kh, kw, sh, sw, top, left, best, bh, bw)
                o = out[n, r, c]
                for ch in range(ch_n):
                    o[ch] = g[n, bh[ch], bw[ch], ch]


@njit(cache=True, nogil=True)
def _count(r, c, h, w, kh, kw, sh, sw, top, left):
    """Number of real inputs in window (r, c)."""
    rows = min(r * sh - top + kh, h) - max(r * sh - top, 0)
    cols = min(c * sw - left + kw, w) - max(c * sw - left, 0)
    return rows * cols


@njit(cache=True, nogil=True, parallel=PARALLEL)
def _avg_pool(x, y, kh, kw, sh, sw, top, left):
    n_img, h, w, ch_n = x.shape
    oh, ow = y.shape[1], y.shape[2]
    for nr in prange(n_img * oh):
        n = nr // oh
        r = nr - n * oh
        for c in range(ow):
            out = y[n, r, c]
            for ch in range(ch_n):
                out[ch] = 0.0
            for i in range(kh):
                hi = r * sh + i - top
                if hi < 0 or hi >= h:
                    continue
                for j in range(kw):
                    wi = c * sw + j - left
                    if wi < 0 or wi >= w:
                        continue
                    src = x[n, hi, wi]
                    for ch in range(ch_n):
                        out[ch] += src[ch]
            inv = 1.0 / _count(r, c, h, w, kh, kw, sh, sw, top, left)
            for ch in range(ch_n):
                out[ch] *= inv


@njit(cache=True, nogil=True, parallel=PARALLEL)
def _avg_pool_grad(dy, dx, kh, kw, sh, sw, top, left):
    n_img, h, w, ch_n = dx.shape
    oh, ow = dy.shape[1], dy.shape[2]
    for n in prange(n_img):
        for r in range(oh):
            for c in range(ow):
                inv = 1.0 / _count(r, c, h, w, kh, kw, sh, sw, top, left)
                src = dy[n, r, c]
                for i in range(kh):
                    hi = r * sh + i - top
                    if hi < 0 or hi >= h:
                        continue
                    for j in range(kw):
                        wi = c * sw + j - left
                        if wi < 0 or wi >= w:
                            continue
                        dst = dx[n, hi, wi]
                        for ch in range(ch_n):
                            dst[ch] += src[ch] * inv


# Outputs at least this large are kept after use and handed out again once nothing else
# refers to them. glibc serves them with mmap (its threshold is capped at 32 MiB) and unmaps
# them on free, so each new one page-faults while it is written: measured here, allocating
# and writing the first MNIST layer's 86 MB output at batch 1000 took 12.8 ms, against ~4 ms
# for writing reused memory.
REUSE_MIN_BYTES = 32 << 20
_SPARE: dict[tuple, Array] = {}


def _kept(spare: dict, key: tuple) -> tuple[Array | None, int]:
    """The block kept under ``key`` (or None) and its reference count as seen from here."""
    arr = spare.get(key)
    return arr, (0 if arr is None else sys.getrefcount(arr))


# The count of a block referenced only by its dict, calibrated through the same code path
# (so it holds whatever the interpreter counts for locals and arguments).
_ONLY_KEPT = _kept({0: np.empty(0)}, 0)[1]


def _big_output(shape: tuple[int, ...], dtype: Any) -> Array:
    """``np.empty(shape, dtype)``, from a kept block when one of that shape is free: its only
    reference is ``_SPARE`` (any view or tensor still using it holds another one)."""
    dtype = np.dtype(dtype)
    if int(np.prod(shape)) * dtype.itemsize < REUSE_MIN_BYTES:
        return np.empty(shape, dtype)
    key = (tuple(shape), dtype.str)
    arr, refs = _kept(_SPARE, key)
    if arr is not None and refs == _ONLY_KEPT:
        return arr
    arr = np.empty(shape, dtype)
    if key not in _SPARE and len(_SPARE) >= 2:  # keep at most two blocks
        del _SPARE[next(iter(_SPARE))]
    _SPARE[key] = arr
    return arr


def _c(a: Array) -> Array:
    return np.ascontiguousarray(a)


def sum_parts(parts: list[Array]) -> Array:
    """The workers' partial sums added in order (the same result for the same split)."""
    total = parts[0]
    for p in parts[1:]:
        total += p
    return total


class ConvKernelsNumba:
    """Mixin: the ``Backend`` convolution/pooling kernels, compiled. Other dtypes than
    float32/float64 (and empty arrays) fall through to the NumPy reference."""

    @staticmethod
    def _chunks(n_img: int, rows_per_img: int, k: int, itemsize: int) -> int:
        """Images per im2col chunk: at most what fits in ``CHUNK_BYTES`` (at least one),
        evened out by ``workers.balanced``."""
        return workers.balanced(n_img, CHUNK_BYTES // max(1, rows_per_img * k * itemsize))

    @staticmethod
    def _columns(x: Array, buf: Array, kh: int, kw: int, strides, dilations, pads, oh: int,
                 ow: int) -> Array:
        """The (images * oh * ow, kh*kw*ci) column matrix of ``x``, built in ``buf`` (flat,
        large enough); a transposed view when ``x`` has few channels."""
        rows, k = x.shape[0] * oh * ow, kh * kw * x.shape[3]
        geo = (kh, kw, strides[0], strides[1], dilations[0], dilations[1], pads[0], pads[2],
               oh, ow)
        if x.shape[3] <= TRANSPOSED_MAX_CI:
            cols_t = buf[:rows * k].reshape(k, rows)
            _im2col_t(x, cols_t, *geo)
            return cols_t.T
        cols = buf[:rows * k].reshape(rows, k)
        _im2col(x, cols, *geo)
        return cols

    def conv2d(self, x: Array, w: Array, strides: tuple[int, int], padding: str,
               dilations: tuple[int, int]) -> Array:
        """im2col per chunk of images, then one BLAS product with the filters as a
        (kh*kw*ci, co) matrix, written straight into the output."""
        if x.dtype not in _FLOATS or x.dtype != w.dtype or x.size == 0 or w.size == 0:
            return super().conv2d(x, w, strides, padding, dilations)
        return self._conv(x, w, None, strides, padding, dilations, False)

    def conv2d_bias_act(self, x: Array, w: Array, b: Array, strides: tuple[int, int],
                        padding: str, dilations: tuple[int, int], activation: str) -> Array:
        """``conv2d``, with bias and ReLU applied to each chunk right after its product,
        while it is still in cache."""
        if (x.dtype not in _FLOATS or not x.dtype == w.dtype == b.dtype or x.size == 0
                or w.size == 0):
            return super().conv2d_bias_act(x, w, b, strides, padding, dilations, activation)
        return self._conv(x, w, _c(b), strides, padding, dilations, activation == "relu")

    def _conv(self, x: Array, w: Array, b: Array | None, strides, padding, dilations,
              relu: bool) -> Array:
        kh, kw, ci, co = w.shape
        n = x.shape[0]
        oh, ow, pads = window_2d(x.shape[1], x.shape[2], (kh, kw), strides, dilations, padding)
        x, w2 = _c(x), _c(w).reshape(-1, co)
        y = _big_output((n * oh * ow, co), x.dtype)
        step = self._chunks(n, oh * ow, w2.shape[0], x.itemsize)

        def work(n0: int, n1: int) -> None:  # one chunk of images
            buf = np.empty((n1 - n0) * oh * ow * w2.shape[0], dtype=x.dtype)
            cols = self._columns(x[n0:n1], buf, kh, kw, strides, dilations, pads, oh, ow)
            block = y[n0 * oh * ow:n1 * oh * ow]
            np.matmul(cols, w2, out=block)
            if b is not None:
                _bias_act(block, b, relu)

        run_split(n, work, step=step)
        return y.reshape(n, oh, ow, co)

    def conv2d_backprop_input(self, input_shape: tuple[int, ...], w: Array, dy: Array,
                              strides: tuple[int, int], padding: str,
                              dilations: tuple[int, int]) -> Array:
        """``dy @ w.T`` as columns, per chunk of images, scattered back by col2im."""
        if w.dtype not in _FLOATS or w.dtype != dy.dtype or w.size == 0 or dy.size == 0:
            return super().conv2d_backprop_input(input_shape, w, dy, strides, padding, dilations)
        kh, kw, ci, co = w.shape
        n = input_shape[0]
        oh, ow, pads = window_2d(input_shape[1], input_shape[2], (kh, kw), strides, dilations,
                                 padding)
        w2t = _c(w).reshape(-1, co).T
        dy2 = _c(dy).reshape(-1, co)
        dx = np.zeros(tuple(input_shape), dtype=dy.dtype)
        step = self._chunks(n, oh * ow, w2t.shape[1], dy.itemsize)

        def work(n0: int, n1: int) -> None:  # one chunk of images
            dcols = np.matmul(dy2[n0 * oh * ow:n1 * oh * ow], w2t)
            _col2im(dcols, dx[n0:n1], kh, kw, strides[0], strides[1], dilations[0],
                    dilations[1], pads[0], pads[2], oh, ow)

        run_split(n, work, step=step)
        return dx

    def conv2d_backprop_filter(self, x: Array, filter_shape: tuple[int, ...], dy: Array,
                               strides: tuple[int, int], padding: str,
                               dilations: tuple[int, int]) -> Array:
        """``sum over chunks of im2col(x).T @ dy`` as a (kh*kw*ci, co) matrix."""
        if x.dtype not in _FLOATS or x.dtype != dy.dtype or x.size == 0 or dy.size == 0:
            return super().conv2d_backprop_filter(x, filter_shape, dy, strides, padding,
                                                  dilations)
        kh, kw, ci, co = filter_shape
        n = x.shape[0]
        oh, ow, pads = window_2d(x.shape[1], x.shape[2], (kh, kw), strides, dilations, padding)
        x, dy2 = _c(x), _c(dy).reshape(-1, co)
        k = kh * kw * ci
        step = self._chunks(n, oh * ow, k, x.itemsize)

        def work(n0: int, n1: int) -> Array:  # one chunk's share of the gradient
            buf = np.empty((n1 - n0) * oh * ow * k, dtype=x.dtype)
            cols = self._columns(x[n0:n1], buf, kh, kw, strides, dilations, pads, oh, ow)
            return np.matmul(cols.T, dy2[n0 * oh * ow:n1 * oh * ow])

        return sum_parts(run_split(n, work, step=step)).reshape(kh, kw, ci, co)

    # -- pooling -------------------------------------------------------------------------------
    @staticmethod
    def _pool_geometry(shape, ksize, strides, padding):
        oh, ow, pads = window_2d(shape[1], shape[2], ksize, strides, (1, 1), padding)
        return oh, ow, (ksize[0], ksize[1], strides[0], strides[1], pads[0], pads[2])

    def max_pool(self, x: Array, ksize: tuple[int, int], strides: tuple[int, int],
                 padding: str) -> Array:
        """The largest input in each window."""
        if x.dtype not in _FLOATS or x.size == 0:
            return super().max_pool(x, ksize, strides, padding)
        oh, ow, geo = self._pool_geometry(x.shape, ksize, strides, padding)
        y = np.empty((x.shape[0], oh, ow, x.shape[3]), dtype=x.dtype)
        _max_pool(_c(x), y, *geo)
        return y

    def max_pool_grad(self, x: Array, y: Array, dy: Array, ksize: tuple[int, int],
                      strides: tuple[int, int], padding: str) -> Array:
        """Each window's gradient added at its first maximum."""
        if x.dtype not in _FLOATS or x.dtype != dy.dtype or x.size == 0:
            return super().max_pool_grad(x, y, dy, ksize, strides, padding)
        _, _, geo = self._pool_geometry(x.shape, ksize, strides, padding)
        dx = np.zeros(x.shape, dtype=dy.dtype)
        kh, kw, sh, sw = geo[:4]
        kernel = _max_pool_grad_tiled if sh >= kh and sw >= kw else _max_pool_grad
        kernel(_c(x), _c(dy), dx, *geo)
        return dx

    def max_pool_grad_grad(self, x: Array, y: Array, g: Array, ksize: tuple[int, int],
                           strides: tuple[int, int], padding: str) -> Array:
        """``g`` read at each window's first maximum."""
        if x.dtype not in _FLOATS or x.dtype != g.dtype or x.size == 0:
            return super().max_pool_grad_grad(x, y, g, ksize, strides, padding)
        oh, ow, geo = self._pool_geometry(x.shape, ksize, strides, padding)
        out = np.empty((x.shape[0], oh, ow, x.shape[3]), dtype=g.dtype)
        _max_pool_grad_grad(_c(x), _c(g), out, *geo)
        return out

    def avg_pool(self, x: Array, ksize: tuple[int, int], strides: tuple[int, int],
                 padding: str) -> Array:
        """The mean of the real inputs in each window."""
        if x.dtype not in _FLOATS or x.size == 0:
            return super().avg_pool(x, ksize, strides, padding)
        oh, ow, geo = self._pool_geometry(x.shape, ksize, strides, padding)
        y = np.empty((x.shape[0], oh, ow, x.shape[3]), dtype=x.dtype)
        _avg_pool(_c(x), y, *geo)
        return y

    def avg_pool_grad(self, input_shape: tuple[int, ...], dy: Array, ksize: tuple[int, int],
                      strides: tuple[int, int], padding: str) -> Array:
        """Each window's gradient shared equally by its real inputs."""
        if dy.dtype not in _FLOATS or dy.size == 0:
            return super().avg_pool_grad(input_shape, dy, ksize, strides, padding)
        _, _, geo = self._pool_geometry(input_shape, ksize, strides, padding)
        dx = np.zeros(tuple(input_shape), dtype=dy.dtype)
        _avg_pool_grad(_c(dy), dx, *geo)
        return dx
