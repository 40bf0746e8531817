"""``tf.keras.layers``."""

from .base import Layer  # noqa: F401
from .core import Activation, Dense, Dropout, Flatten, Input, InputLayer  # noqa: F401
