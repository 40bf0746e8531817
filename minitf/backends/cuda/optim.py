"""Fused optimizer-update kernels: one thread per element of the ravelled variable.

The formulas are those of ``optim_numpy.py``. The backend passes the scalars as NumPy
scalars of the variable's dtype, so float32 variables are updated in float32 arithmetic.
"""

from __future__ import annotations

import math

from numba import config, cuda

BLOCK = 32 if config.ENABLE_CUDASIM else 256  # smaller under the simulator (see reductions)
"""Threads per block."""


@cuda.jit
def sgd(w, g, lr, out_w):
    """``out_w = w - lr * g``."""
    i = cuda.grid(1)
    if i < w.shape[0]:
        out_w[i] = w[i] - lr * g[i]


@cuda.jit
def adam(w, m, v, g, alpha, c1, c2, eps, out_w, out_m, out_v):
    """``m' = m + (g - m) c1``, ``v' = v + (g^2 - v) c2``, ``w' = w - alpha m'/(sqrt(v') + eps)``
    (``c1 = 1 - beta1``, ``c2 = 1 - beta2``, ``alpha`` the bias-corrected rate)."""
    i = cuda.grid(1)
    if i < w.shape[0]:
        gi = g[i]
        mi = m[i] + (gi - m[i]) * c1
        vi = v[i] + (gi * gi - v[i]) * c2
        out_m[i] = mi
        out_v[i] = vi
        out_w[i] = w[i] - alpha * mi / (math.sqrt(vi) + eps)
