"""Small standard data sets, as ``keras.datasets``: ``mnist`` and ``fashion_mnist``.

Files are cached in ``~/.minitf/datasets`` (or ``$MINITF_DATA_DIR``) and verified by SHA-256 on
every load. ``python -m minitf.datasets fetch mnist`` fills the cache ahead of time.
"""

from . import fashion_mnist, mnist
from ._cache import ChecksumError, DatasetError, data_dir

__all__ = ["ChecksumError", "DatasetError", "data_dir", "fashion_mnist", "mnist"]
