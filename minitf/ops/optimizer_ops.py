"""Fused optimizer updates: one op, one kernel call per variable and step.

Each op reads the variable and its slots through the runtime, calls one backend kernel
(``rt.be.apply_adam`` and friends, see ``minitf/backends/base.py``) and writes the new values
back, so it works eagerly, in a Session and in a traced ``tf.function`` step. Variables are
attributes (as in ``state_ops``); the gradient and the hyper-parameters that may change from
step to step (``lr``, ``step``) are tensor inputs, so a schedule or an iteration counter
changes them without retracing. The ops have no outputs and no gradient.
"""

from __future__ import annotations

from typing import Any

from ..framework.execute import convert_to_tensor, execute
from ..framework.registry import ShapeError, defop
from ..framework.tensor_shape import fmt

# -- shape rules -----------------------------------------------------------------------------------


def _infer(shapes, dtypes, attrs):
    var = attrs["var"]
    if not var.dtype.is_floating:
        raise ShapeError(f"variable '{var.name}' must be floating point, not {var.dtype.name}")
    if dtypes[0] != var.dtype:
        raise ShapeError(f"gradient is {dtypes[0].name} but variable '{var.name}' is "
                         f"{var.dtype.name}")
    if not var.shape.is_compatible_with(shapes[0]):
        raise ShapeError(f"gradient has shape {fmt(shapes[0])} but variable '{var.name}' has "
                         f"shape {fmt(var.shape)}")
    for s, d, what in zip(shapes[1:], dtypes[1:], ("learning rate", "step")):
        if len(s) != 0:
            raise ShapeError(f"the {what} must be a scalar, got shape {fmt(s)}")
        if not (d.is_floating or d.is_integer):
            raise ShapeError(f"the {what} must be a number, got {d.name}")
    return []


# -- forwards: read state, one kernel, write state -------------------------------------------------


def _sgd_forward(rt, grad, lr, var):
    rt.write(var, rt.be.apply_gradient_descent(rt.read(var), grad, float(lr)))


def _momentum_forward(rt, grad, lr, var, accum, momentum, nesterov):
    w, a = rt.be.apply_momentum(rt.read(var), rt.read(accum), grad, float(lr), momentum,
                                nesterov)
    rt.write(var, w)
    rt.write(accum, a)


def _adam_forward(rt, grad, lr, step, var, m, v, beta1, beta2, epsilon):
    w, m2, v2 = rt.be.apply_adam(rt.read(var), rt.read(m), rt.read(v), grad, float(lr), beta1,
                                 beta2, epsilon, float(step))
    rt.write(var, w)
    rt.write(m, m2)
    rt.write(v, v2)


def _adagrad_forward(rt, grad, lr, var, accum, epsilon):
    w, a = rt.be.apply_adagrad(rt.read(var), rt.read(accum), grad, float(lr), epsilon)
    rt.write(var, w)
    rt.write(accum, a)


def _rmsprop_forward(rt, grad, lr, var, ms, mom, mg, rho, momentum, epsilon):
    w, ms2, mom2, mg2 = rt.be.apply_rmsprop(
        rt.read(var), rt.read(ms), None if mom is None else rt.read(mom),
        None if mg is None else rt.read(mg), grad, float(lr), rho, momentum, epsilon)
    rt.write(var, w)
    rt.write(ms, ms2)
    if mom is not None:
        rt.write(mom, mom2)
    if mg is not None:
        rt.write(mg, mg2)


def _defop(op_type: str, forward: Any, doc: str) -> None:
    # on a device only the gradient moves there: the hyper-parameters are read with float()
    defop(op_type, _infer, forward, None, num_outputs=0, stateful=True, doc=doc,
          device="kernels", device_inputs=1)


_defop("ApplyGradientDescent", _sgd_forward, "var -= lr * grad.")
_defop("ApplyMomentum", _momentum_forward,
       "Keras SGD momentum: accum = momentum*accum - lr*grad; var += accum (or Nesterov).")
_defop("ApplyAdam", _adam_forward,
       "Adam with bias correction lr*sqrt(1-beta2^t)/(1-beta1^t); eps added after sqrt(v).")
_defop("ApplyAdagrad", _adagrad_forward, "accum += grad^2; var -= lr*grad/sqrt(accum + eps).")
_defop("ApplyRMSProp", _rmsprop_forward,
       "RMSprop (optionally centered, optionally with momentum); eps inside the sqrt.")


# -- the functions optimizers call -----------------------------------------------------------------


def _inputs(var: Any, grad: Any, *scalars: Any) -> list:
    return [convert_to_tensor(grad, dtype_hint=var.dtype),
            *(convert_to_tensor(s, dtype_hint=var.dtype) for s in scalars)]


def apply_gradient_descent(var: Any, grad: Any, lr: Any, name: str | None = None) -> Any:
    """``var -= lr * grad``. Returns the op in a graph, ``None`` eagerly."""
    return execute("ApplyGradientDescent", _inputs(var, grad, lr), {"var": var}, name)


def apply_momentum(var: Any, accum: Any, grad: Any, lr: Any, momentum: float,
                   nesterov: bool = False, name: str | None = None) -> Any:
    """Keras SGD momentum step; ``accum`` is the velocity slot."""
    return execute("ApplyMomentum", _inputs(var, grad, lr),
                   {"var": var, "accum": accum, "momentum": float(momentum),
                    "nesterov": bool(nesterov)}, name)


def apply_adam(var: Any, m: Any, v: Any, grad: Any, lr: Any, beta1: float, beta2: float,
               epsilon: float, step: Any, name: str | None = None) -> Any:
    """Adam step number ``step`` (1 for the first update) with slots ``m`` and ``v``."""
    return execute("ApplyAdam", _inputs(var, grad, lr, step),
                   {"var": var, "m": m, "v": v, "beta1": float(beta1), "beta2": float(beta2),
                    "epsilon": float(epsilon)}, name)


def apply_adagrad(var: Any, accum: Any, grad: Any, lr: Any, epsilon: float,
                  name: str | None = None) -> Any:
    """Adagrad step; ``accum`` starts at the optimizer's initial accumulator value."""
    return execute("ApplyAdagrad", _inputs(var, grad, lr),
                   {"var": var, "accum": accum, "epsilon": float(epsilon)}, name)


def apply_rmsprop(var: Any, ms: Any, mom: Any, grad: Any, lr: Any, rho: float,
                  momentum: float, epsilon: float, mg: Any = None,
                  name: str | None = None) -> Any:
    """RMSprop step; ``mom`` is ``None`` without momentum, ``mg`` is given when centered."""
    return execute("ApplyRMSProp", _inputs(var, grad, lr),
                   {"var": var, "ms": ms, "mom": mom, "mg": mg, "rho": float(rho),
                    "momentum": float(momentum), "epsilon": float(epsilon)}, name)
