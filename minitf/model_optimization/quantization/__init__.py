"""``tfmot.quantization``: quantization-aware training (see ``keras``)."""

from . import keras

__all__ = ["keras"]
