"""The kernel contract every backend implements.

Ops whose work is arithmetic (element-wise maths, matmul, reductions, softmax and losses,
convolution and pooling, the fused optimizer updates) call one of these methods on the active
backend (``rt.be``) and never NumPy, Numba or CUDA directly, so a backend is one class and two
backends differ only in how they compile and launch the same kernels (``@njit`` on the CPU,
``@cuda.jit`` on a GPU). Arrays passed in already have the dtype the op's rule chose; every
method returns new arrays and never writes into its inputs.

Not every forward goes through a backend: ops that only move or describe data (``Reshape``,
``Transpose``, ``ConcatV2``, ``Pack``, ``Tile``, slicing, ``Shape``, ``ZerosLike``, ...) and the
random ops (``minitf/ops/random_ops.py``, NumPy generators, for TF's seed rules) call NumPy in
their forward. On a GPU those run on the host unless ``backends/cuda/placement.py`` gives them
a device version (TensorFlow's soft placement).

Element-wise kernels are named, not passed as Python callables, so that each backend can look
up its own compiled version; the names and their meaning live in ``kernel_table.py``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

Array = Any  # a host ndarray here; a device array on the GPU backend


class Backend:
    """Abstract kernel contract. ``NumpyBackend`` is the reference implementation."""

    name: str = "abstract"

    # -- element-wise -----------------------------------------------------------------------
    def unary(self, fn: str, x: Array, out_dtype: np.dtype, param: float = 0.0) -> Array:
        """``fn`` applied to every element (names: ``kernel_table.UNARY``, ``CONVERT_UNARY``)."""
        raise NotImplementedError

    def binary(self, fn: str, x: Array, y: Array, out_dtype: np.dtype, param: float = 0.0) -> Array:
        """``fn(x, y)`` element-wise with NumPy broadcasting (names: ``kernel_table.BINARY``,
        ``CONVERT_BINARY``)."""
        raise NotImplementedError

    def select(self, cond: Array, x: Array, y: Array) -> Array:
        """``x`` where ``cond`` else ``y``, broadcasting all three."""
        raise NotImplementedError

    # -- reductions -------------------------------------------------------------------------
    def reduce(self, fn: str, x: Array, axes: tuple[int, ...], keepdims: bool) -> Array:
        """Reduce over ``axes`` (sorted, non-negative, may be empty = copy).

        ``fn`` is one of sum, mean, max, min, prod, any, all. The result has ``x``'s dtype
        (float sums accumulate in float64 first).
        """
        raise NotImplementedError

    def argreduce(self, fn: str, x: Array, axis: int, out_dtype: np.dtype) -> Array:
        """Index of the max (``fn='argmax'``) or min (``'argmin'``) along ``axis``."""
        raise NotImplementedError

    # -- linear algebra ---------------------------------------------------------------------
    def matmul(self, a: Array, b: Array, transpose_a: bool = False, transpose_b: bool = False) -> Array:
        """Matrix product of the last two axes; leading (batch) axes broadcast."""
        raise NotImplementedError

    # -- softmax family (always over the last axis) ------------------------------------------
    def softmax(self, x: Array) -> Array:
        raise NotImplementedError

    def log_softmax(self, x: Array) -> Array:
        raise NotImplementedError

    def softmax_xent(self, logits: Array, labels: Array) -> tuple[Array, Array]:
        """Fused softmax cross-entropy: ``(loss[...], softmax(logits) - labels)``."""
        raise NotImplementedError

    def sparse_softmax_xent(self, logits: Array, labels: Array) -> tuple[Array, Array]:
        """As ``softmax_xent`` with integer class ids; ids outside [0, classes) raise ValueError."""
        raise NotImplementedError

    # -- convolution and pooling, NHWC (minitf/ops/conv_ops.py; sizes: conv_geometry.py) ----
    # ``strides``/``dilations``/``ksize`` are (h, w) int pairs, ``padding`` 'SAME' or 'VALID'.
    def conv2d(self, x: Array, w: Array, strides: tuple[int, int], padding: str,
               dilations: tuple[int, int]) -> Array:
        """Cross-correlation of ``x`` [n, h, w, ci] with filters ``w`` [kh, kw, ci, co]."""
        raise NotImplementedError

    def conv2d_bias_act(self, x: Array, w: Array, b: Array, strides: tuple[int, int],
                        padding: str, dilations: tuple[int, int], activation: str) -> Array:
        """``activation(conv2d(x, w) + b)``; ``activation`` is 'linear' or 'relu'."""
        raise NotImplementedError

    def conv2d_backprop_input(self, input_shape: tuple[int, ...], w: Array, dy: Array,
                              strides: tuple[int, int], padding: str,
                              dilations: tuple[int, int]) -> Array:
        """Gradient of ``conv2d`` with respect to ``x`` (of ``input_shape``), given ``dy``."""
        raise NotImplementedError

    def conv2d_backprop_filter(self, x: Array, filter_shape: tuple[int, ...], dy: Array,
                               strides: tuple[int, int], padding: str,
                               dilations: tuple[int, int]) -> Array:
        """Gradient of ``conv2d`` with respect to ``w`` (of ``filter_shape``), given ``dy``."""
        raise NotImplementedError

    def max_pool(self, x: Array, ksize: tuple[int, int], strides: tuple[int, int],
                 padding: str) -> Array:
        """Max of each window; padded positions never win."""
        raise NotImplementedError

    def max_pool_grad(self, x: Array, y: Array, dy: Array, ksize: tuple[int, int],
                      strides: tuple[int, int], padding: str) -> Array:
        """``dy`` routed to each window's first maximum (row-major) in ``x``."""
        raise NotImplementedError

    def max_pool_grad_grad(self, x: Array, y: Array, g: Array, ksize: tuple[int, int],
                           strides: tuple[int, int], padding: str) -> Array:
        """``g`` (shape of ``x``) read at each window's first maximum (shape of ``y``)."""
        raise NotImplementedError

    def avg_pool(self, x: Array, ksize: tuple[int, int], strides: tuple[int, int],
                 padding: str) -> Array:
        """Mean of each window over its real (non-padding) inputs."""
        raise NotImplementedError

    def avg_pool_grad(self, input_shape: tuple[int, ...], dy: Array, ksize: tuple[int, int],
                      strides: tuple[int, int], padding: str) -> Array:
        """Each window's ``dy`` divided equally among its real inputs."""
        raise NotImplementedError

    # A convolution and the max-pooling after it in one pass (minitf/ops/conv_pool_ops.py).
    # ``argmax`` indexes one image's convolution output: (row * out_width + col) * co + ch.
    def conv2d_bias_act_max_pool(self, x: Array, w: Array, b: Array, strides: tuple[int, int],
                                 padding: str, dilations: tuple[int, int], activation: str,
                                 ksize: tuple[int, int], pool_strides: tuple[int, int],
                                 pool_padding: str) -> tuple[Array, Array]:
        """``(max_pool(activation(conv2d(x, w) + b)), argmax)``, argmax int32."""
        raise NotImplementedError

    def fused_conv2d_max_pool_backprop_input(self, input_shape: tuple[int, ...], w: Array,
                                             argmax: Array, g: Array, strides: tuple[int, int],
                                             padding: str,
                                             dilations: tuple[int, int]) -> Array:
        """``conv2d_backprop_input`` of ``g`` scattered to ``argmax`` (``scatter_argmax``)."""
        raise NotImplementedError

    def fused_conv2d_max_pool_backprop_filter(self, x: Array, filter_shape: tuple[int, ...],
                                              argmax: Array, g: Array,
                                              strides: tuple[int, int], padding: str,
                                              dilations: tuple[int, int]) -> Array:
        """``conv2d_backprop_filter`` of ``g`` scattered to ``argmax``."""
        raise NotImplementedError

    def gather_argmax(self, y: Array, argmax: Array) -> Array:
        """``out[n, ...] = y[n].flat[argmax[n, ...]]``."""
        raise NotImplementedError

    def scatter_argmax(self, argmax: Array, g: Array, shape: tuple[int, ...]) -> Array:
        """Zeros of ``shape`` with ``g[n, ...]`` added at ``[n].flat[argmax[n, ...]]``."""
        raise NotImplementedError

    # -- recurrent sequences (minitf/ops/rnn_ops.py; arrays and gate orders: rnn_numpy.py) -----
    # ``cell`` is 'simple', 'lstm' or 'gru' (Keras's reset_after=True).
    # ``time_major``: the arrays with a time axis (xp, mask, hs, cs, ws, dhs, dcs, dxp) have it
    # first, [time, batch, ...], instead of [batch, time, ...].
    def rnn_sequence(self, cell: str, xp: Array, h0: Array, c0: Array, r: Array, rb: Array,
                     mask: Array, time_major: bool = False) -> tuple[Array, Array, Array]:
        """``(hs, cs, ws)``: every step's state, cell state and the backward's workspace."""
        raise NotImplementedError

    def rnn_sequence_grad(self, cell: str, h0: Array, c0: Array, r: Array, mask: Array,
                          hs: Array, cs: Array, ws: Array, dhs: Array, dcs: Array,
                          time_major: bool = False) -> tuple[Array, Array, Array, Array, Array]:
        """Backpropagation through time: ``(dxp, dh0, dc0, dr, drb)``."""
        raise NotImplementedError

    # -- fused optimizer updates (minitf/ops/optimizer_ops.py) ------------------------------
    # ``lr`` and ``step`` are Python floats; each returns the new state, same dtype as ``var``.
    def apply_gradient_descent(self, var: Array, grad: Array, lr: float) -> Array:
        """``var - lr * grad``."""
        raise NotImplementedError

    def apply_momentum(self, var: Array, accum: Array, grad: Array, lr: float, momentum: float,
                       nesterov: bool) -> tuple[Array, Array]:
        """Keras momentum: ``accum' = momentum*accum - lr*grad``; returns ``(var + accum',
        accum')``, or with Nesterov ``(var + momentum*accum' - lr*grad, accum')``."""
        raise NotImplementedError

    def apply_adam(self, var: Array, m: Array, v: Array, grad: Array, lr: float, beta1: float,
                   beta2: float, epsilon: float, step: float) -> tuple[Array, Array, Array]:
        """Adam step ``step`` (1-based): ``m' = m + (grad - m)(1 - beta1)``,
        ``v' = v + (grad^2 - v)(1 - beta2)``, returns
        ``(var - lr*sqrt(1 - beta2^step)/(1 - beta1^step) * m'/(sqrt(v') + epsilon), m', v')``."""
        raise NotImplementedError

    def apply_adagrad(self, var: Array, accum: Array, grad: Array, lr: float,
                      epsilon: float) -> tuple[Array, Array]:
        """``accum' = accum + grad^2``; returns
        ``(var - lr*grad/sqrt(accum' + epsilon), accum')``."""
        raise NotImplementedError

    def apply_rmsprop(self, var: Array, ms: Array, mom: Array | None, mg: Array | None,
                      grad: Array, lr: float, rho: float, momentum: float, epsilon: float
                      ) -> tuple[Array, Array, Array | None, Array | None]:
        """RMSprop: ``ms' = rho*ms + (1-rho)*grad^2``; centered when ``mg`` is given
        (``mg' = rho*mg + (1-rho)*grad``, ``denom = ms' - mg'^2 + epsilon``), else
        ``denom = ms' + epsilon``; ``inc = lr*grad/sqrt(denom)``; with ``mom``:
        ``mom' = momentum*mom + inc`` and ``var - mom'``, else ``var - inc``. Returns
        ``(var', ms', mom', mg')`` with ``None`` for the slots not given."""
        raise NotImplementedError
