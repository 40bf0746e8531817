"""Node kinds, their colours and shapes, and the drawing's size constants."""

from __future__ import annotations

import re

from ..framework.graph import Operation

_READ_OR_RANDOM = {"ReadVariableOp", "RandomStandardNormal", "TruncatedNormal", "RandomUniform",
                   "RandomUniformLike"}

#: kind -> (fill, stroke, legend label)
_STYLES = {
    "placeholder": ("#fff4d6", "#c98a00", "placeholder (fed)"),
    "variable": ("#e3f4e1", "#3c8d40", "variable"),
    "constant": ("#eeeeee", "#777777", "constant"),
    "op": ("#e1ecfb", "#3f6fb5", "operation"),
    "update": ("#efe3f7", "#7b3fa0", "state update"),
}
_BACKWARD = ("#fde3e1", "#c0392b", "backward (gradients/)")
_HIGHLIGHT = "#e67e00"
_GRAD_COLOUR = "#a93226"

_FONT = "DejaVu Sans Mono, Menlo, Consolas, monospace"
_CHAR_W = 6.7  # width of one character of the 11px monospace font
_LINE_H = 14.0
_PAD_X = 10.0
_PAD_Y = 7.0
_MIN_W = 96.0
_MAX_CHARS = 40
_H_GAP = 24.0  # horizontal gap between nodes
_V_GAP = 46.0  # vertical gap between layers
_DUMMY_GAP = 10.0
_MARGIN = 16.0

_GRAD_SCOPE = re.compile(r"^gradients(_\d+)?$")


def _kind(op: Operation) -> str:
    if op.type == "Placeholder":
        return "placeholder"
    if op.type == "ReadVariableOp":
        return "variable"
    if op.type == "Const":
        return "constant"
    if _writes_state(op):
        return "update"
    return "op"


def _writes_state(op: Operation) -> bool:
    """Ops with side effects (assignments, optimizer updates): never run by the visualizer."""
    return bool(getattr(op.opdef, "stateful", False)) and op.type not in _READ_OR_RANDOM


def is_backward(op: Operation) -> bool:
    """True for ops that ``tf.gradients`` added (their name has a ``gradients/`` scope)."""
    return any(_GRAD_SCOPE.match(part) for part in op.name.split("/")[:-1])
