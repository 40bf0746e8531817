"""``tf.random``: seeded random tensors.

The names are the ones ops and functions declare (``api=`` of ``defop``, ``tf_export``; see
``minitf/framework/registry.py``), not a list kept here.
"""

from . import ops as _ops  # noqa: F401 - registers every op and its public names
from .framework.registry import exports as _exports

globals().update(_exports("random"))
