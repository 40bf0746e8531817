"""The CUDA backend (``CudaBackend``): kernels compiled by Numba for an NVIDIA GPU.

Ops reach it through placement (``placement.py``; ``tf.device('/GPU:0')``, or automatically
when a GPU exists), not through ``tf.config.set_backend``. Without a GPU it runs on Numba's
simulator when ``NUMBA_ENABLE_CUDASIM=1`` is set before Numba is imported.
"""

from __future__ import annotations

from .backend import CudaBackend, to_numpy

__all__ = ["CudaBackend", "to_numpy"]
