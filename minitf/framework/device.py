"""Devices and op placement: ``tf.device``, ``tensor.device`` and TensorFlow's placement rules.

Every op runs on one device. The innermost ``with tf.device(...)`` names it; with no scope an
op goes to the GPU when one exists (TensorFlow's automatic placement), else to the CPU. Ops
that read or write a variable run where the variable lives. An op placed on the GPU with no
GPU kernel runs on the CPU and its outputs stay there (TensorFlow's *soft placement*); so does
everything when '/GPU:0' is asked for on a machine without a GPU, with a one-time warning.

A GPU is Numba's view of one: ``numba.cuda.is_available()``, or its simulator when
``NUMBA_ENABLE_CUDASIM=1`` was set before Numba was imported. The CPU path pays one module
attribute check per op (``ACTIVE``), which stays False on machines with no NVIDIA driver, so
Numba's CUDA support is never imported there unless '/GPU:0' is asked for.
"""

from __future__ import annotations

import contextlib
import os
import re
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np

from .. import dtypes as _dtypes
from . import context as _ctx
from .api_export import tf_export
from .tensor import EagerTensor
from .tensor_shape import TensorShape

CPU = "/job:localhost/replica:0/task:0/device:CPU:0"
GPU = "/job:localhost/replica:0/task:0/device:GPU:0"
_NAMES = {"CPU": CPU, "GPU": GPU}


def _maybe_gpu() -> bool:
    """Cheap hint that a GPU may exist (no Numba import): the simulator, or an NVIDIA driver
    (``/dev/dxg``: WSL2's GPU device)."""
    return (os.environ.get("NUMBA_ENABLE_CUDASIM") == "1" or os.path.exists("/dev/nvidiactl")
            or os.path.exists("/proc/driver/nvidia/version") or os.path.exists("/dev/dxg"))


ACTIVE: bool = _maybe_gpu()
"""Whether placement may send ops to a GPU; False means every op runs on the CPU as before."""

_state: dict[str, Any] = {"gpu": None, "warned": False}


def gpu_available() -> bool:
    """Whether Numba can run CUDA kernels here (a real GPU or the simulator); checked once."""
    global ACTIVE
    if _state["gpu"] is None:
        try:
            from numba import cuda

            _state["gpu"] = bool(cuda.is_available())
        except Exception:  # no Numba CUDA support at all: the CPU it is
            _state["gpu"] = False
        ACTIVE = _state["gpu"]  # a GPU the hint missed still gets placement from now on
    return _state["gpu"]


# -- scopes -------------------------------------------------------------------------------------

_SPEC = re.compile(r"^(?:/job:\w+)?(?:/replica:\d+)?(?:/task:\d+)?/?(?:device:)?(cpu|gpu)"
                   r"(?::(\d+))?$", re.IGNORECASE)


def parse(name: str) -> tuple[str, int]:
    """``'/GPU:0'``, ``'gpu'``, ``'/device:CPU:0'`` or a full TF name -> ``('GPU', 0)``."""
    m = _SPEC.match(name.strip())
    if m is None:
        raise ValueError(f"tf.device: cannot parse device name {name!r}; use '/CPU:0' or "
                         "'/GPU:0' (or '/job:localhost/replica:0/task:0/device:GPU:0')")
    return m.group(1).upper(), int(m.group(2) or 0)


def _stack() -> list[str | None]:
    """This thread's ``tf.device`` scopes (kept in the context)."""
    return _ctx.local.devices


def _soft_place(kind: str, index: int) -> str:
    """Where a request for ``kind:index`` actually runs, warning once if it cannot be met."""
    if kind == "CPU":
        return "CPU"
    if gpu_available() and index == 0:
        return "GPU"
    if not _state["warned"]:
        _state["warned"] = True
        why = ("no GPU is available (numba.cuda.is_available() is False)"
               if not gpu_available() else "minitf uses one GPU, GPU:0")
        warnings.warn(f"tf.device('/GPU:{index}'): {why}; "
                      "ops run on the CPU instead (soft device placement). "
                      "tf.config.list_physical_devices('GPU') lists the GPUs minitf can use.",
                      RuntimeWarning, stacklevel=4)
    return "CPU"


@tf_export("device")
@contextlib.contextmanager
def device(name: str | None) -> Iterator[None]:
    """``with tf.device('/GPU:0'):`` runs the ops created inside on that device (``None``:
    automatic placement again). Asking for a GPU that does not exist falls back to the CPU
    with a one-time warning, as TensorFlow's soft placement does."""
    if name is None or name == "":
        where = None
    else:
        kind, index = parse(name)
        where = _soft_place(kind, index)
    stack = _stack()
    stack.append(where)
    try:
        yield
    finally:
        stack.pop()


def resolve() -> str:
    """``'GPU'`` or ``'CPU'``: where an op created now runs (innermost scope, else automatic)."""
    stack = _stack()
    want = stack[-1] if stack else None
    if want is not None:
        return want
    return "GPU" if ACTIVE and gpu_available() else "CPU"


def name_of(where: str) -> str:
    """The full TF device string of ``'GPU'``/``'CPU'``."""
    return _NAMES[where]


# -- tensors that live on the GPU -----------------------------------------------------------------


class GpuTensor(EagerTensor):
    """An eager tensor whose value is a device array (``_dev``). Reading ``_value`` (what
    ``.numpy()``, printing and NumPy conversion use) copies it to the host once."""

    def __init__(self, dev: Any, dtype: Any) -> None:
        self.op = None
        self.value_index = 0
        self._dev = dev
        self._host: np.ndarray | None = None
        self._shape = TensorShape(tuple(dev.shape))
        self._dtype = _dtypes.as_dtype(dtype)

    @property
    def _value(self) -> np.ndarray:  # type: ignore[override]
        if self._host is None:
            self._host = self._dev.copy_to_host()
        return self._host

    @property
    def device(self) -> str:
        return GPU


def is_device_array(a: Any) -> bool:
    """Whether ``a`` is a (real or simulated) CUDA device array."""
    return hasattr(a, "copy_to_host")


def to_host(a: Any) -> Any:
    """``a`` as a host value (device arrays are copied; anything else is returned as is)."""
    return a.copy_to_host() if hasattr(a, "copy_to_host") else a


def to_gpu(a: Any) -> Any:
    """``a`` as a device array (copied there unless it is one already)."""
    from ..backends.cuda.placement import to_device

    return to_device(a)


def wrap(dev: Any, dtype: Any) -> EagerTensor:
    """The eager tensor for an op's device-array result ``dev`` of minitf dtype ``dtype``."""
    if dev.dtype != dtype.np:  # a kernel chose another dtype: convert on the host (rare)
        return EagerTensor(np.asarray(dev.copy_to_host(), dtype=dtype.np), dtype)
    return GpuTensor(dev, dtype)


def place_constant(arr: np.ndarray) -> EagerTensor:
    """An eager constant, copied to the GPU when ops created now run there (as in TF)."""
    if resolve() == "GPU":
        from ..backends.cuda.placement import to_device

        return GpuTensor(to_device(arr), arr.dtype)
    return EagerTensor(arr)


# -- running ops where they are placed --------------------------------------------------------------


def run_eager(opdef: Any, rt: Any, tensors: list, attrs: dict) -> Any:
    """Run an eager op on the device placement picks (the inputs move there if needed)."""
    from ..backends.cuda import placement

    values = [t._dev if isinstance(t, GpuTensor) else t._value for t in tensors]
    return placement.run(opdef, rt, values, attrs, resolve())


def placed_forward(op: Any) -> Any:
    """``op``'s forward for a Session plan, run where the op was placed when it was built."""
    from ..backends.cuda import placement

    opdef, where = op.opdef, getattr(op, "_device", None) or resolve()
    if where == "GPU" and opdef.type == "Const":
        return placement.constant_forward()

    def forward(rt: Any, *args: Any, **attrs: Any) -> Any:
        return placement.run(opdef, rt, args, attrs, where)

    return forward


def op_device(op: Any) -> str:
    """TF's ``op.device`` string ('' when the op was not placed: no GPU in play)."""
    where = getattr(op, "_device", None)
    return _NAMES[where] if where else ""
