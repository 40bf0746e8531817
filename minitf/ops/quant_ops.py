"""Fake quantization (``tf.quantization.fake_quant_with_min_max_vars[_per_channel]``).

The forward pass rounds ``x`` onto the int8 (``num_bits``) grid of the range [min, max] and
back to float, with TensorFlow's nudging: the range is shifted so that 0.0 is a grid point.
Rounding has gradient 0 almost everywhere, so quantization-aware training uses the
straight-through estimator instead: the gradient passes through unchanged where ``x`` is
inside the range and is 0 outside (there it flows to ``min``/``max``, as TF's
``FakeQuantWithMinMaxVarsGradient``). minitf tests the range against the nudged bounds in the
forward pass but against ``min``/``max`` as given in the gradient (they differ by under half
a step).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..framework.execute import convert_to_tensor, execute
from ..framework.registry import ShapeError, defop
from ..framework.tensor import Tensor
from . import _rules
from .array_ops import where, zeros_like
from .math_ops import greater, less, logical_and, logical_not
from .reduction_ops import reduce_sum


def nudged_range(mn: np.ndarray, mx: np.ndarray, num_bits: int, narrow_range: bool
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """TF's nudging: (nudged_min, nudged_max, scale) with 0.0 exactly on the grid."""
    qmin, qmax = (1 if narrow_range else 0), (1 << num_bits) - 1
    mn, mx = np.minimum(mn, 0.0), np.maximum(mx, 0.0)  # the range must contain 0
    scale = np.where(mx > mn, (mx - mn) / (qmax - qmin), 1.0)
    zp = np.clip(np.floor(qmin - mn / scale + 0.5), qmin, qmax)  # TF: round half up
    return (qmin - zp) * scale, (qmax - zp) * scale, scale


def _fake_quant_host(x: np.ndarray, mn: np.ndarray, mx: np.ndarray, num_bits: int,
                     narrow_range: bool) -> np.ndarray:
    lo, hi, scale = nudged_range(mn.astype(np.float64), mx.astype(np.float64), num_bits,
                                 narrow_range)
    q = np.floor((np.clip(x, lo, hi) - lo) / scale + 0.5)  # TF rounds half up here
    return (q * scale + lo).astype(x.dtype)


def _forward(rt: Any, x: Any, mn: Any, mx: Any, num_bits: int, narrow_range: bool) -> Any:
    # A few element-wise passes with per-channel bounds: on the host for every backend (the
    # CUDA backend gets its result back on the device).
    to_host = getattr(rt.be, "to_numpy", np.asarray)
    y = _fake_quant_host(to_host(x), to_host(mn), to_host(mx), num_bits, narrow_range)
    if getattr(rt.be, "name", "") == "cuda":
        from ..backends.cuda.backend import to_device

        return to_device(y)
    return y


def _infer(per_channel: bool):
    def infer(shapes, dtypes, attrs):
        _rules.require(dtypes[0], "f", "fake quantization")
        if not 2 <= attrs["num_bits"] <= 16:
            raise ShapeError(f"num_bits must be in [2, 16], got {attrs['num_bits']}")
        want = (shapes[0][-1],) if per_channel and len(shapes[0]) else ()
        for s, what in ((shapes[1], "min"), (shapes[2], "max")):
            if len(s) != len(want) or (want and s[0] is not None and want[0] is not None
                                       and s[0] != want[0]):
                raise ShapeError(f"{what} must have shape {list(want)} (one value "
                                 f"{'per last-axis channel' if per_channel else 'in all'}), "
                                 f"got {list(s)}")
        return [(shapes[0], dtypes[0])]
    return infer


def _ste_gradient(per_channel: bool):
    def gradient(op, g):
        x, mn, mx = op.inputs
        below, above = less(x, mn), greater(x, mx)
        inside = logical_and(logical_not(below), logical_not(above))
        zero = zeros_like(g)
        axes = list(range(len(x.shape) - 1)) if per_channel else None
        return [where(inside, g, zero), reduce_sum(where(below, g, zero), axes),
                reduce_sum(where(above, g, zero), axes)]
    return gradient


defop("FakeQuantWithMinMaxVars", _infer(False), _forward, _ste_gradient(False),
      doc="x rounded onto the num_bits grid of [min, max] (nudged); straight-through gradient.")
defop("FakeQuantWithMinMaxVarsPerChannel", _infer(True), _forward, _ste_gradient(True),
      doc="Per last-axis channel fake quantization; straight-through gradient.")


def _call(op_type: str, inputs: Any, min: Any, max: Any, num_bits: int, narrow_range: bool,
          name: str | None) -> Tensor:
    x = convert_to_tensor(inputs)
    mn, mx = convert_to_tensor(min, x.dtype), convert_to_tensor(max, x.dtype)
    return execute(op_type, [x, mn, mx], {"num_bits": int(num_bits),
                                          "narrow_range": bool(narrow_range)}, name)


def fake_quant_with_min_max_vars(inputs: Any, min: Any, max: Any, num_bits: int = 8,  # noqa: A002
                                 narrow_range: bool = False, name: str | None = None) -> Tensor:
    """``tf.quantization.fake_quant_with_min_max_vars``: scalar ``min``/``max``."""
    return _call("FakeQuantWithMinMaxVars", inputs, min, max, num_bits, narrow_range, name)


def fake_quant_with_min_max_vars_per_channel(inputs: Any, min: Any, max: Any,  # noqa: A002
                                             num_bits: int = 8, narrow_range: bool = False,
                                             name: str | None = None) -> Tensor:
    """``tf.quantization.fake_quant_with_min_max_vars_per_channel``: ``min``/``max`` of shape
    ``[channels]`` (the last axis)."""
    return _call("FakeQuantWithMinMaxVarsPerChannel", inputs, min, max, num_bits,
                 narrow_range, name)
