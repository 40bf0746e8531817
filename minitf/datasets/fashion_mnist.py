"""Fashion-MNIST (Zalando's clothing images), as ``keras.datasets.fashion_mnist``.

``load_data()`` returns uint8 ``(x_train, y_train), (x_test, y_test)`` of the same shapes as
MNIST, cached as ``fashion-mnist.npz`` and checked against ``ARRAYS_SHA256`` on every load.
On a cache miss the four IDX files are read from the first source that works:

1. ``debian-package``: ``DEBIAN_DIR``, where Debian's ``dataset-fashion-mnist`` installs them;
2. ``download``: Keras's copies under ``KERAS_BASE_URL``;
3. ``apt-download``: ``apt-get download dataset-fashion-mnist``, unpacked with ``dpkg-deb -x``
   into a temporary folder (not installed).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from . import _fetch
from ._cache import ChecksumError, DatasetError, arrays_digest, load_npz, resolve, save_npz_atomic
from ._idx import read_idx
from .mnist import FetchResult

NAMES = ("x_train", "y_train", "x_test", "y_test")
FILES = {"x_train": "train-images-idx3-ubyte.gz", "y_train": "train-labels-idx1-ubyte.gz",
         "x_test": "t10k-images-idx3-ubyte.gz", "y_test": "t10k-labels-idx1-ubyte.gz"}
ARRAYS_SHA256 = "2c1277c6236d9e8ee0e498577f5437d68ffabcc933e2b385ab63bddc86061358"
CACHE_NAME = "fashion-mnist.npz"
DEBIAN_PACKAGE = "dataset-fashion-mnist"
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
KERAS_BASE_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
REFETCH_HINT = "Delete it and run `python -m minitf.datasets fetch fashion_mnist`."


def load_data() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """``(x_train, y_train), (x_test, y_test)``; fetches into the cache on a miss."""
    file = resolve(CACHE_NAME)
    if not file.exists():
        fetch()
    a = read_verified(file)
    return (a["x_train"], a["y_train"]), (a["x_test"], a["y_test"])


def read_verified(file: Path) -> dict[str, np.ndarray]:
    """The arrays of ``file`` if their digest matches ``ARRAYS_SHA256``."""
    arrays = load_npz(file, NAMES, REFETCH_HINT)
    if arrays_digest(arrays, NAMES) != ARRAYS_SHA256:
        raise ChecksumError(f"{file} does not hold Fashion-MNIST (checksum mismatch). "
                            + REFETCH_HINT)
    return arrays


def verify() -> dict[str, str]:
    """Check the cached file; return its path and digest."""
    file = resolve(CACHE_NAME)
    if not file.exists():
        raise DatasetError(f"{file} does not exist; run "
                           "`python -m minitf.datasets fetch fashion_mnist`")
    read_verified(file)
    return {"path": str(file), "arrays_sha256": ARRAYS_SHA256, "matched": "arrays digest"}


def fetch(force: bool = False) -> FetchResult:
    """Put verified Fashion-MNIST in the cache, trying each source in turn."""
    file = resolve(CACHE_NAME)
    start = time.perf_counter()
    if file.exists() and not force:
        try:
            read_verified(file)
            return FetchResult(file, "cache", time.perf_counter() - start)
        except DatasetError:
            pass
    reasons = []
    for route, get in (("debian-package", _from_debian_dir), ("download", _from_keras),
                       ("apt-download", _from_apt)):
        try:
            with tempfile.TemporaryDirectory(prefix="minitf-fashion-") as tmp:
                arrays = _read_dir(get(Path(tmp)))
            digest = arrays_digest(arrays, NAMES)
            if digest != ARRAYS_SHA256:
                raise ChecksumError(f"arrays digest {digest}, expected {ARRAYS_SHA256}")
            save_npz_atomic(file, arrays)
            return FetchResult(file, route, time.perf_counter() - start)
        except (DatasetError, OSError) as e:
            reasons.append(f"  {route}: {type(e).__name__}: {e}")
    raise DatasetError("Could not fetch Fashion-MNIST:\n" + "\n".join(reasons)
                       + f"\nInstall Debian's {DEBIAN_PACKAGE} (files in {DEBIAN_DIR}), or put "
                       f"a verified {CACHE_NAME} at {file}.")


def _read_dir(folder: Path) -> dict[str, np.ndarray]:
    return {name: read_idx(folder / FILES[name]) for name in NAMES}


def _from_debian_dir(tmp: Path) -> Path:
    if not all((DEBIAN_DIR / f).exists() for f in FILES.values()):
        raise DatasetError(f"{DEBIAN_DIR} does not hold the IDX files ({DEBIAN_PACKAGE} "
                           "is not installed)")
    return DEBIAN_DIR


def _from_keras(tmp: Path) -> Path:
    for f in FILES.values():
        _fetch.download(KERAS_BASE_URL + f, tmp / f)
    return tmp


def _from_apt(tmp: Path) -> Path:
    if not (shutil.which("apt-get") and shutil.which("dpkg-deb")):
        raise DatasetError("apt-get or dpkg-deb is not available")
    run = {"cwd": tmp, "capture_output": True, "text": True, "timeout": _fetch.PIP_TIMEOUT_S}
    done = subprocess.run(["apt-get", "download", DEBIAN_PACKAGE], check=False, **run)
    debs = sorted(tmp.glob("*.deb"))
    if done.returncode != 0 or len(debs) != 1:
        raise DatasetError(f"`apt-get download {DEBIAN_PACKAGE}` failed: {done.stderr.strip()}")
    subprocess.run(["dpkg-deb", "-x", str(debs[0]), str(tmp / "root")], check=True, **run)
    return tmp / "root" / DEBIAN_DIR.relative_to("/")
