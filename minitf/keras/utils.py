"""``tf.keras.utils``."""

from __future__ import annotations

from typing import Any

import numpy as np


def to_categorical(y: Any, num_classes: int | None = None, dtype: str = "float32") -> np.ndarray:
    """One-hot encode integer class ids (``y`` of any shape -> shape + (num_classes,))."""
    y = np.asarray(y, dtype=np.int64)
    n = int(num_classes if num_classes is not None else y.max() + 1)
    return (y[..., None] == np.arange(n)).astype(dtype)


def set_random_seed(seed: int) -> None:
    """Seed minitf's and NumPy's global generators."""
    from ..ops.random_ops import set_seed

    np.random.seed(seed)
    set_seed(seed)
