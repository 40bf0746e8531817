"""``tfmot.sparsity.keras``: the names TF-MOT users type."""

from __future__ import annotations

from .callbacks import PruningSummaries, UpdatePruningStep
from .prune import PruneLowMagnitude, magnitude_mask, prune_low_magnitude, strip_pruning
from .schedule import ConstantSparsity, PolynomialDecay, PruningSchedule

__all__ = ["ConstantSparsity", "PolynomialDecay", "PruneLowMagnitude", "PruningSchedule",
           "PruningSummaries", "UpdatePruningStep", "magnitude_mask", "prune_low_magnitude",
           "strip_pruning"]
