"""A pickle reader that rebuilds NumPy arrays and nothing else.

``pickle.load`` can call any importable function, so an untrusted pickle can run code. This
unpickler resolves only the three globals a pickled ndarray needs; every other global (for
example ``os.system``) raises ``pickle.UnpicklingError`` before anything is called.
"""

from __future__ import annotations

import io
import pickle
from typing import Any

import numpy as np

try:  # NumPy >= 2
    from numpy._core.multiarray import _reconstruct
except ImportError:  # pragma: no cover - NumPy 1.x
    from numpy.core.multiarray import _reconstruct

# (module, name) as written in the pickle -> the object it may resolve to. Pickles made by
# NumPy 1.x say ``numpy.core.multiarray``, NumPy 2.x ``numpy._core.multiarray``.
ALLOWED_GLOBALS: dict[tuple[str, str], Any] = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}


class RestrictedUnpickler(pickle.Unpickler):
    """An ``Unpickler`` whose ``find_class`` allows only ``ALLOWED_GLOBALS``."""

    def find_class(self, module: str, name: str) -> Any:
        try:
            return ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"refusing to load global {module}.{name}: only NumPy arrays may be unpickled"
            ) from None

    def persistent_load(self, pid: Any) -> Any:
        raise pickle.UnpicklingError("refusing a persistent id: only NumPy arrays may be unpickled")


def restricted_loads(data: bytes, encoding: str = "ASCII") -> Any:
    """Unpickle ``data`` with ``RestrictedUnpickler`` (``encoding='latin1'`` for Python 2)."""
    return RestrictedUnpickler(io.BytesIO(data), encoding=encoding).load()
