"""Backend selection. ``MINITF_BACKEND`` (numba | numpy) picks the default; numba if unset."""

from __future__ import annotations

import os

from ..framework import context as _ctx
from .base import Backend

_NAMES = ("numba", "numpy")


def _make(name: str) -> Backend:
    if name == "numpy":
        from .numpy_backend import NumpyBackend

        return NumpyBackend()
    if name == "numba":
        from .numba_cpu import NumbaBackend

        return NumbaBackend()
    raise ValueError(f"Unknown backend {name!r}; choose one of {', '.join(_NAMES)}")


def get_backend() -> Backend:
    """The backend kernels run on (created on first use, so importing minitf stays fast)."""
    be = _ctx.state.backend  # the current backend is execution state: see framework/context.py
    if be is None:
        be = _ctx.state.backend = _make(os.environ.get("MINITF_BACKEND", "numba").lower())
    return be


def set_backend(backend: str | Backend) -> Backend:
    """Switch every later op to ``backend`` ('numba', 'numpy' or a Backend instance)."""
    be = backend if isinstance(backend, Backend) else _make(str(backend).lower())
    _ctx.state.backend = be
    return be


def available_backends() -> tuple[str, ...]:
    return _NAMES
