"""``tf.signal``: Fourier transforms (``fft``, ``ifft``, ``fft2d``, ``ifft2d``, ``rfft``,
``irfft``), under the names their ops declare (``api=`` of ``defop``)."""

from typing import Any as _Any

from . import ops as _ops  # noqa: F401 - registers every op and its public names
from .framework.api_export import exports as _exports
from .framework.api_export import lookup as _lookup

globals().update(_exports("signal"))


def __getattr__(name: str) -> _Any:  # names declared later (ops added at run time)
    return _lookup("signal", name)
