"""``tf.data.experimental``: the names TF kept there."""

from __future__ import annotations

from ..framework.tensor import Tensor
from ._common import AUTOTUNE, INFINITE, UNKNOWN
from .dataset import Dataset

INFINITE_CARDINALITY = INFINITE
UNKNOWN_CARDINALITY = UNKNOWN


def cardinality(dataset: Dataset) -> Tensor:
    """``dataset.cardinality()``."""
    return dataset.cardinality()


__all__ = ["AUTOTUNE", "INFINITE_CARDINALITY", "UNKNOWN_CARDINALITY", "cardinality"]
