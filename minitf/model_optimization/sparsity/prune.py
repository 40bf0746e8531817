"""``prune_low_magnitude``: wrap Dense/Conv2D layers so their smallest weights are masked to 0.

As in TF-MOT, each wrapper holds a non-trainable ``mask`` (same shape as the kernel), the
``threshold`` it was cut at and the ``pruning_step``; the layer computes with
``kernel * mask`` (so pruned weights get no gradient). The mask is recomputed by the
``UpdatePruningStep`` callback at the steps the schedule says, keeping the largest
``(1 - sparsity)`` fraction of ``|kernel|`` (or of block averages/maxima with ``block_size``).

minitf differs from TF-MOT in that the mask update runs eagerly in the callback, before the
step's training batch, instead of inside the traced training step; the values are the same.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...keras import initializers
from ...ops import math_ops
from .._wrapper import Wrapper, clone_layer, kernel_layer, map_sequential
from .schedule import ConstantSparsity, PruningSchedule


def magnitude_mask(w: np.ndarray, sparsity: float, block_size: tuple[int, int] = (1, 1),
                   pooling: str = "AVG") -> tuple[np.ndarray, float]:
    """(mask, threshold): keep the ``max(round(n * (1 - sparsity)), 1)`` largest ``|w|``
    (ties at the threshold kept), per block of ``block_size`` for 2-D weights."""
    a = np.abs(np.asarray(w, np.float64))
    bh, bw = block_size
    if (bh, bw) != (1, 1):
        if a.ndim != 2:
            raise ValueError(f"block sparsity needs 2-D (Dense) weights, got shape {a.shape}")
        ph, pw = -a.shape[0] % bh, -a.shape[1] % bw
        blocks = np.pad(a, ((0, ph), (0, pw))).reshape(
            (a.shape[0] + ph) // bh, bh, (a.shape[1] + pw) // bw, bw)
        pooled = blocks.max(axis=(1, 3)) if pooling == "MAX" else blocks.mean(axis=(1, 3))
        bmask, thr = magnitude_mask(pooled, sparsity)
        mask = np.repeat(np.repeat(bmask, bh, 0), bw, 1)[:a.shape[0], :a.shape[1]]
        return mask.astype(np.float32), thr
    k = max(int(round(a.size * (1.0 - sparsity))), 1)
    thr = float(np.partition(a.ravel(), a.size - k)[a.size - k])
    return (a >= thr).astype(np.float32), thr


class PruneLowMagnitude(Wrapper):
    """A Dense or Conv2D layer whose kernel is multiplied by a magnitude mask."""

    def __init__(self, layer: Any, pruning_schedule: PruningSchedule | None = None,
                 block_size: tuple[int, int] = (1, 1), block_pooling_type: str = "AVG",
                 **kwargs: Any) -> None:
        if not kernel_layer(layer):
            raise ValueError(f"prune_low_magnitude prunes Dense and Conv2D layers; "
                             f"'{layer.name}' is a {type(layer).__name__}")
        if block_pooling_type not in ("AVG", "MAX"):
            raise ValueError(f"block_pooling_type must be 'AVG' or 'MAX', got "
                             f"{block_pooling_type!r}")
        super().__init__(layer, "prune_low_magnitude", **kwargs)
        self.pruning_schedule = pruning_schedule or ConstantSparsity(0.5, 0)
        self.block_size = tuple(int(b) for b in block_size)
        self.block_pooling_type = block_pooling_type

    def build_wrapper(self, input_shape: Any) -> None:
        shape = tuple(self.layer.kernel.shape)
        self.mask = self.add_weight("mask", shape, "ones", trainable=False)
        self.threshold = self.add_weight("threshold", (), "zeros", trainable=False)
        self.pruning_step = self.add_weight("pruning_step", (), initializers.Constant(-1),
                                            trainable=False, dtype="int64")

    def call(self, inputs: Any) -> Any:
        return self.call_with_kernel(inputs, math_ops.multiply(self.layer.kernel, self.mask))

    def update_mask(self, step: int) -> bool:
        """At ``step``: if the schedule prunes now, recompute the mask; apply it to the kernel."""
        self.pruning_step.assign(np.int64(step))
        prune_now, sparsity = self.pruning_schedule(step)
        if prune_now:
            mask, thr = magnitude_mask(self.layer.kernel.numpy(), sparsity, self.block_size,
                                       self.block_pooling_type)
            self.mask.assign(mask)
            self.threshold.assign(np.float32(thr))
            self.apply_mask()
        return prune_now

    def export_kernel(self) -> np.ndarray:
        return self.layer.kernel.numpy() * self.mask.numpy()

    def apply_mask(self) -> None:
        """Write ``kernel * mask`` into the kernel (pruned weights become exact zeros)."""
        self.layer.kernel.assign(self.layer.kernel.numpy() * self.mask.numpy())


def prune_low_magnitude(to_prune: Any, pruning_schedule: PruningSchedule | None = None,
                        block_size: tuple[int, int] = (1, 1), block_pooling_type: str = "AVG",
                        **kwargs: Any) -> Any:
    """Wrap a layer, or every Dense/Conv2D of a Sequential model (a clone: the original model
    keeps its layers and weights), for magnitude pruning. Default schedule:
    ``ConstantSparsity(0.5, 0)``, as TF-MOT's."""
    from ...keras.models import Sequential

    def wrap(layer: Any) -> Any:
        return PruneLowMagnitude(layer, pruning_schedule, block_size, block_pooling_type,
                                 **kwargs)

    if isinstance(to_prune, Sequential):
        return map_sequential(to_prune, lambda layer: wrap(clone_layer(layer))
                              if kernel_layer(layer) else clone_layer(layer))
    if isinstance(to_prune, list):
        return [wrap(layer) for layer in to_prune]
    return wrap(to_prune)


def strip_pruning(model: Any) -> Any:
    """A Sequential model with each pruning wrapper replaced by its layer (kernel * mask), as
    before export; the other layers are the same objects."""
    def strip(layer: Any) -> Any:
        if isinstance(layer, PruneLowMagnitude):
            layer.apply_mask()
            return layer.layer
        return layer

    return map_sequential(model, strip)


def prunable_layers(model: Any) -> list[PruneLowMagnitude]:
    return [layer for layer in model.layers if isinstance(layer, PruneLowMagnitude)]
