"""``tf.random``: seeded random tensors.

The names are the ones ops and functions declare (``api=`` of ``defop``, ``tf_export``; see
``minitf/framework/registry.py``), not a list kept here.
"""

from typing import Any as _Any

from . import ops as _ops  # noqa: F401 - registers every op and its public names
from .framework.api_export import exports as _exports
from .framework.api_export import lookup as _lookup

globals().update(_exports("random"))


def __getattr__(name: str) -> _Any:  # names declared later (ops added at run time)
    return _lookup("random", name)
