"""``tf.config``: which backend runs the kernels, and which devices exist."""

from __future__ import annotations

from dataclasses import dataclass

from .backends import available_backends, get_backend, set_backend  # noqa: F401


@dataclass(frozen=True)
class PhysicalDevice:
    name: str
    device_type: str


def list_physical_devices(device_type: str | None = None) -> list[PhysicalDevice]:
    """The devices minitf can use: the CPU, and GPUs once the CUDA backend is available."""
    devices = [PhysicalDevice("/physical_device:CPU:0", "CPU")]
    if device_type is None:
        return devices
    return [d for d in devices if d.device_type == device_type.upper()]
