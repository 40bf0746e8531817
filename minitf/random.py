"""``tf.random``: seeded random tensors."""

from .ops.random_ops import (  # noqa: F401
    get_global_generator,
    normal,
    set_seed,
    shuffle,
    truncated_normal,
    uniform,
)
