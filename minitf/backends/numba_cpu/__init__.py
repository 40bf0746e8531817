"""The Numba CPU backend (``MINITF_BACKEND=numba``, the default)."""

from __future__ import annotations

from .backend import NumbaBackend

__all__ = ["NumbaBackend"]
