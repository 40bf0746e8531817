"""Fused optimizer kernels compiled with Numba: one pass over the ravelled arrays per update.

The formulas are those of ``minitf/backends/optim_numpy.py`` (the reference); here each
element's new state is computed in registers and written once, instead of NumPy's one
temporary array per arithmetic step. Scalars are cast to the variable's dtype (float32 in
practice) so the loops vectorize, and ``error_model="numpy"`` drops Python's zero-division
check, which would otherwise keep every loop with a division scalar.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit

Array = Any


def _flat(a: Array, dtype: Any) -> Array:
    """A contiguous 1-D array of ``dtype`` with ``a``'s elements (no copy when possible)."""
    return (a if a.dtype == dtype else a.astype(dtype)).ravel()


@njit(cache=True, error_model="numpy")
def _sgd(w, g, lr):
    out = np.empty_like(w)
    r = w.dtype.type(lr)
    for i in range(w.size):
        out[i] = w[i] - r * g[i]
    return out


@njit(cache=True, error_model="numpy")
def momentum_step(wi, ai, gi, r, mu, nesterov):  # noqa: ANN001, ANN201 - Numba kernel
    """One element of Keras SGD momentum: the new ``(w, accum)``."""
    ai = mu * ai - r * gi
    return (wi + mu * ai - r * gi if nesterov else wi + ai), ai


@njit(cache=True, error_model="numpy")
def adam_step(wi, mi, vi, gi, a, c1, c2, eps):  # noqa: ANN001, ANN201 - Numba kernel
    """One element of Adam (``c1 = 1 - beta1``, ``c2 = 1 - beta2``, ``a`` the step's
    bias-corrected rate): the new ``(w, m, v)``; also used by minitf.compiler's kernels."""
    mi = mi + (gi - mi) * c1
    vi = vi + (gi * gi - vi) * c2
    return wi - a * mi / (np.sqrt(vi) + eps), mi, vi


@njit(cache=True, error_model="numpy")
def _momentum(w, a, g, lr, momentum, nesterov):
    out_w = np.empty_like(w)
    out_a = np.empty_like(a)
    dt = w.dtype.type
    r, mu = dt(lr), dt(momentum)
    for i in range(w.size):
        out_w[i], out_a[i] = momentum_step(w[i], a[i], g[i], r, mu, nesterov)
    return out_w, out_a


@njit(cache=True, error_model="numpy")
def _adam(w, m, v, g, alpha, beta1, beta2, epsilon):
    out_w = np.empty_like(w)
    out_m = np.empty_like(m)
    out_v = np.empty_like(v)
    dt = w.dtype.type
    c1, c2, a, eps = dt(1.0 - beta1), dt(1.0 - beta2), dt(alpha), dt(epsilon)
    for i in range(w.size):
        out_w[i], out_m[i], out_v[i] = adam_step(w[i], m[i], v[i], g[i], a, c1, c2, eps)
    return out_w, out_m, out_v


@njit(cache=True, error_model="numpy")
def adagrad_step(wi, ai, gi, r, eps):  # noqa: ANN001, ANN201 - Numba kernel
    """One element of Adagrad: the new ``(w, accum)``."""
    ai = ai + gi * gi
    return wi - r * gi / np.sqrt(ai + eps), ai


@njit(cache=True, error_model="numpy")
def rmsprop_at(i, w, ms, mom, mg, g, r, p, p1, mu, eps, use_mom, centered,  # noqa: ANN001, ANN201
               out_w, out_ms, out_mom, out_mg):
    """Element ``i`` of RMSprop (``p = rho``, ``p1 = 1 - rho``) from ``w, ms, mom, mg`` into
    the ``out_`` arrays (which may be the same arrays: in place); ``mom`` is used with
    ``use_mom``, ``mg`` when ``centered``."""
    gi = g[i]
    msi = p * ms[i] + p1 * gi * gi
    out_ms[i] = msi
    if centered:
        mgi = p * mg[i] + p1 * gi
        out_mg[i] = mgi
        denom = msi - mgi * mgi + eps
    else:
        denom = msi + eps
    inc = r * gi / np.sqrt(denom)
    if use_mom:
        inc = mu * mom[i] + inc
        out_mom[i] = inc
    out_w[i] = w[i] - inc


@njit(cache=True, error_model="numpy")
def _adagrad(w, a, g, lr, epsilon):
    out_w = np.empty_like(w)
    out_a = np.empty_like(a)
    dt = w.dtype.type
    r, eps = dt(lr), dt(epsilon)
    for i in range(w.size):
        out_w[i], out_a[i] = adagrad_step(w[i], a[i], g[i], r, eps)
    return out_w, out_a


@njit(cache=True, error_model="numpy")
def _rmsprop(w, ms, mom, mg, g, lr, rho, momentum, epsilon, use_mom, centered):
    out_w = np.empty_like(w)
    out_ms = np.empty_like(ms)
    out_mom = np.empty_like(mom)
    out_mg = np.empty_like(mg)
    dt = w.dtype.type
    r, p, p1, mu, eps = dt(lr), dt(rho), dt(1.0 - rho), dt(momentum), dt(epsilon)
    for i in range(w.size):
        rmsprop_at(i, w, ms, mom, mg, g, r, p, p1, mu, eps, use_mom, centered, out_w, out_ms,
                   out_mom, out_mg)
    return out_w, out_ms, out_mom, out_mg


class OptimizerKernelsNumba:
    """Mixin giving a backend the fused optimizer updates (see ``OptimizerKernelsNumpy``)."""

    def apply_gradient_descent(self, var: Array, grad: Array, lr: float) -> Array:
        """``var - lr * grad``."""
        d = var.dtype
        return _sgd(_flat(var, d), _flat(grad, d), float(lr)).reshape(var.shape)

    def apply_momentum(self, var: Array, accum: Array, grad: Array, lr: float, momentum: float,
                       nesterov: bool) -> tuple[Array, Array]:
        """Keras SGD with momentum (see ``OptimizerKernelsNumpy.apply_momentum``)."""
        d, s = var.dtype, var.shape
        w, a = _momentum(_flat(var, d), _flat(accum, d), _flat(grad, d), float(lr),
                         float(momentum), bool(nesterov))
        return w.reshape(s), a.reshape(s)

    def apply_adam(self, var: Array, m: Array, v: Array, grad: Array, lr: float, beta1: float,
                   beta2: float, epsilon: float, step: float) -> tuple[Array, Array, Array]:
        """Adam with Keras' bias correction (see ``OptimizerKernelsNumpy.apply_adam``)."""
        d, s = var.dtype, var.shape
        alpha = float(lr) * math.sqrt(1.0 - beta2**step) / (1.0 - beta1**step)
        w, m2, v2 = _adam(_flat(var, d), _flat(m, d), _flat(v, d), _flat(grad, d), alpha,
                          float(beta1), float(beta2), float(epsilon))
        return w.reshape(s), m2.reshape(s), v2.reshape(s)

    def apply_adagrad(self, var: Array, accum: Array, grad: Array, lr: float,
                      epsilon: float) -> tuple[Array, Array]:
        """``accum += grad^2; var -= lr * grad / sqrt(accum + eps)``."""
        d, s = var.dtype, var.shape
        w, a = _adagrad(_flat(var, d), _flat(accum, d), _flat(grad, d), float(lr),
                        float(epsilon))
        return w.reshape(s), a.reshape(s)

    def apply_rmsprop(self, var: Array, ms: Array, mom: Array | None, mg: Array | None,
                      grad: Array, lr: float, rho: float, momentum: float, epsilon: float
                      ) -> tuple[Array, Array, Array | None, Array | None]:
        """RMSprop, plain or centered, with or without momentum (see the NumPy reference)."""
        d, s = var.dtype, var.shape
        empty = np.empty(0, dtype=d)
        w, ms2, mom2, mg2 = _rmsprop(
            _flat(var, d), _flat(ms, d), empty if mom is None else _flat(mom, d),
            empty if mg is None else _flat(mg, d), _flat(grad, d), float(lr), float(rho),
            float(momentum), float(epsilon), mom is not None, mg is not None)
        return (w.reshape(s), ms2.reshape(s), None if mom is None else mom2.reshape(s),
                None if mg is None else mg2.reshape(s))
