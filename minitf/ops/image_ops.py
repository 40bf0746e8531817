"""``tf.image``: resizing, flips, rotations and the photometric changes augmentation uses.

Every function is composed of existing ops (gather, transpose, arithmetic), so gradients flow
through ``resize`` and the flips as TF's do. Images are ``[height, width, channels]`` or a
batch ``[batch, height, width, channels]``, as in TF.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import dtypes as _dtypes
from ..framework.execute import convert_to_tensor
from ..framework.registry import tf_export
from ..framework.tensor import Tensor
from . import _rules
from .array_ops import broadcast_to, clip_by_value, gather, reshape, transpose, where
from .math_ops import cast, maximum, sqrt
from .random_ops import uniform
from .reduction_ops import reduce_mean


def _image(image: Any, what: str) -> Tensor:
    x = convert_to_tensor(image)
    if len(x.shape) not in (3, 4):
        raise ValueError(f"{what}: image must be [height, width, channels] or "
                         f"[batch, height, width, channels], got shape {list(x.shape)}")
    return x


def _static_dim(x: Tensor, axis: int, what: str) -> int:
    n = x.shape[axis]
    if n is None:
        raise ValueError(f"{what}: minitf needs the image's height and width when the graph is "
                         "built")
    return int(n)


def _reverse(x: Tensor, axis: int, what: str) -> Tensor:
    n = _static_dim(x, axis, what)
    return gather(x, np.arange(n - 1, -1, -1, dtype=np.int32), axis=axis % len(x.shape))


@tf_export("image.flip_left_right")
def flip_left_right(image: Any) -> Tensor:
    """The image mirrored left to right (the width axis reversed)."""
    return _reverse(_image(image, "flip_left_right"), -2, "flip_left_right")


@tf_export("image.flip_up_down")
def flip_up_down(image: Any) -> Tensor:
    """The image upside down (the height axis reversed)."""
    return _reverse(_image(image, "flip_up_down"), -3, "flip_up_down")


@tf_export("image.rot90")
def rot90(image: Any, k: int = 1, name: str | None = None) -> Tensor:
    """The image rotated counter-clockwise by ``k`` times 90 degrees (``k`` a Python int)."""
    x = _image(image, "rot90")
    k = int(k) % 4
    if k == 0:
        return x
    if k == 2:
        return flip_up_down(flip_left_right(x))
    perm = [0, 2, 1, 3] if len(x.shape) == 4 else [1, 0, 2]
    if k == 1:  # transpose(flip_left_right), as np.rot90 and TF
        return transpose(flip_left_right(x), perm)
    return flip_left_right(transpose(x, perm))


def _flip_mask(x: Tensor, seed: int | None) -> Tensor:
    """True where an image is flipped: one coin per image of a batch, as TF."""
    batch = len(x.shape) == 4
    n = _static_dim(x, 0, "random_flip_left_right") if batch else 1
    coins = uniform([n, 1, 1, 1] if batch else [1, 1, 1], 0.0, 1.0, seed=seed)
    return coins < 0.5


@tf_export("image.random_flip_left_right")
def random_flip_left_right(image: Any, seed: int | None = None) -> Tensor:
    """Each image flipped left to right with probability 1/2. ``seed`` with
    ``tf.random.set_seed`` makes it repeatable (minitf's generator, not TF's stream)."""
    x = _image(image, "random_flip_left_right")
    mask = _flip_mask(x, seed)
    return where(broadcast_to(mask, x.shape), flip_left_right(x), x)


@tf_export("image.random_flip_up_down")
def random_flip_up_down(image: Any, seed: int | None = None) -> Tensor:
    """Each image flipped upside down with probability 1/2 (see random_flip_left_right)."""
    x = _image(image, "random_flip_up_down")
    mask = _flip_mask(x, seed)
    return where(broadcast_to(mask, x.shape), flip_up_down(x), x)


def _to_float(x: Tensor) -> Tensor:
    """TF's convert_image_dtype to float32: integers scaled to [0, 1]."""
    if x.dtype.is_floating:
        return x
    return cast(x, _dtypes.float32) * (1.0 / float(x.dtype.max))


def _from_float(x: Tensor, dtype: _dtypes.DType) -> Tensor:
    """TF's convert_image_dtype from float back to ``dtype``, saturating."""
    if dtype.is_floating:
        return cast(x, dtype)
    scaled = clip_by_value(x * (float(dtype.max) + 0.5), 0.0, float(dtype.max))
    return cast(scaled, dtype)


@tf_export("image.adjust_brightness")
def adjust_brightness(image: Any, delta: float) -> Tensor:
    """``image + delta``. Integer images are scaled to [0, 1] first and back (saturating)
    after, as TF's ``convert_image_dtype``."""
    x = convert_to_tensor(image)
    return _from_float(_to_float(x) + float(delta), x.dtype)


@tf_export("image.per_image_standardization")
def per_image_standardization(image: Any) -> Tensor:
    """Each image scaled to mean 0 and variance 1: ``(x - mean) / max(stddev, 1/sqrt(N))``
    with N the image's number of values. Integer images give float32, as TF."""
    x = _image(image, "per_image_standardization")
    if not x.dtype.is_floating:
        x = cast(x, _dtypes.float32)
    axes = [-1, -2, -3]
    n = float(np.prod([_static_dim(x, a, "per_image_standardization") for a in axes]))
    mean = reduce_mean(x, axes, keepdims=True)
    centred = x - mean
    std = sqrt(reduce_mean(centred * centred, axes, keepdims=True))
    return centred / maximum(std, 1.0 / np.sqrt(n))


# -- resize ----------------------------------------------------------------------------------------


def _bilinear_taps(in_size: int, out_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """TF2's half-pixel bilinear sampling: source ``(i + 0.5) * in/out - 0.5``; the lower and
    upper source indices (clamped to the image) and the weight of the upper one."""
    pos = (np.arange(out_size) + 0.5) * (in_size / out_size) - 0.5
    low = np.floor(pos)
    frac = (pos - low).astype(np.float32)
    lower = np.clip(low, 0, in_size - 1).astype(np.int32)
    upper = np.clip(np.ceil(pos), 0, in_size - 1).astype(np.int32)
    return lower, upper, frac


def _nearest_taps(in_size: int, out_size: int) -> np.ndarray:
    """TF2's half-pixel nearest neighbour: ``floor((i + 0.5) * in/out)``, clamped."""
    pos = np.floor((np.arange(out_size) + 0.5) * (in_size / out_size))
    return np.clip(pos, 0, in_size - 1).astype(np.int32)


def _lerp_axis(x: Tensor, axis: int, in_size: int, out_size: int) -> Tensor:
    lower, upper, frac = _bilinear_taps(in_size, out_size)
    shape = [1] * len(x.shape)
    shape[axis] = out_size
    w = reshape(convert_to_tensor(frac), shape)
    a, b = gather(x, lower, axis=axis), gather(x, upper, axis=axis)
    return a + (b - a) * w


@tf_export("image.resize")
def resize(images: Any, size: Any, method: str = "bilinear", preserve_aspect_ratio: bool = False,
           antialias: bool = False, name: str | None = None) -> Tensor:
    """``images`` resized to ``size = [new_height, new_width]`` with TF2's half-pixel centres.

    ``method``: ``"bilinear"`` (the result is float32, as TF) or ``"nearest"`` (keeps the
    dtype). minitf has neither ``antialias`` nor the other methods (area, bicubic, ...).
    """
    x = _image(images, "resize")
    if antialias:
        raise NotImplementedError("resize: minitf has no antialias; resize without it")
    h_out, w_out = _rules.static_ints(size, "resize size")
    h_in = _static_dim(x, -3, "resize")
    w_in = _static_dim(x, -2, "resize")
    if preserve_aspect_ratio:
        scale = min(h_out / h_in, w_out / w_in)
        h_out, w_out = max(int(round(h_in * scale)), 1), max(int(round(w_in * scale)), 1)
    if h_out <= 0 or w_out <= 0:
        raise ValueError(f"resize: size must be positive, got {[h_out, w_out]}")
    rank = len(x.shape)
    if method in ("nearest", "nearest_neighbor"):
        out = gather(x, _nearest_taps(h_in, h_out), axis=rank - 3)
        return gather(out, _nearest_taps(w_in, w_out), axis=rank - 2)
    if method != "bilinear":
        raise ValueError(f"resize: method must be 'bilinear' or 'nearest' in minitf, got "
                         f"{method!r}")
    x = x if x.dtype == _dtypes.float32 else cast(x, _dtypes.float32)
    return _lerp_axis(_lerp_axis(x, rank - 3, h_in, h_out), rank - 2, w_in, w_out)
