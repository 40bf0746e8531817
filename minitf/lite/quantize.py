"""TFLite's int8 quantization spec, in NumPy: ``real = (q - zero_point) * scale``.

* Weights: int8 in [-127, 127], zero point 0 (symmetric), one scale per output channel (the
  last axis of minitf's Keras-layout kernels) or one per tensor.
* Activations: int8 in [-128, 127], one scale and zero point per tensor (asymmetric); the
  range always contains 0, so 0.0 is exact (zero padding and ReLU stay exact).
* Biases: int32 with ``scale = input_scale * weight_scale`` and zero point 0.
* Rescaling an int32 accumulator to the next int8 tensor multiplies by
  ``M = in_scale * w_scale / out_scale`` written as ``m * 2**(shift - 31)`` with an int32
  ``m`` in [2**30, 2**31): integer multiply, add half, shift right (TFLite's single-rounding
  ``MultiplyByQuantizedMultiplier``).
"""

from __future__ import annotations

import math

import numpy as np

QMIN, QMAX = -128, 127  # int8 activations
WMAX = 127  # weights use the narrow range [-127, 127]


def activation_params(lo: float, hi: float) -> tuple[float, int]:
    """Scale and zero point mapping [lo, hi] (widened to contain 0) onto [-128, 127]."""
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(f"activation range must be finite, got [{lo}, {hi}]")
    if hi == lo:  # an all-zero tensor: any scale represents it exactly
        return 1.0, 0
    scale = (hi - lo) / (QMAX - QMIN)
    zero_point = int(np.clip(round(QMIN - lo / scale), QMIN, QMAX))
    return scale, zero_point


def quantize(x: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """float -> int8: ``clip(round(x / scale) + zero_point)`` (half to even, as TFLite's
    reference kernels on most platforms)."""
    q = np.rint(np.asarray(x, np.float64) / scale) + zero_point
    return np.clip(q, QMIN, QMAX).astype(np.int8)


def dequantize(q: np.ndarray, scale: float | np.ndarray, zero_point: int | np.ndarray = 0
               ) -> np.ndarray:
    """int -> float32: ``(q - zero_point) * scale``."""
    return ((np.asarray(q, np.float64) - zero_point) * scale).astype(np.float32)


def weight_scales(w: np.ndarray, per_channel: bool = True) -> np.ndarray:
    """Symmetric scales ``max|w| / 127``: one per output channel (the last axis) or one."""
    w = np.asarray(w, np.float64)
    amax = np.abs(w).reshape(-1, w.shape[-1]).max(axis=0) if per_channel else \
        np.array([np.abs(w).max() if w.size else 0.0])
    return np.where(amax > 0, amax / WMAX, 1.0).astype(np.float32)


def quantize_weights(w: np.ndarray, per_channel: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """``(int8 weights in [-127, 127], float32 scales)``, zero point 0."""
    scales = weight_scales(w, per_channel)
    q = np.clip(np.rint(np.asarray(w, np.float64) / scales.astype(np.float64)), -WMAX, WMAX)
    return q.astype(np.int8), scales


def quantize_bias(b: np.ndarray, in_scale: float, w_scales: np.ndarray) -> np.ndarray:
    """int32 bias with ``scale = in_scale * w_scale`` (per channel), zero point 0."""
    s = np.float64(in_scale) * w_scales.astype(np.float64)
    q = np.rint(np.asarray(b, np.float64) / s)
    return np.clip(q, -(2**31) + 1, 2**31 - 1).astype(np.int32)


def quantize_multiplier(real: float) -> tuple[int, int]:
    """``real`` as ``(m, shift)`` with ``real ~= m * 2**(shift - 31)``, ``m`` in [2**30, 2**31).

    Multipliers below ``2**-31`` become ``(0, 0)`` (the output is then the zero point); those
    of ``2**31`` or more are refused (no sane model has them).
    """
    if not math.isfinite(real) or real < 0:
        raise ValueError(f"requantization multiplier must be finite and >= 0, got {real}")
    if real == 0:
        return 0, 0
    q, shift = math.frexp(real)  # real = q * 2**shift, q in [0.5, 1)
    m = round(q * (1 << 31))
    if m == 1 << 31:
        m //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    if shift > 30:
        raise ValueError(f"requantization multiplier {real} is too large (>= 2**31)")
    return int(m), int(shift)


def multipliers(real: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`quantize_multiplier` per channel: ``(int32 m, int32 shift)`` arrays."""
    pairs = [quantize_multiplier(float(r)) for r in np.ravel(real)]
    return (np.array([p[0] for p in pairs], np.int32), np.array([p[1] for p in pairs], np.int32))


def requantize(acc: np.ndarray, m: np.ndarray, shift: np.ndarray, zero_point: int,
               qmin: int = QMIN, qmax: int = QMAX) -> np.ndarray:
    """Reference integer rescale: ``clip(((acc * m + round) >> (31 - shift)) + zero_point)``
    over the last axis's channels (int64 products, arithmetic shift)."""
    total = 31 - np.asarray(shift, np.int64)
    prod = np.asarray(acc, np.int64) * np.asarray(m, np.int64)
    out = (prod + (np.int64(1) << (total - 1))) >> total
    return np.clip(out + zero_point, qmin, qmax).astype(np.int8)
