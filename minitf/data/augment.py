"""Random image augmentation for batches, in NumPy, for use inside ``Dataset.map``.

Each function takes a batch of images shaped (N, H, W) or (N, H, W, C), as an array or a
tensor, draws its own random parameters for every image, and returns the same kind of value
with the same shape and dtype (integer images are rounded and clipped). Pixels that come from
outside the image are ``fill_value``.

``seed``: an int gives the same result on every call; a ``np.random.Generator`` is drawn from
(a stream: a new result each call, reproducible); None draws from minitf's global generator
(reproducible after ``tf.random.set_seed``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..framework.tensor import Tensor
from ..ops.random_ops import get_global_generator
from ._common import to_array, to_tensor

Seed = int | np.random.Generator | None


def random_shift(images: Any, max_dx: int, max_dy: int, seed: Seed = None,
                 fill_value: float = 0.0) -> Any:
    """Translate each image by whole pixels, dx in [-max_dx, max_dx], dy in [-max_dy, max_dy]."""
    x, finish = _batch(images)
    rng = _rng(seed)
    dx = rng.integers(-int(max_dx), int(max_dx) + 1, len(x))
    dy = rng.integers(-int(max_dy), int(max_dy) + 1, len(x))
    h, w = x.shape[1:3]
    rows = np.arange(h)[None, :, None] - dy[:, None, None]  # source pixel of each output pixel
    cols = np.arange(w)[None, None, :] - dx[:, None, None]
    return finish(_gather(x, rows, cols, fill_value))


def random_rotation(images: Any, max_degrees: float, seed: Seed = None,
                    fill_value: float = 0.0, interpolation: str = "bilinear") -> Any:
    """Rotate each image about its centre by an angle in [-max_degrees, max_degrees]
    (positive: counter-clockwise as displayed)."""
    x, finish = _batch(images)
    angles = np.deg2rad(_rng(seed).uniform(-max_degrees, max_degrees, len(x)))
    return finish(rotate(x, angles, fill_value, interpolation))


def random_zoom(images: Any, zoom_range: float | tuple[float, float], seed: Seed = None,
                fill_value: float = 0.0, interpolation: str = "bilinear") -> Any:
    """Scale each image about its centre by a factor in ``[1 - r, 1 + r]`` (or ``(lo, hi)``);
    a factor above 1 zooms in (content grows), below 1 zooms out."""
    lo, hi = ((1 - zoom_range, 1 + zoom_range) if np.isscalar(zoom_range)
              else map(float, zoom_range))
    if lo <= 0 or hi < lo:
        raise ValueError(f"zoom factors must satisfy 0 < lo <= hi, got ({lo}, {hi})")
    x, finish = _batch(images)
    factors = _rng(seed).uniform(lo, hi, len(x))
    return finish(zoom(x, factors, fill_value, interpolation))


def random_flip_left_right(images: Any, seed: Seed = None) -> Any:
    """Mirror each image horizontally with probability 1/2."""
    x, finish = _batch(images)
    flip = _rng(seed).random(len(x)) < 0.5
    return finish(np.where(flip.reshape(-1, *[1] * (x.ndim - 1)), x[:, :, ::-1], x))


def rotate(x: np.ndarray, angles: np.ndarray, fill_value: float = 0.0,
           interpolation: str = "bilinear") -> np.ndarray:
    """Images (N, H, W[, C]) rotated counter-clockwise by ``angles`` (radians, one per image)."""
    cos, sin = np.cos(angles)[:, None, None], np.sin(angles)[:, None, None]
    y, xx, cy, cx = _centred_grid(x)
    # output pixel (y, x) shows the source pixel rotated back by the angle; rows grow downwards,
    # so +90 degrees sends out[r, c] to x[c, W - 1 - r], as np.rot90 does
    return _sample(x, cy + cos * y + sin * xx, cx - sin * y + cos * xx, fill_value, interpolation)


def zoom(x: np.ndarray, factors: np.ndarray, fill_value: float = 0.0,
         interpolation: str = "bilinear") -> np.ndarray:
    """Images (N, H, W[, C]) scaled about their centres by ``factors`` (one per image)."""
    f = np.asarray(factors, np.float64)[:, None, None]
    y, xx, cy, cx = _centred_grid(x)
    return _sample(x, cy + y / f, cx + xx / f, fill_value, interpolation)


def _centred_grid(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, float]:
    h, w = x.shape[1:3]
    cy, cx = (h - 1) / 2, (w - 1) / 2
    return np.arange(h)[None, :, None] - cy, np.arange(w)[None, None, :] - cx, cy, cx


def _sample(x: np.ndarray, rows: np.ndarray, cols: np.ndarray, fill_value: float,
            interpolation: str) -> np.ndarray:
    """``x`` read at real-valued source positions (N, H, W), by nearest or bilinear sampling."""
    if interpolation == "nearest":
        return _gather(x, np.floor(rows + 0.5).astype(np.int64),
                       np.floor(cols + 0.5).astype(np.int64), fill_value)
    if interpolation != "bilinear":
        raise ValueError(f"interpolation must be 'bilinear' or 'nearest', got {interpolation!r}")
    n, h, w = x.shape[:3]
    pixels = x.reshape(n * h * w, -1)  # one row per pixel, one column per channel
    first = (np.arange(n) * (h * w))[:, None, None]
    r0, c0 = np.floor(rows), np.floor(cols)
    wr, wc = (rows - r0).astype(x.dtype), (cols - c0).astype(x.dtype)
    r0, c0 = r0.astype(np.int64), c0.astype(np.int64)
    out = np.zeros((n, h, w, pixels.shape[1]), x.dtype)
    covered = np.zeros((n, h, w), x.dtype)  # total weight of the corners inside the image
    for dr, weight_r in ((0, 1 - wr), (1, wr)):
        for dc, weight_c in ((0, 1 - wc), (1, wc)):
            r, c = r0 + dr, c0 + dc
            weight = np.where((r >= 0) & (r < h) & (c >= 0) & (c < w), weight_r * weight_c, 0)
            covered += weight
            index = first + np.clip(r, 0, h - 1) * w + np.clip(c, 0, w - 1)
            out += weight[..., None] * pixels[index]
    if fill_value:
        out += (1 - covered)[..., None] * np.asarray(fill_value, x.dtype)
    return out.reshape(x.shape)


def _gather(x: np.ndarray, rows: np.ndarray, cols: np.ndarray, fill_value: float) -> np.ndarray:
    """``x[n, rows, cols]`` for integer positions (N, H, W); ``fill_value`` outside the image."""
    h, w = x.shape[1:3]
    rows, cols = np.broadcast_arrays(rows, cols)
    inside = (rows >= 0) & (rows < h) & (cols >= 0) & (cols < w)
    n = np.arange(len(x))[:, None, None]
    values = x[n, np.clip(rows, 0, h - 1), np.clip(cols, 0, w - 1)]
    if x.ndim == 4:
        inside = inside[..., None]
    return np.where(inside, values, np.asarray(fill_value, values.dtype))


def _batch(images: Any) -> tuple[np.ndarray, Any]:
    """The batch as a float array, and a function giving the result back in the input's form."""
    was_tensor = isinstance(images, Tensor)
    x = to_array(images)
    if x.ndim not in (3, 4):
        raise ValueError(f"expected a batch of images (N, H, W) or (N, H, W, C), got {x.shape}")
    dtype = x.dtype
    work = x if dtype.kind == "f" else x.astype(np.float32)

    def finish(out: np.ndarray) -> Any:
        if dtype.kind in "iu":
            info = np.iinfo(dtype)
            out = np.clip(np.round(out), info.min, info.max)
        elif dtype == np.bool_:
            out = out >= 0.5
        out = np.asarray(out).astype(dtype, copy=False)
        return to_tensor(out) if was_tensor else out

    return work, finish


def _rng(seed: Seed) -> np.random.Generator:
    if seed is None:
        return get_global_generator()
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(int(seed))
