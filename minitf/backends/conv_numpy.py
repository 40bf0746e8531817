"""Reference convolution and pooling kernels in NumPy (NHWC inputs, HWIO filters).

Every kernel walks the ``kh * kw`` offsets of the window. For one offset ``(i, j)`` the input
pixels the window sees form a strided slice of the padded input with the output's spatial
shape (``_tap``), so a convolution is a sum of ``kh * kw`` small matrix products
``tap(i, j) @ w[i, j]`` and its backward passes scatter the same slices back. Pooling does the
same with max/sum instead of a product. Plain, and fast enough to be the reference.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .conv_geometry import window_2d

Array = Any
Pads = tuple[int, int, int, int]


def _pad(x: Array, pads: Pads, value: float = 0.0) -> Array:
    top, bottom, left, right = pads
    if not any(pads):
        return x
    return np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)), constant_values=value)


def _tap(i: int, j: int, oh: int, ow: int, strides: tuple[int, int],
         dilations: tuple[int, int]) -> tuple[slice, slice, slice, slice]:
    """Index of the padded-input pixels that window offset (i, j) sees, for every output."""
    r0, c0 = i * dilations[0], j * dilations[1]
    return (slice(None), slice(r0, r0 + strides[0] * (oh - 1) + 1, strides[0]),
            slice(c0, c0 + strides[1] * (ow - 1) + 1, strides[1]), slice(None))


def _padded_shape(shape: tuple[int, ...], pads: Pads) -> tuple[int, int, int, int]:
    n, h, w, c = shape
    return n, h + pads[0] + pads[1], w + pads[2] + pads[3], c


def _crop(xp: Array, shape: tuple[int, ...], pads: Pads) -> Array:
    return xp[:, pads[0]:pads[0] + shape[1], pads[2]:pads[2] + shape[2], :]


def _pool_windows(x: Array, ksize, strides, padding, fill: float):
    """The padded input, output size, pads and the list of window-offset slices."""
    oh, ow, pads = window_2d(x.shape[1], x.shape[2], ksize, strides, (1, 1), padding)
    taps = [_tap(i, j, oh, ow, strides, (1, 1)) for i in range(ksize[0]) for j in range(ksize[1])]
    return _pad(x, pads, fill), oh, ow, pads, taps


class ConvKernelsNumpy:
    """Mixin giving a backend the convolution and pooling kernels of ``conv_ops``."""

    # -- convolution ------------------------------------------------------------------------
    def conv2d(self, x: Array, w: Array, strides: tuple[int, int], padding: str,
               dilations: tuple[int, int]) -> Array:
        """``y[n, r, c, o] = sum_{i,j,ci} xpad[n, r*sh + i*dh, c*sw + j*dw, ci] * w[i, j, ci, o]``."""
        kh, kw, _, co = w.shape
        oh, ow, pads = window_2d(x.shape[1], x.shape[2], (kh, kw), strides, dilations, padding)
        xp = _pad(x, pads)
        y = np.zeros((x.shape[0], oh, ow, co), dtype=np.result_type(x, w))
        for i in range(kh):
            for j in range(kw):
                y += xp[_tap(i, j, oh, ow, strides, dilations)] @ w[i, j]
        return y

    def conv2d_bias_act(self, x: Array, w: Array, b: Array, strides: tuple[int, int],
                        padding: str, dilations: tuple[int, int], activation: str) -> Array:
        """``activation(conv2d(x, w) + b)`` for activation 'linear' or 'relu'."""
        y = self.conv2d(x, w, strides, padding, dilations) + b
        return np.maximum(y, 0) if activation == "relu" else y

    def conv2d_backprop_input(self, input_shape: tuple[int, ...], w: Array, dy: Array,
                              strides: tuple[int, int], padding: str,
                              dilations: tuple[int, int]) -> Array:
        """Gradient of ``conv2d`` with respect to its input (the adjoint of the product)."""
        kh, kw = w.shape[:2]
        oh, ow, pads = window_2d(input_shape[1], input_shape[2], (kh, kw), strides, dilations,
                                 padding)
        dxp = np.zeros(_padded_shape(tuple(input_shape), pads), dtype=np.result_type(w, dy))
        for i in range(kh):
            for j in range(kw):
                dxp[_tap(i, j, oh, ow, strides, dilations)] += dy @ w[i, j].T
        return _crop(dxp, input_shape, pads)

    def conv2d_backprop_filter(self, x: Array, filter_shape: tuple[int, ...], dy: Array,
                               strides: tuple[int, int], padding: str,
                               dilations: tuple[int, int]) -> Array:
        """Gradient of ``conv2d`` with respect to its filters."""
        kh, kw, ci, co = filter_shape
        oh, ow, pads = window_2d(x.shape[1], x.shape[2], (kh, kw), strides, dilations, padding)
        xp = _pad(x, pads)
        dw = np.empty((kh, kw, ci, co), dtype=np.result_type(x, dy))
        for i in range(kh):
            for j in range(kw):
                tap = xp[_tap(i, j, oh, ow, strides, dilations)]
                dw[i, j] = tap.reshape(-1, ci).T @ dy.reshape(-1, co)
        return dw

    # -- max pooling ------------------------------------------------------------------------
    def max_pool(self, x: Array, ksize: tuple[int, int], strides: tuple[int, int],
                 padding: str) -> Array:
        """The largest input in each window (padding never wins: it is -inf)."""
        xp, oh, ow, _, taps = _pool_windows(x, ksize, strides, padding, -np.inf)
        return np.max([xp[t] for t in taps], axis=0).astype(x.dtype, copy=False)

    @staticmethod
    def _argmax_taps(x: Array, ksize, strides, padding):
        """Which window offset holds each window's max: the first in row-major order, as TF."""
        xp, oh, ow, pads, taps = _pool_windows(x, ksize, strides, padding, -np.inf)
        return np.argmax(np.stack([xp[t] for t in taps]), axis=0), pads, taps

    def max_pool_grad(self, x: Array, y: Array, dy: Array, ksize: tuple[int, int],
                      strides: tuple[int, int], padding: str) -> Array:
        """Each window's output gradient goes to the input that was its max."""
        arg, pads, taps = self._argmax_taps(x, ksize, strides, padding)
        dxp = np.zeros(_padded_shape(x.shape, pads), dtype=dy.dtype)
        for k, t in enumerate(taps):
            dxp[t] += np.where(arg == k, dy, 0)
        return _crop(dxp, x.shape, pads)

    def max_pool_grad_grad(self, x: Array, y: Array, g: Array, ksize: tuple[int, int],
                           strides: tuple[int, int], padding: str) -> Array:
        """``g`` (input-shaped) read at each window's max: the adjoint of ``max_pool_grad``."""
        arg, pads, taps = self._argmax_taps(x, ksize, strides, padding)
        gp = _pad(g, pads)
        out = np.zeros(arg.shape, dtype=g.dtype)
        for k, t in enumerate(taps):
            out += np.where(arg == k, gp[t], 0)
        return out

    # -- average pooling --------------------------------------------------------------------
    @staticmethod
    def _window_counts(shape, ksize, strides, padding, dtype) -> Array:
        """How many real (non-padding) inputs each window holds; padding is not averaged."""
        ones = np.ones((1, shape[1], shape[2], 1), dtype)
        op, oh, ow, _, taps = _pool_windows(ones, ksize, strides, padding, 0.0)
        return np.sum([op[t] for t in taps], axis=0)

    def avg_pool(self, x: Array, ksize: tuple[int, int], strides: tuple[int, int],
                 padding: str) -> Array:
        """The mean of the real inputs in each window."""
        xp, oh, ow, _, taps = _pool_windows(x, ksize, strides, padding, 0.0)
        total = np.sum([xp[t] for t in taps], axis=0)
        return (total / self._window_counts(x.shape, ksize, strides, padding, x.dtype)
                ).astype(x.dtype, copy=False)

    def avg_pool_grad(self, input_shape: tuple[int, ...], dy: Array, ksize: tuple[int, int],
                      strides: tuple[int, int], padding: str) -> Array:
        """Each window's output gradient shared equally by its real inputs."""
        oh, ow, pads = window_2d(input_shape[1], input_shape[2], ksize, strides, (1, 1), padding)
        share = dy / self._window_counts(input_shape, ksize, strides, padding, dy.dtype)
        dxp = np.zeros(_padded_shape(tuple(input_shape), pads), dtype=dy.dtype)
        for i in range(ksize[0]):
            for j in range(ksize[1]):
                dxp[_tap(i, j, oh, ow, strides, (1, 1))] += share
        return _crop(dxp, input_shape, pads).astype(dy.dtype, copy=False)

    # -- convolution + max pooling in one op --------------------------------------------------
    def conv2d_bias_act_max_pool(self, x: Array, w: Array, b: Array, strides: tuple[int, int],
                                 padding: str, dilations: tuple[int, int], activation: str,
                                 ksize: tuple[int, int], pool_strides: tuple[int, int],
                                 pool_padding: str) -> tuple[Array, Array]:
        """Pool ``conv2d(x, w) + b`` keeping each window's first maximum, then activate (ReLU
        and max commute)."""
        y = self.conv2d_bias_act(x, w, b, strides, padding, dilations, "linear")
        n, oh, ow, co = y.shape
        arg, pads, taps = self._argmax_taps(y, ksize, pool_strides, pool_padding)
        rows, cols = np.divmod(np.arange(ksize[0] * ksize[1]), ksize[1])
        r = (np.arange(arg.shape[1]) * pool_strides[0] - pads[0])[None, :, None, None]
        c = (np.arange(arg.shape[2]) * pool_strides[1] - pads[2])[None, None, :, None]
        argmax = ((r + rows[arg]) * ow + c + cols[arg]) * co + np.arange(co)
        z = self.gather_argmax(y, argmax.astype(np.int32))
        return (np.maximum(z, 0) if activation == "relu" else z), argmax.astype(np.int32)

    def gather_argmax(self, y: Array, argmax: Array) -> Array:
        """``y[n].flat[argmax[n, ...]]`` for every image n."""
        flat = y.reshape(y.shape[0], -1)
        return np.take_along_axis(flat, argmax.reshape(argmax.shape[0], -1), axis=1
                                  ).reshape(argmax.shape)

    def scatter_argmax(self, argmax: Array, g: Array, shape: tuple[int, ...]) -> Array:
        """Zeros of ``shape`` with ``g`` added at ``argmax`` (repeated indices add up)."""
        out = np.zeros((shape[0], int(np.prod(shape[1:]))), dtype=g.dtype)
        n = np.arange(shape[0])[:, None]
        np.add.at(out, (n, argmax.reshape(shape[0], -1)), g.reshape(shape[0], -1))
        return out.reshape(tuple(shape))

    def _conv_output_shape(self, input_shape, filter_shape, strides, padding, dilations):
        oh, ow, _ = window_2d(input_shape[1], input_shape[2], filter_shape[:2], strides,
                              dilations, padding)
        return (input_shape[0], oh, ow, filter_shape[3])

    def fused_conv2d_max_pool_backprop_input(self, input_shape: tuple[int, ...], w: Array,
                                             argmax: Array, g: Array, strides: tuple[int, int],
                                             padding: str,
                                             dilations: tuple[int, int]) -> Array:
        """``conv2d_backprop_input`` of the scattered gradient."""
        dy = self.scatter_argmax(argmax, g, self._conv_output_shape(
            input_shape, w.shape, strides, padding, dilations))
        return self.conv2d_backprop_input(input_shape, w, dy, strides, padding, dilations)

    def fused_conv2d_max_pool_backprop_filter(self, x: Array, filter_shape: tuple[int, ...],
                                              argmax: Array, g: Array,
                                              strides: tuple[int, int], padding: str,
                                              dilations: tuple[int, int]) -> Array:
        """``conv2d_backprop_filter`` of the scattered gradient."""
        dy = self.scatter_argmax(argmax, g, self._conv_output_shape(
            x.shape, filter_shape, strides, padding, dilations))
        return self.conv2d_backprop_filter(x, filter_shape, dy, strides, padding, dilations)
