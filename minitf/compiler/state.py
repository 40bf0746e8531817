"""Variables a compiled step updates in place: each gets a writable buffer the compiled
function owns, and the variable holds a read-only view of it.

A variable's array is shared by everything that read it (``v.numpy()``, an EagerTensor, a
list from ``get_weights()``), which expect it never to change; op-by-op execution therefore
replaces the array on every write. Here the buffer is reused while nothing else holds it:
before each call the reference counts of the view and the buffer show whether anyone kept
the view or a view of it (views of views point at the buffer). If someone did, or the
variable was assigned a new array meanwhile, the current value is copied into a fresh buffer
and the old one is left to its holders unchanged.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from ..framework.errors import UnimplementedError

_VIEW_REFS = 4  # the variable, self._views, the local name, getrefcount's argument
_BUFFER_REFS = 4  # self._buffers, the view's .base, the local name, getrefcount's argument


class InPlace:
    """Writable buffers for ``variables``, handed to the compiled function each call."""

    def __init__(self, variables: list) -> None:
        self.variables = variables
        self._buffers: list[Any] = [None] * len(variables)
        self._views: list[Any] = [None] * len(variables)
        self.fresh = 0  # how many buffers were (re)allocated: the first call's, and copies

    def arrays(self) -> list[np.ndarray]:
        """The buffers, current (call once per step, just before the compiled function)."""
        out = []
        for k, var in enumerate(self.variables):
            cur = var._value
            buf = self._buffers[k]
            if not (cur is self._views[k] and sys.getrefcount(cur) == _VIEW_REFS
                    and sys.getrefcount(buf) == _BUFFER_REFS):
                buf = self._adopt(k, var, cur)
            out.append(buf)
        return out

    def _adopt(self, k: int, var: Any, cur: Any) -> np.ndarray:
        if not isinstance(cur, np.ndarray):
            raise UnimplementedError(
                f"jit_compile=True: variable '{var.name}' is not in host memory; "
                "minitf.compiler updates host arrays only")
        buf = np.array(cur, dtype=var.dtype.np, order="C", copy=True)
        view = buf.view()
        view.flags.writeable = False
        var._value = view
        self._buffers[k], self._views[k] = buf, view
        self.fresh += 1
        return buf
