"""Recording ops on the active GradientTapes (the tapes themselves are in ``backprop.py``).

``execute`` calls :func:`record` after every op it runs eagerly or adds to a graph while a tape
is active; the tapes of this thread (``context.local.tapes``) that watch one of the op's inputs
keep it. Kept apart from ``backprop.py`` so that ``execute`` can reach it without importing
the autodiff code, which itself runs ops through ``execute``.
"""

from __future__ import annotations

from typing import Any

from . import context as _ctx
from .registry import OpDef


class EagerOp:
    """An eagerly executed op as the tape records it (same fields as a graph Operation)."""

    __slots__ = ("opdef", "type", "inputs", "outputs", "attrs")

    def __init__(self, opdef: OpDef, inputs: list, outputs: list, attrs: dict) -> None:
        self.opdef = opdef
        self.type = opdef.type
        self.inputs = inputs
        self.outputs = outputs
        self.attrs = attrs

    @property
    def name(self) -> str:
        return self.type

    def get_attr(self, name: str) -> Any:
        return self.attrs[name]


def record(opdef: OpDef, inputs: list, outputs: list, attrs: dict, graph_op: Any = None) -> None:
    """Give the op to every recording tape that watches one of ``inputs``."""
    tapes = _ctx.local.tapes
    if not tapes:
        return
    if opdef.type == "ReadVariableOp" and graph_op is None:
        inputs = [attrs["var"]]  # an eager read connects the variable itself to its value
    entry = graph_op
    for tape in tapes:
        if tape._recording and tape._wants(inputs):
            if entry is None:
                entry = EagerOp(opdef, inputs, outputs, attrs)
            tape._ops.append(entry)
            tape._live.update(id(o) for o in outputs)
