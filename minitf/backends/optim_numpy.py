"""Reference optimizer kernels in NumPy: the Keras update rules, written out plainly.

Each method takes the current state arrays and returns new ones (inputs are never written).
``lr`` and ``step`` arrive as Python floats; results keep the variable's dtype.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

Array = Any


class OptimizerKernelsNumpy:
    """Mixin giving a backend the fused optimizer updates of ``minitf/ops/optimizer_ops.py``."""

    def apply_gradient_descent(self, var: Array, grad: Array, lr: float) -> Array:
        """``var - lr * grad``."""
        return (var - lr * grad).astype(var.dtype, copy=False)

    def apply_momentum(self, var: Array, accum: Array, grad: Array, lr: float, momentum: float,
                       nesterov: bool) -> tuple[Array, Array]:
        """Keras SGD with momentum: ``accum = momentum*accum - lr*grad; var += accum``
        (Nesterov: ``var += momentum*accum - lr*grad`` with the new ``accum``)."""
        dt = var.dtype
        accum = (momentum * accum - lr * grad).astype(dt, copy=False)
        step = momentum * accum - lr * grad if nesterov else accum
        return (var + step).astype(dt, copy=False), accum

    def apply_adam(self, var: Array, m: Array, v: Array, grad: Array, lr: float, beta1: float,
                   beta2: float, epsilon: float, step: float) -> tuple[Array, Array, Array]:
        """Adam at step ``step`` (1-based): ``m += (g - m)(1 - b1)``, ``v += (g^2 - v)(1 - b2)``,
        ``var -= lr*sqrt(1 - b2^t)/(1 - b1^t) * m / (sqrt(v) + eps)``."""
        dt = var.dtype
        m = (m + (grad - m) * (1.0 - beta1)).astype(dt, copy=False)
        v = (v + (grad * grad - v) * (1.0 - beta2)).astype(dt, copy=False)
        alpha = lr * math.sqrt(1.0 - beta2**step) / (1.0 - beta1**step)
        return (var - alpha * m / (np.sqrt(v) + epsilon)).astype(dt, copy=False), m, v

    def apply_adagrad(self, var: Array, accum: Array, grad: Array, lr: float,
                      epsilon: float) -> tuple[Array, Array]:
        """``accum += grad^2; var -= lr * grad / sqrt(accum + eps)``."""
        dt = var.dtype
        accum = (accum + grad * grad).astype(dt, copy=False)
        return (var - lr * grad / np.sqrt(accum + epsilon)).astype(dt, copy=False), accum

    def apply_rmsprop(self, var: Array, ms: Array, mom: Array | None, mg: Array | None,
                      grad: Array, lr: float, rho: float, momentum: float, epsilon: float
                      ) -> tuple[Array, Array, Array | None, Array | None]:
        """RMSprop: ``ms = rho*ms + (1-rho)*g^2``; centered (``mg`` given): ``mg = rho*mg +
        (1-rho)*g`` and ``denom = ms - mg^2 + eps``, else ``denom = ms + eps``;
        ``inc = lr*g/sqrt(denom)``; with ``mom``: ``mom = momentum*mom + inc; var -= mom``,
        else ``var -= inc``. Returns ``(var, ms, mom, mg)`` (``None`` where not given)."""
        dt = var.dtype
        ms = (rho * ms + (1.0 - rho) * grad * grad).astype(dt, copy=False)
        if mg is not None:
            mg = (rho * mg + (1.0 - rho) * grad).astype(dt, copy=False)
            denom = ms - mg * mg + epsilon
        else:
            denom = ms + epsilon
        inc = lr * grad / np.sqrt(denom)
        if mom is not None:
            mom = (momentum * mom + inc).astype(dt, copy=False)
            inc = mom
        return (var - inc).astype(dt, copy=False), ms, mom, mg
