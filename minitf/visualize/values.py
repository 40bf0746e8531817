"""Short texts of the values and gradients shown on nodes and in the explorer's panel."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


class _Failed:
    """A value that could not be computed: ``error`` is the exception's class name."""

    def __init__(self, error: str) -> None:
        self.error = error


def _fmt_num(v: Any) -> str:
    if isinstance(v, bool | np.bool_):
        return str(bool(v))
    if isinstance(v, int | np.integer):
        return str(int(v))
    if isinstance(v, complex | np.complexfloating):
        return f"{complex(v):.3g}"
    f = float(v)
    if f == 0.0:
        return "0"
    if f == int(f) and abs(f) < 1e6:
        return str(int(f))
    return f"{f:.4g}"


def _fmt_shape(shape: Sequence[Any]) -> str:
    if len(shape) == 0:
        return "scalar"
    return "(" + ", ".join("?" if d is None else str(d) for d in shape) + ")"


def summarize(value: Any) -> list[str]:
    """One or two short lines describing an array: its value if tiny, else shape and stats."""
    if value is None:
        return ["(no value)"]
    a = np.asarray(value)
    if a.ndim == 0:
        return [_fmt_num(a.item())]
    if a.size == 0:
        return [f"empty {_fmt_shape(a.shape)}"]
    if a.ndim == 1 and a.size <= 4:
        return ["[" + ", ".join(_fmt_num(v) for v in a.tolist()) + "]"]
    if a.dtype.kind == "b":
        return [f"{_fmt_shape(a.shape)} {int(a.sum())} True"]
    if a.dtype.kind == "c":
        return [f"{_fmt_shape(a.shape)} complex"]
    with np.errstate(all="ignore"):
        mean = a.mean(dtype=np.float64)
    return [f"{_fmt_shape(a.shape)} mean {_fmt_num(mean)}",
            f"min {_fmt_num(a.min())}, max {_fmt_num(a.max())}"]


def _detail(value: Any) -> str:
    """A multi-line text of an array for the explorer's panel."""
    a = np.asarray(value)
    text = np.array2string(a, precision=4, suppress_small=True, threshold=24, edgeitems=3,
                           max_line_width=72)
    if a.ndim > 0:
        text = f"shape {_fmt_shape(a.shape)}, {a.dtype.name}\n{text}"
    return text
