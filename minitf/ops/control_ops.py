"""``tf.group`` and ``tf.no_op``: operations that only order other operations."""

from __future__ import annotations

from ..framework.control import group, no_op
from ..framework.registry import defop

__all__ = ["group", "no_op"]

defop("NoOp", lambda shapes, dtypes, attrs: [], lambda rt: None, None, num_outputs=0,
      doc="Does nothing; with control inputs it groups other ops.")
