"""Reading IDX files (LeCun's MNIST format), optionally gzipped."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from ._cache import DatasetError


def read_idx(path: Path) -> np.ndarray:
    """The uint8 array stored in an IDX file (``.gz`` files are decompressed)."""
    raw = Path(path).read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    if len(raw) < 4 or raw[:3] != b"\x00\x00\x08":
        raise DatasetError(f"{path} is not an unsigned-byte IDX file")
    ndim = raw[3]
    header = 4 + 4 * ndim
    shape = tuple(int(d) for d in np.frombuffer(raw[4:header], dtype=">u4"))
    data = np.frombuffer(raw, dtype=np.uint8, offset=header)
    if data.size != int(np.prod(shape)):
        raise DatasetError(f"{path} holds {data.size} bytes of data, its header says {shape}")
    return data.reshape(shape).copy()
