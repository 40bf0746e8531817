"""The dataset cache: where files live, and how they are checked before use.

A cached data set is an ``.npz`` of named arrays, read with ``allow_pickle=False``. It is
trusted only if the SHA-256 of its arrays (see ``arrays_digest``) matches a constant in the
code, so a file made on another route (a download, a conversion) verifies the same way.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

ENV_VAR = "MINITF_DATA_DIR"
FILE_MODE = 0o644  # mkstemp makes 0o600 files; cached data are not secret


class DatasetError(RuntimeError):
    """A data set could not be fetched, or its cached file is damaged."""


class ChecksumError(DatasetError):
    """A file's content does not match the checksum recorded in minitf."""


def data_dir() -> Path:
    """The cache directory: ``$MINITF_DATA_DIR``, else ``~/.minitf/datasets``."""
    override = os.environ.get(ENV_VAR)
    return Path(override).expanduser() if override else Path.home() / ".minitf" / "datasets"


def resolve(path: str | os.PathLike) -> Path:
    """``path`` inside the cache directory (an absolute ``path`` is kept as it is)."""
    return data_dir() / Path(path).expanduser()


def sha256_file(path: str | os.PathLike) -> str:
    """The SHA-256 hex digest of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def arrays_digest(arrays: dict[str, np.ndarray], names: tuple[str, ...]) -> str:
    """SHA-256 over ``names`` in order: each array's name, dtype and shape, then its bytes."""
    h = hashlib.sha256()
    for name in names:
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}|{a.dtype.str}|{a.shape}\n".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def load_npz(path: Path, names: tuple[str, ...], refetch_hint: str) -> dict[str, np.ndarray]:
    """Read arrays ``names`` from ``path``; a damaged or incomplete file raises DatasetError."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = [n for n in names if n not in npz.files]
            if missing:
                raise DatasetError(f"{path} lacks arrays {missing}. {refetch_hint}")
            return {n: npz[n] for n in names}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise DatasetError(
            f"{path} is damaged or truncated ({type(e).__name__}: {e}). {refetch_hint}"
        ) from e


def save_npz_atomic(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write a compressed ``.npz`` next to ``path`` and rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez_compressed(f, **arrays)
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
