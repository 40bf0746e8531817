"""``tf.config``: which backend runs the kernels, and which devices exist."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

from .backends import available_backends, get_backend, set_backend  # noqa: F401
from .framework import device as _device


@dataclass(frozen=True)
class PhysicalDevice:
    """A device minitf can run ops on, named as TensorFlow names it."""

    name: str
    device_type: str


@dataclass(frozen=True)
class LogicalDevice:
    """A device as ``tf.device`` names it (``/device:GPU:0``)."""

    name: str
    device_type: str


def _types(device_type: str | None) -> list[str]:
    kinds = ["CPU"] + (["GPU"] if _device.gpu_available() else [])
    return [k for k in kinds if device_type is None or k == device_type.upper()]


def list_physical_devices(device_type: str | None = None) -> list[PhysicalDevice]:
    """The devices minitf can use: the CPU, and GPU:0 when ``numba.cuda.is_available()``
    (a real NVIDIA GPU, or Numba's simulator under ``NUMBA_ENABLE_CUDASIM=1``)."""
    return [PhysicalDevice(f"/physical_device:{k}:0", k) for k in _types(device_type)]


def list_logical_devices(device_type: str | None = None) -> list[LogicalDevice]:
    """As ``list_physical_devices``, with the names ``tf.device`` accepts."""
    return [LogicalDevice(f"/device:{k}:0", k) for k in _types(device_type)]


def get_visible_devices(device_type: str | None = None) -> list[PhysicalDevice]:
    return list_physical_devices(device_type)


def get_soft_device_placement() -> bool:
    """Always True: an op asked to run on a missing GPU, or with no GPU kernel, runs on the
    CPU (with a one-time warning for a missing GPU)."""
    return True


def set_memory_growth(device: PhysicalDevice, enable: bool) -> None:
    """Accepted for TensorFlow code; Numba allocates device memory per array, as needed."""


def get_memory_growth(device: PhysicalDevice) -> bool:
    return True


experimental = SimpleNamespace(
    list_physical_devices=list_physical_devices, list_logical_devices=list_logical_devices,
    set_memory_growth=set_memory_growth, get_memory_growth=get_memory_growth)
"""``tf.config.experimental``: the device functions TF2 code reaches there."""


_OPTIMIZER_OPTIONS: dict[str, bool] = {"remapping": True}


def set_experimental_options(options: dict) -> None:
    """``tf.config.optimizer.set_experimental_options``: ``{"remapping": False}`` turns off
    minitf's one graph rewrite, ``Sequential`` running a ``Conv2D`` and the ``MaxPooling2D``
    after it as one ``FusedConv2DMaxPool`` op (TensorFlow's remapper fuses other patterns).
    Other TensorFlow options are accepted and kept, with no effect. Models already traced
    keep the choice they were traced with."""
    if not isinstance(options, dict):
        raise TypeError(f"set_experimental_options takes a dict, got {options!r}")
    _OPTIMIZER_OPTIONS.update({str(k): bool(v) for k, v in options.items()})


def get_experimental_options() -> dict:
    """The options set so far (``remapping`` is always there)."""
    return dict(_OPTIMIZER_OPTIONS)


_JIT_VERBOSE = [False]


def set_jit_verbose(enabled: bool) -> None:
    """minitf only (TensorFlow has no such switch; XLA dumps with ``XLA_FLAGS``): print the
    source ``minitf.compiler`` generates each time it compiles a function
    (``tf.function(jit_compile=True)``, ``model.compile(jit_compile=True)``)."""
    _JIT_VERBOSE[0] = bool(enabled)


def get_jit_verbose() -> bool:
    """Whether :func:`set_jit_verbose` is on."""
    return _JIT_VERBOSE[0]


optimizer = SimpleNamespace(set_experimental_options=set_experimental_options,
                            get_experimental_options=get_experimental_options,
                            set_jit_verbose=set_jit_verbose, get_jit_verbose=get_jit_verbose)
"""``tf.config.optimizer``: the graph-optimizer switches."""
