"""The ``NoOp`` op type: it only orders other ops (``tf.group``/``tf.no_op`` live in
``minitf/framework/control.py`` and run it by type)."""

from __future__ import annotations

from ..framework.control import group, no_op
from ..framework.registry import defop, tf_export

__all__ = ["group", "no_op"]

defop("NoOp", lambda shapes, dtypes, attrs: [], lambda rt: None, None, num_outputs=0,
      doc="Does nothing; with control inputs it groups other ops.")

tf_export("no_op")(no_op)
tf_export("group")(group)
