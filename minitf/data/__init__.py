"""``tf.data``: input pipelines (``Dataset``) and batch image augmentation (``augment``)."""

from . import augment, experimental
from ._common import AUTOTUNE
from ._common import INFINITE as INFINITE_CARDINALITY
from ._common import UNKNOWN as UNKNOWN_CARDINALITY
from ._spec import TensorSpec
from .dataset import Dataset, DatasetIterator

__all__ = ["AUTOTUNE", "INFINITE_CARDINALITY", "UNKNOWN_CARDINALITY", "Dataset",
           "DatasetIterator", "TensorSpec", "augment", "experimental"]
