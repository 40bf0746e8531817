"""The fused optimizer updates generated code calls: one kernel call per step updates every
variable (and its slots) in place, instead of one op, one call and new arrays per variable.

Arguments are tuples of contiguous 1-D arrays (one per variable, same dtype) and scalars of
that dtype; the arithmetic is the op-by-op kernels' own (``adam_step``, ``rmsprop_at``... of
``minitf/backends/numba_cpu/optim.py``), so compiled and op-by-op training agree.
"""

from __future__ import annotations

from numba import njit

from ..backends.numba_cpu.optim import adagrad_step, adam_step, momentum_step, rmsprop_at


@njit(cache=True, error_model="numpy")
def sgd_all(ws, gs, lr):  # noqa: ANN001, ANN201 - Numba kernel
    """``w -= lr * g`` for every ``w`` in ``ws``."""
    for k in range(len(ws)):
        w, g = ws[k], gs[k]
        for i in range(w.size):
            w[i] = w[i] - lr * g[i]


@njit(cache=True, error_model="numpy")
def momentum_all(ws, accs, gs, lr, momentum, nesterov):  # noqa: ANN001, ANN201
    """Keras SGD momentum for every variable: ``a = momentum*a - lr*g; w += a`` (Nesterov:
    ``w += momentum*a - lr*g``)."""
    for k in range(len(ws)):
        w, a, g = ws[k], accs[k], gs[k]
        for i in range(w.size):
            w[i], a[i] = momentum_step(w[i], a[i], g[i], lr, momentum, nesterov)


@njit(cache=True, error_model="numpy")
def adam_all(ws, ms, vs, gs, alpha, c1, c2, eps):  # noqa: ANN001, ANN201
    """Adam for every variable, ``alpha`` the step's bias-corrected rate, ``c1 = 1 - beta1``,
    ``c2 = 1 - beta2``."""
    for k in range(len(ws)):
        w, m, v, g = ws[k], ms[k], vs[k], gs[k]
        for i in range(w.size):
            w[i], m[i], v[i] = adam_step(w[i], m[i], v[i], g[i], alpha, c1, c2, eps)


@njit(cache=True, error_model="numpy")
def adagrad_all(ws, accs, gs, lr, eps):  # noqa: ANN001, ANN201
    """Adagrad for every variable: ``a += g^2; w -= lr * g / sqrt(a + eps)``."""
    for k in range(len(ws)):
        w, a, g = ws[k], accs[k], gs[k]
        for i in range(w.size):
            w[i], a[i] = adagrad_step(w[i], a[i], g[i], lr, eps)


@njit(cache=True, error_model="numpy")
def rmsprop_all(ws, mss, moms, mgs, gs, lr, rho, rho1, momentum, eps,  # noqa: ANN001, ANN201
                use_mom, centered):
    """RMSprop for every variable (``moms``/``mgs`` hold empty arrays without momentum /
    unless centered)."""
    for k in range(len(ws)):
        w, ms, mom, mg, g = ws[k], mss[k], moms[k], mgs[k], gs[k]
        for i in range(w.size):
            rmsprop_at(i, w, ms, mom, mg, g, lr, rho, rho1, momentum, eps, use_mom, centered,
                       w, ms, mom, mg)
