"""Running one op on the device placement chose (see ``minitf/framework/device.py``).

On the GPU an op's inputs become device arrays (host inputs are copied there once) and its
forward runs with ``CudaBackend`` as ``rt.be``, so its outputs are device arrays that the next
op consumes where they are. Each op says whether it can (``OpDef.device``, see
``framework/registry.py``): ``"kernels"`` ops (their forward uses nothing but backend kernels
and reshapes) run their own forward; ``"forward"`` ops (their CPU forward calls NumPy) run
their device version from ``DEVICE_FORWARD`` here; any other op runs on the CPU, its inputs
copied to the host, and its outputs stay there (TensorFlow's soft placement). So does an
element-wise op with complex operands whose kernel has no CUDA complex form
(``kernel_table.NO_CUDA_COMPLEX``, read through ``OpDef.kernel``). Variables keep
their values on the device they were created on: every write is converted to it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numba import cuda

from ...framework import registry
from .. import get_backend, kernel_table
from . import layout
from .backend import MAX_GRID_Y, CudaBackend, is_device, launch_1d, to_device, to_numpy

__all__ = ["DEVICE_FORWARD", "DEVICE_OPS", "run", "to_device"]

BACKEND = CudaBackend()
"""The one CUDA backend every GPU-placed op uses."""

DEVICE_OPS = registry.device_ops("kernels")
"""Ops whose own forward runs unchanged on device arrays (``device="kernels"``), as registered
when this module was imported; ``run`` reads ``OpDef.device``, so later ops count too."""


def _reshape(x: Any, shape: Sequence[int]) -> Any:
    """``x.reshape(shape)`` for device arrays: a tuple of ints, a ``-1`` worked out here
    (Numba's device arrays need not accept it)."""
    dims = [int(s) for s in shape]
    if -1 in dims:
        known = math.prod(d for d in dims if d != -1)
        dims[dims.index(-1)] = x.size // known if known else 0
    return x.reshape(tuple(dims))


def _assign(rt: Any, value: Any, var: Any) -> Any:
    value = _reshape(value, var.shape)  # infer checked the dtype
    rt.write(var, value)
    return value


def _squeeze(rt: Any, x: Any, axis: Any) -> Any:
    shape = tuple(x.shape)
    drop = ({i for i, d in enumerate(shape) if d == 1} if axis is None
            else {a % len(shape) for a in axis})
    return _reshape(x, [d for i, d in enumerate(shape) if i not in drop])


def _expand(rt: Any, x: Any, axis: int) -> Any:
    shape = list(x.shape)
    shape.insert(axis % (len(shape) + 1), 1)
    return _reshape(x, shape)


def full(shape: Sequence[int], dtype: Any, value: float) -> Any:
    """A new device array of ``shape`` and ``dtype`` filled with ``value`` (one kernel; no
    host array is copied)."""
    out = cuda.device_array(tuple(int(s) for s in shape), dtype=np.dtype(dtype))
    if out.size:
        launch_1d(layout.fill, out.size, layout.BLOCK, out.reshape((out.size,)),
                  out.dtype.type(value))
    return out


def _transpose(rt: Any, x: Any, perm: Sequence[int]) -> Any:
    """``np.transpose(x, perm)`` on the device when ``perm`` keeps the leading axes and swaps
    the last two (a matrix, or a batch of them) or swaps the first two and keeps the others
    (batch-major <-> time-major sequences); other permutations run on the host."""
    nd, perm = x.ndim, tuple(int(p) % max(x.ndim, 1) for p in perm)
    if perm == tuple(range(nd)):
        return x  # device arrays are never written in place: sharing is safe
    if nd >= 3 and perm == (1, 0) + tuple(range(2, nd)):
        return layout.swap01(x)
    shape = tuple(x.shape)
    z = math.prod(shape[:-2])
    if perm != tuple(range(nd - 2)) + (nd - 1, nd - 2) or z > MAX_GRID_Y or x.size == 0:
        return np.transpose(to_numpy(x), perm)  # soft placement: this output stays on the host
    m, n = shape[-2], shape[-1]
    out = cuda.device_array(shape[:-2] + (n, m), dtype=x.dtype)
    t = layout.TILE
    grid = (-(-n // t), -(-m // t), z)
    layout.transpose_last2[grid, (t, t)](x.reshape((z, m, n)), out.reshape((z, n, m)))
    return out


def _broadcast(rt: Any, x: Any, shape: Sequence[int]) -> Any:
    """``x`` broadcast to ``shape`` as a new device array: ``x + zeros(shape)``."""
    return rt.be.binary("add", x, full(shape, x.dtype, 0), x.dtype)


def _cast(rt: Any, x: Any, dtype: Any) -> Any:
    """Cast on the device: between complex and real by a conversion kernel (complex -> real
    keeps the real part, as TF; real -> complex adds a zero imaginary part), else the identity
    kernel, which converts every element to ``dtype``."""
    dst = dtype.np
    if (x.dtype.kind == "c") != (dst.kind == "c"):
        return rt.be.unary("real" if x.dtype.kind == "c" else "to_complex", x, dst)
    return rt.be.unary("identity", x, dst)


DEVICE_FORWARD: dict[str, Callable[..., Any]] = {
    "Cast": _cast,
    "Transpose": _transpose,
    "Reshape": lambda rt, x, shape: _reshape(x, shape),
    "ExpandDims": _expand,
    "Squeeze": _squeeze,
    "AssignVariableOp": _assign,
    "ZerosLike": lambda rt, x: full(x.shape, x.dtype, 0),
    "OnesLike": lambda rt, x: full(x.shape, x.dtype, 1),
    "BroadcastLike": lambda rt, x, ref: _broadcast(rt, x, ref.shape),
    "BroadcastTo": lambda rt, x, shape: _broadcast(rt, x, shape),
}
"""Device versions of the ops declared ``device="forward"`` (their CPU forward calls NumPy
functions on its inputs)."""


class PlacedRuntime:
    """The runtime a placed op sees: ``rt``'s variable storage, ``be`` for its device, and
    variable values moved to where the op runs (reads) or the variable lives (writes)."""

    __slots__ = ("rt", "be", "on_gpu")

    def __init__(self, rt: Any, be: Any, on_gpu: bool) -> None:
        self.rt, self.be, self.on_gpu = rt, be, on_gpu

    def read(self, var: Any) -> Any:
        v = self.rt.read(var)
        return to_device(v) if self.on_gpu else to_numpy(v)

    def write(self, var: Any, value: Any) -> None:
        if getattr(var, "_placement", "CPU") == "GPU":
            self.rt.write(var, to_device(value))
        else:
            value = to_numpy(value)
            if isinstance(value, np.ndarray) and value.flags.writeable and not value.flags.owndata:
                value = value.copy()
            self.rt.write(var, value)


def constant_forward() -> Callable[..., Any]:
    """A graph constant's forward on the GPU: copied to the device on the first run only
    (device arrays are never written in place, so every run can share the copy)."""
    cache: list[Any] = []

    def forward(rt: Any, value: Any) -> Any:
        if not cache:
            cache.append(to_device(value))
        return cache[0]

    return forward


def _device_args(opdef: Any, values: Sequence[Any]) -> list[Any]:
    """Inputs for a GPU op: arrays on the device, except those after the first
    ``opdef.device_inputs`` (the scalar hyper-parameters of the optimizer updates:
    ``float(lr)`` needs a host value)."""
    n = len(values) if opdef.device_inputs is None else opdef.device_inputs
    return ([v if is_device(v) else to_device(v) for v in values[:n]]
            + [to_numpy(v) for v in values[n:]])


def complex_on_host(opdef: Any) -> bool:
    """Whether ``opdef`` runs on the host when its operands are complex: its kernel has no
    CUDA complex form (``kernel_table.NO_CUDA_COMPLEX``)."""
    return opdef.kernel in kernel_table.NO_CUDA_COMPLEX


def _is_complex(v: Any) -> bool:
    dtype = getattr(v, "dtype", None)
    return dtype is not None and np.dtype(dtype).kind == "c"


def run(opdef: Any, rt: Any, values: Sequence[Any], attrs: dict, where: str) -> Any:
    """Run ``opdef`` on ``where`` ('GPU' or 'CPU'); an op that reads or writes a variable runs
    on that variable's device instead, and one with no CUDA form for its complex operands
    (``complex_on_host``) on the CPU. Returns device arrays for ops run on the GPU."""
    var = attrs.get("var") if attrs else None
    if var is not None:
        where = getattr(var, "_placement", "CPU")
    if where == "GPU" and complex_on_host(opdef) and any(_is_complex(v) for v in values):
        where = "CPU"
    if where == "GPU" and opdef.device != "host":
        fwd = opdef.forward if opdef.device == "kernels" else DEVICE_FORWARD[opdef.type]
        return fwd(PlacedRuntime(rt, BACKEND, True), *_device_args(opdef, values), **attrs)
    host = [to_numpy(v) for v in values]
    return opdef.forward(PlacedRuntime(rt, get_backend(), False), *host, **attrs)
