"""The CUDA backend (``CudaBackend``): kernels compiled by Numba for an NVIDIA GPU.

Not a default and not yet selectable by name; construct it explicitly. Without a GPU it runs
on Numba's simulator when ``NUMBA_ENABLE_CUDASIM=1`` is set before Numba is imported.
"""

from __future__ import annotations

from .backend import CudaBackend, to_numpy

__all__ = ["CudaBackend", "to_numpy"]
