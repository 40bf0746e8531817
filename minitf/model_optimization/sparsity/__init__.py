"""``tfmot.sparsity``: magnitude pruning (see ``keras``)."""

from . import keras

__all__ = ["keras"]
