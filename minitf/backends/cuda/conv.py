"""Convolution and pooling on the GPU (NHWC inputs, HWIO filters), the ``Backend`` contract.

A convolution is im2col followed by the tiled matrix product of ``matmul.py``: a kernel copies
every window of the input into one row of a ``cols`` matrix (``n*oh*ow`` rows of
``kh*kw*ci`` values, zeros where the window hangs over the padding), and ``cols @ w`` with
the filters as a (kh*kw*ci, co) matrix is the output. The two backward passes reuse it:
``dy @ w.T`` gives the gradient of every ``cols`` entry, and ``cols.T @ dy`` the filters'
gradient. ``cols`` is built for a chunk of images at a time (at most ``CHUNK_BYTES``), so
memory stays bounded for any batch.

Where several outputs feed one input (the adjoint of im2col, the pooling gradients) the
kernels gather instead of scatter: one thread per *input* element adds up the outputs whose
window covers it. No two threads write the same element, so no atomics are needed and the
sums come out in the same order on every run.

Every kernel walks a flat index with a grid-stride loop (one thread per element, however
many blocks the grid has) and decodes it into (image, row, column, channel); the channel is
the fastest index, so neighbouring threads touch neighbouring addresses.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import config, cuda

from ..base import Array
from ..conv_geometry import window_2d
from .matmul import MATMUL, TILE

BLOCK = 32 if config.ENABLE_CUDASIM else 256  # smaller under the simulator (see reductions)
"""Threads per block of the element kernels."""

MAX_BLOCKS = 1 << 16
"""Most blocks one element kernel is launched with; the grid-stride loop covers the rest."""

CHUNK_BYTES = 1 << 20 if config.ENABLE_CUDASIM else 256 << 20
"""Most bytes of the im2col buffer (and of the filter gradient's per-image parts)."""

MAX_GRID_Y = 65535
"""CUDA's limit on a grid's y and z extents (the matmul's rows / TILE and its batch)."""

_FLOATS = frozenset((np.dtype(np.float32), np.dtype(np.float64)))


# -- kernels ---------------------------------------------------------------------------------
@cuda.jit
def im2col(x, cols, kh, kw, sh, sw, dh, dw, top, left, oh, ow):
    """``cols[(n*oh + r)*ow + c, (i*kw + j)*ci + ch] = xpad[n, r*sh + i*dh, c*sw + j*dw, ch]``
    (0 in the padding)."""
    h, w, ci = x.shape[1], x.shape[2], x.shape[3]
    k_len = cols.shape[1]
    for t in range(cuda.grid(1), cols.shape[0] * k_len, cuda.gridsize(1)):
        row, k = t // k_len, t % k_len
        n, rc = row // (oh * ow), row % (oh * ow)
        r, c = rc // ow, rc % ow
        i, rest = k // (kw * ci), k % (kw * ci)
        j, ch = rest // ci, rest % ci
        hi = r * sh + i * dh - top
        wi = c * sw + j * dw - left
        if 0 <= hi < h and 0 <= wi < w:
            cols[row, k] = x[n, hi, wi, ch]
        else:
            cols[row, k] = 0.0


# Integer max/min as device functions: with Numba 0.68 the builtins ``max(a, b)`` and
# ``min(a, b)`` fail to compile for the CUDA target (a signature mismatch while typing them).
@cuda.jit(device=True)
def _imax(a, b):
    return a if a > b else b


@cuda.jit(device=True)
def _imin(a, b):
    return a if a < b else b


@cuda.jit(device=True)
def _first_window(p, k, s, d):
    """The first output index whose window (size ``k``, stride ``s``, dilation ``d``) can
    reach padded position ``p``: ceil((p - (k - 1) d) / s), at least 0."""
    q = p - (k - 1) * d
    return 0 if q <= 0 else (q + s - 1) // s


@cuda.jit
def col2im(dcols, dx, kh, kw, sh, sw, dh, dw, top, left, oh, ow):
    """The adjoint of ``im2col``: ``dx[n, hi, wi, ch]`` = the sum of the ``dcols`` entries
    that ``im2col`` copied from that element (one thread per element of ``dx``)."""
    h, w, ci = dx.shape[1], dx.shape[2], dx.shape[3]
    total = dx.shape[0] * h * w * ci
    for t in range(cuda.grid(1), total, cuda.gridsize(1)):
        ch, rest = t % ci, t // ci
        wi, rest = rest % w, rest // w
        hi, n = rest % h, rest // h
        ph, pw = hi + top, wi + left  # position in the padded input
        acc = 0.0
        for i in range(kh):
            q = ph - i * dh
            if q < 0:
                break
            if q % sh != 0 or q // sh >= oh:
                continue
            base = (n * oh + q // sh) * ow
            for j in range(kw):
                u = pw - j * dw
                if u < 0:
                    break
                if u % sw == 0 and u // sw < ow:
                    acc += dcols[base + u // sw, (i * kw + j) * ci + ch]
        dx[n, hi, wi, ch] = acc


@cuda.jit
def bias_act(y, b, relu):
    """``y[m, o] = act(y[m, o] + b[o])`` in place (act: ReLU or identity)."""
    co = y.shape[1]
    for t in range(cuda.grid(1), y.shape[0] * co, cuda.gridsize(1)):
        m, o = t // co, t % co
        v = y[m, o] + b[o]
        y[m, o] = (0.0 if v < 0 else v) if relu else v


@cuda.jit
def sum_parts(parts, out, first):
    """``out[k] = (0 if first else out[k]) + sum_z parts[z, k]`` (one thread per column)."""
    for k in range(cuda.grid(1), out.shape[0], cuda.gridsize(1)):
        acc = 0.0 if first else out[k]
        for z in range(parts.shape[0]):
            acc += parts[z, k]
        out[k] = acc


@cuda.jit
def max_pool(x, y, kh, kw, sh, sw, top, left):
    """``y[n, r, c, ch]`` = the largest real input of window (r, c); padding never wins."""
    h, w = x.shape[1], x.shape[2]
    oh, ow, chn = y.shape[1], y.shape[2], y.shape[3]
    for t in range(cuda.grid(1), y.shape[0] * oh * ow * chn, cuda.gridsize(1)):
        ch, rest = t % chn, t // chn
        c, rest = rest % ow, rest // ow
        r, n = rest % oh, rest // oh
        best = -math.inf
        for hi in range(_imax(r * sh - top, 0), _imin(r * sh - top + kh, h)):
            for wi in range(_imax(c * sw - left, 0), _imin(c * sw - left + kw, w)):
                v = x[n, hi, wi, ch]
                if v > best:
                    best = v
        y[n, r, c, ch] = best


@cuda.jit(device=True)
def _window_argmax(x, n, r, c, ch, kh, kw, sh, sw, top, left):
    """(row, col) in ``x`` of window (r, c)'s first maximum in row-major order, as TF."""
    h, w = x.shape[1], x.shape[2]
    h0, w0 = _imax(r * sh - top, 0), _imax(c * sw - left, 0)
    bh, bw = h0, w0
    best = x[n, h0, w0, ch]
    for hi in range(h0, _imin(r * sh - top + kh, h)):
        for wi in range(w0, _imin(c * sw - left + kw, w)):
            v = x[n, hi, wi, ch]
            if v > best:
                best, bh, bw = v, hi, wi
    return bh, bw


@cuda.jit
def max_pool_grad(x, dy, dx, kh, kw, sh, sw, top, left):
    """``dx[n, hi, wi, ch]`` = the sum of ``dy`` over the windows whose first maximum is
    that element (one thread per element of ``dx``)."""
    h, w, chn = x.shape[1], x.shape[2], x.shape[3]
    oh, ow = dy.shape[1], dy.shape[2]
    for t in range(cuda.grid(1), x.shape[0] * h * w * chn, cuda.gridsize(1)):
        ch, rest = t % chn, t // chn
        wi, rest = rest % w, rest // w
        hi, n = rest % h, rest // h
        acc = 0.0
        ph, pw = hi + top, wi + left  # position in the padded input
        for r in range(_first_window(ph, kh, sh, 1), _imin(ph // sh + 1, oh)):
            for c in range(_first_window(pw, kw, sw, 1), _imin(pw // sw + 1, ow)):
                bh, bw = _window_argmax(x, n, r, c, ch, kh, kw, sh, sw, top, left)
                if bh == hi and bw == wi:
                    acc += dy[n, r, c, ch]
        dx[n, hi, wi, ch] = acc


@cuda.jit
def max_pool_grad_grad(x, g, out, kh, kw, sh, sw, top, left):
    """``out[n, r, c, ch] = g[n, bh, bw, ch]`` at window (r, c)'s first maximum (bh, bw)."""
    oh, ow, chn = out.shape[1], out.shape[2], out.shape[3]
    for t in range(cuda.grid(1), out.shape[0] * oh * ow * chn, cuda.gridsize(1)):
        ch, rest = t % chn, t // chn
        c, rest = rest % ow, rest // ow
        r, n = rest % oh, rest // oh
        bh, bw = _window_argmax(x, n, r, c, ch, kh, kw, sh, sw, top, left)
        out[n, r, c, ch] = g[n, bh, bw, ch]


@cuda.jit(device=True)
def _count(r, c, h, w, kh, kw, sh, sw, top, left):
    """Number of real (non-padding) inputs in window (r, c)."""
    rows = _imin(r * sh - top + kh, h) - _imax(r * sh - top, 0)
    cols = _imin(c * sw - left + kw, w) - _imax(c * sw - left, 0)
    return rows * cols


@cuda.jit
def avg_pool(x, y, kh, kw, sh, sw, top, left):
    """``y[n, r, c, ch]`` = the mean of the real inputs of window (r, c)."""
    h, w = x.shape[1], x.shape[2]
    oh, ow, chn = y.shape[1], y.shape[2], y.shape[3]
    for t in range(cuda.grid(1), y.shape[0] * oh * ow * chn, cuda.gridsize(1)):
        ch, rest = t % chn, t // chn
        c, rest = rest % ow, rest // ow
        r, n = rest % oh, rest // oh
        acc = 0.0
        for hi in range(_imax(r * sh - top, 0), _imin(r * sh - top + kh, h)):
            for wi in range(_imax(c * sw - left, 0), _imin(c * sw - left + kw, w)):
                acc += x[n, hi, wi, ch]
        y[n, r, c, ch] = acc / _count(r, c, h, w, kh, kw, sh, sw, top, left)


@cuda.jit
def avg_pool_grad(dy, dx, kh, kw, sh, sw, top, left):
    """``dx[n, hi, wi, ch]`` = the sum over the windows covering it of their ``dy`` divided
    by their number of real inputs (one thread per element of ``dx``)."""
    h, w, chn = dx.shape[1], dx.shape[2], dx.shape[3]
    oh, ow = dy.shape[1], dy.shape[2]
    for t in range(cuda.grid(1), dx.shape[0] * h * w * chn, cuda.gridsize(1)):
        ch, rest = t % chn, t // chn
        wi, rest = rest % w, rest // w
        hi, n = rest % h, rest // h
        acc = 0.0
        ph, pw = hi + top, wi + left  # position in the padded input
        for r in range(_first_window(ph, kh, sh, 1), _imin(ph // sh + 1, oh)):
            for c in range(_first_window(pw, kw, sw, 1), _imin(pw // sw + 1, ow)):
                acc += dy[n, r, c, ch] / _count(r, c, h, w, kh, kw, sh, sw, top, left)
        dx[n, hi, wi, ch] = acc


# -- launching -------------------------------------------------------------------------------
def _launch(f: Any, total: int, *args: Any) -> None:
    """``f`` over ``total`` elements, one thread each (grid-stride beyond ``MAX_BLOCKS``)."""
    if total:
        f[min(max(1, -(-total // BLOCK)), MAX_BLOCKS), BLOCK](*args)


def _matmul(a3: Array, b3: Array, out3: Array, ta: bool, tb: bool) -> None:
    """``out3[z] = op(a3[z]) @ op(b3[z])`` with the tiled kernel (grid as in ``CudaBackend``)."""
    z, m, n = out3.shape
    grid = (max(1, -(-n // TILE)), max(1, -(-m // TILE)), z)
    MATMUL[out3.dtype][grid, (TILE, TILE)](a3, b3, out3, ta, tb)


def _device(a: Any) -> Array:
    """``a`` as a C-contiguous device array. (``backend.py`` has the same helper but imports
    this module, so it cannot be imported from here.)"""
    if hasattr(a, "copy_to_host"):
        return a
    return cuda.to_device(np.ascontiguousarray(a))


def images_per_chunk(n_img: int, rows_per_img: int, img_bytes: int) -> int:
    """Images per chunk: their buffers (``img_bytes`` each) fit ``CHUNK_BYTES`` and their
    rows one matmul grid (at least one image), with the chunks of a batch of equal size."""
    most = min(n_img, CHUNK_BYTES // max(1, img_bytes),
               MAX_GRID_Y * TILE // max(1, rows_per_img), MAX_GRID_Y)
    most = max(1, most)
    n_chunks = -(-n_img // most)
    return -(-n_img // n_chunks)


def _fits(rows_per_img: int) -> bool:
    """Whether one image's output rows fit one matmul grid (else the host runs the op)."""
    return rows_per_img <= MAX_GRID_Y * TILE


class ConvKernelsCuda:
    """Mixin for ``CudaBackend``: the convolution and pooling kernels on the device. Inputs
    other than float32/float64 of one dtype, empty arrays and images too large for one grid
    run ``NumpyBackend``'s kernels on host copies (``self._on_host``)."""

    _on_host: Any  # from CudaBackend

    # -- convolution ------------------------------------------------------------------------
    def conv2d(self, x: Array, w: Array, strides: tuple[int, int], padding: str,
               dilations: tuple[int, int]) -> Array:
        """im2col per chunk of images, then ``cols @ w`` straight into the output."""
        x, w = _device(x), _device(w)
        if not self._conv_ok(x, w, strides, padding, dilations):
            return self._on_host("conv2d", x, w, strides, padding, dilations)
        return self._conv(x, w, None, strides, padding, dilations, False)

    def conv2d_bias_act(self, x: Array, w: Array, b: Array, strides: tuple[int, int],
                        padding: str, dilations: tuple[int, int], activation: str) -> Array:
        """``conv2d`` with the bias and ReLU applied to each chunk after its product."""
        x, w, b = _device(x), _device(w), _device(b)
        if b.dtype != x.dtype or not self._conv_ok(x, w, strides, padding, dilations):
            return self._on_host("conv2d_bias_act", x, w, b, strides, padding, dilations,
                                 activation)
        return self._conv(x, w, b, strides, padding, dilations, activation == "relu")

    @staticmethod
    def _conv_ok(x: Array, w: Array, strides, padding, dilations) -> bool:
        if x.dtype not in _FLOATS or x.dtype != w.dtype or x.size == 0 or w.size == 0:
            return False
        oh, ow, _ = window_2d(x.shape[1], x.shape[2], tuple(w.shape)[:2], strides, dilations,
                              padding)
        return _fits(oh * ow)

    @staticmethod
    def _conv(x: Array, w: Array, b: Array | None, strides, padding, dilations,
              relu: bool) -> Array:
        kh, kw, ci, co = w.shape
        n = x.shape[0]
        oh, ow, pads = window_2d(x.shape[1], x.shape[2], (kh, kw), strides, dilations, padding)
        k, per = kh * kw * ci, oh * ow
        w3 = w.reshape((1, k, co))
        y = cuda.device_array((n * per, co), dtype=x.dtype)
        step = images_per_chunk(n, per, per * k * x.dtype.itemsize)
        buf = cuda.device_array((step * per, k), dtype=x.dtype)
        geo = (kh, kw, strides[0], strides[1], dilations[0], dilations[1], pads[0], pads[2],
               oh, ow)
        for n0 in range(0, n, step):
            n1 = min(n0 + step, n)
            rows = (n1 - n0) * per
            cols, block = buf[:rows], y[n0 * per:n1 * per]
            _launch(im2col, rows * k, x[n0:n1], cols, *geo)
            _matmul(cols.reshape((1, rows, k)), w3, block.reshape((1, rows, co)), False, False)
            if b is not None:
                _launch(bias_act, rows * co, block, b, relu)
        return y.reshape((n, oh, ow, co))

    def conv2d_backprop_input(self, input_shape: tuple[int, ...], w: Array, dy: Array,
                              strides: tuple[int, int], padding: str,
                              dilations: tuple[int, int]) -> Array:
        """``dy @ w.T`` per chunk of images, gathered back into the input by ``col2im``."""
        w, dy = _device(w), _device(dy)
        shape = tuple(int(s) for s in input_shape)
        if (w.dtype not in _FLOATS or w.dtype != dy.dtype or w.size == 0 or dy.size == 0
                or not _fits(dy.shape[1] * dy.shape[2])):
            return self._on_host("conv2d_backprop_input", shape, w, dy, strides, padding,
                                 dilations)
        kh, kw, ci, co = w.shape
        n = shape[0]
        oh, ow, pads = window_2d(shape[1], shape[2], (kh, kw), strides, dilations, padding)
        k, per = kh * kw * ci, oh * ow
        w3, dy2 = w.reshape((1, k, co)), dy.reshape((n * per, co))
        dx = cuda.device_array(shape, dtype=dy.dtype)
        step = images_per_chunk(n, per, per * k * dy.dtype.itemsize)
        buf = cuda.device_array((step * per, k), dtype=dy.dtype)
        geo = (kh, kw, strides[0], strides[1], dilations[0], dilations[1], pads[0], pads[2],
               oh, ow)
        for n0 in range(0, n, step):
            n1 = min(n0 + step, n)
            rows = (n1 - n0) * per
            dcols = buf[:rows]
            _matmul(dy2[n0 * per:n1 * per].reshape((1, rows, co)), w3,
                    dcols.reshape((1, rows, k)), False, True)
            part = dx[n0:n1]
            _launch(col2im, part.size, dcols, part, *geo)
        return dx

    def conv2d_backprop_filter(self, x: Array, filter_shape: tuple[int, ...], dy: Array,
                               strides: tuple[int, int], padding: str,
                               dilations: tuple[int, int]) -> Array:
        """``im2col(x).T @ dy``: one product per image (a batch of products, so the grid has
        work for every image), then the per-image parts summed into the result."""
        x, dy = _device(x), _device(dy)
        fshape = tuple(int(s) for s in filter_shape)
        if (x.dtype not in _FLOATS or x.dtype != dy.dtype or x.size == 0 or dy.size == 0
                or not _fits(dy.shape[1] * dy.shape[2])):
            return self._on_host("conv2d_backprop_filter", x, fshape, dy, strides, padding,
                                 dilations)
        kh, kw, ci, co = fshape
        n = x.shape[0]
        oh, ow, pads = window_2d(x.shape[1], x.shape[2], (kh, kw), strides, dilations, padding)
        k, per = kh * kw * ci, oh * ow
        dy3 = dy.reshape((n, per, co))
        dw = cuda.device_array(k * co, dtype=x.dtype)
        # Bytes per image: its im2col rows and its (k, co) part of the gradient.
        step = images_per_chunk(n, per, (per + co) * k * x.dtype.itemsize)
        buf = cuda.device_array((step * per, k), dtype=x.dtype)
        parts = cuda.device_array((step, k, co), dtype=x.dtype)
        geo = (kh, kw, strides[0], strides[1], dilations[0], dilations[1], pads[0], pads[2],
               oh, ow)
        for n0 in range(0, n, step):
            n1 = min(n0 + step, n)
            m = n1 - n0
            cols = buf[:m * per]
            _launch(im2col, m * per * k, x[n0:n1], cols, *geo)
            _matmul(cols.reshape((m, per, k)), dy3[n0:n1], parts[:m], True, False)
            _launch(sum_parts, k * co, parts[:m].reshape((m, k * co)), dw, n0 == 0)
        return dw.reshape(fshape)

    # -- pooling -----------------------------------------------------------------------------
    @staticmethod
    def _pool_geometry(shape: tuple[int, ...], ksize, strides, padding) -> tuple:
        oh, ow, pads = window_2d(shape[1], shape[2], ksize, strides, (1, 1), padding)
        return oh, ow, (ksize[0], ksize[1], strides[0], strides[1], pads[0], pads[2])

    def max_pool(self, x: Array, ksize: tuple[int, int], strides: tuple[int, int],
                 padding: str) -> Array:
        """The largest input in each window."""
        x = _device(x)
        if x.dtype not in _FLOATS or x.size == 0:
            return self._on_host("max_pool", x, ksize, strides, padding)
        oh, ow, geo = self._pool_geometry(x.shape, ksize, strides, padding)
        y = cuda.device_array((x.shape[0], oh, ow, x.shape[3]), dtype=x.dtype)
        _launch(max_pool, y.size, x, y, *geo)
        return y

    def max_pool_grad(self, x: Array, y: Array, dy: Array, ksize: tuple[int, int],
                      strides: tuple[int, int], padding: str) -> Array:
        """Each window's gradient added at its first maximum."""
        x, dy = _device(x), _device(dy)
        if x.dtype not in _FLOATS or x.dtype != dy.dtype or x.size == 0:
            return self._on_host("max_pool_grad", x, y, dy, ksize, strides, padding)
        _, _, geo = self._pool_geometry(x.shape, ksize, strides, padding)
        dx = cuda.device_array(x.shape, dtype=dy.dtype)
        _launch(max_pool_grad, dx.size, x, dy, dx, *geo)
        return dx

    def max_pool_grad_grad(self, x: Array, y: Array, g: Array, ksize: tuple[int, int],
                           strides: tuple[int, int], padding: str) -> Array:
        """``g`` read at each window's first maximum."""
        x, g = _device(x), _device(g)
        if x.dtype not in _FLOATS or x.dtype != g.dtype or x.size == 0:
            return self._on_host("max_pool_grad_grad", x, y, g, ksize, strides, padding)
        oh, ow, geo = self._pool_geometry(x.shape, ksize, strides, padding)
        out = cuda.device_array((x.shape[0], oh, ow, x.shape[3]), dtype=g.dtype)
        _launch(max_pool_grad_grad, out.size, x, g, out, *geo)
        return out

    def avg_pool(self, x: Array, ksize: tuple[int, int], strides: tuple[int, int],
                 padding: str) -> Array:
        """The mean of the real inputs in each window."""
        x = _device(x)
        if x.dtype not in _FLOATS or x.size == 0:
            return self._on_host("avg_pool", x, ksize, strides, padding)
        oh, ow, geo = self._pool_geometry(x.shape, ksize, strides, padding)
        y = cuda.device_array((x.shape[0], oh, ow, x.shape[3]), dtype=x.dtype)
        _launch(avg_pool, y.size, x, y, *geo)
        return y

    def avg_pool_grad(self, input_shape: tuple[int, ...], dy: Array, ksize: tuple[int, int],
                      strides: tuple[int, int], padding: str) -> Array:
        """Each window's gradient shared equally by its real inputs."""
        dy = _device(dy)
        shape = tuple(int(s) for s in input_shape)
        if dy.dtype not in _FLOATS or dy.size == 0:
            return self._on_host("avg_pool_grad", shape, dy, ksize, strides, padding)
        _, _, geo = self._pool_geometry(shape, ksize, strides, padding)
        dx = cuda.device_array(shape, dtype=dy.dtype)
        _launch(avg_pool_grad, dx.size, dy, dx, *geo)
        return dx
