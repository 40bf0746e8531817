"""A drawn digit, preprocessed the way MNIST's digits were.

MNIST's digits were size-normalised to fit a 20x20 box (keeping their aspect ratio, with
anti-aliasing) and centred by their centre of mass in a 28x28 image. A digit drawn on a canvas
must go through the same steps, or a model trained on MNIST sees something it never saw.
The serving page (``minitf/serving/static/index.html``) does the same in JavaScript, step by
step, and a browser test checks that both agree.
"""

from __future__ import annotations

import numpy as np

SIZE = 28
BOX = 20
INK = 0.05  # pixels above this fraction of the brightest one count for the bounding box


def _round(x: float) -> int:
    """Halves round up, as JavaScript's ``Math.round`` does (Python's ``round`` goes to even)."""
    return int(np.floor(x + 0.5))


def area_weights(n_in: int, n_out: int) -> np.ndarray:
    """``(n_out, n_in)`` matrix resampling a line of ``n_in`` pixels to ``n_out`` by area:
    each output pixel averages the input it covers (anti-aliased when shrinking)."""
    scale = n_in / n_out
    w = np.zeros((n_out, n_in))
    for o in range(n_out):
        lo, hi = o * scale, (o + 1) * scale
        for i in range(int(np.floor(lo)), min(int(np.ceil(hi)), n_in)):
            w[o, i] = max(0.0, min(hi, i + 1) - max(lo, i))
    return w / scale


def to_mnist(image: np.ndarray) -> np.ndarray:
    """A ``(28, 28)`` float32 image in [0, 1] from a 2-D drawing (ink bright, background 0;
    values in [0, 1] or [0, 255]). A blank drawing gives zeros."""
    img = np.asarray(image, dtype=np.float64)
    if img.ndim != 2:
        raise ValueError(f"to_mnist takes a 2-D grayscale image, got shape {img.shape}")
    top = img.max(initial=0.0)
    if top <= 0:
        return np.zeros((SIZE, SIZE), np.float32)
    img = img / (255.0 if top > 1 else 1.0)
    ink = img > INK * img.max()
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    crop = img[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    h, w = crop.shape
    s = BOX / max(h, w)
    nh, nw = max(1, _round(h * s)), max(1, _round(w * s))
    small = area_weights(h, nh) @ crop @ area_weights(w, nw).T
    total = small.sum()
    cy = (small.sum(axis=1) @ np.arange(nh)) / total
    cx = (small.sum(axis=0) @ np.arange(nw)) / total
    # put the centre of mass at the image centre, keeping the box inside the image
    top_row = min(max(_round(SIZE / 2 - 0.5 - cy), 0), SIZE - nh)
    left = min(max(_round(SIZE / 2 - 0.5 - cx), 0), SIZE - nw)
    out = np.zeros((SIZE, SIZE))
    out[top_row:top_row + nh, left:left + nw] = small
    return np.clip(out, 0, 1).astype(np.float32)
