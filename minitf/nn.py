"""``tf.nn``: activations, softmax and losses on logits.

The names are the ones ops and functions declare (``api=`` of ``defop``, ``tf_export``; see
``minitf/framework/registry.py``), not a list kept here.
"""

from typing import Any as _Any

from . import ops as _ops  # noqa: F401 - registers every op and its public names
from .framework.api_export import exports as _exports
from .framework.api_export import lookup as _lookup

globals().update(_exports("nn"))


def __getattr__(name: str) -> _Any:
    # TF1's recurrent API (tf.compat.v1.nn.rnn_cell, dynamic_rnn), loaded on first use; then
    # names declared later (ops added at run time)
    if name in ("rnn_cell", "dynamic_rnn"):
        from .compat import rnn

        return getattr(rnn, name)
    return _lookup("nn", name)
