"""Bounds every model and checkpoint reader enforces before it reads or allocates anything.

A hostile file may declare sizes it does not hold (a zip member that inflates a thousandfold, an
HDF5 dataset of 10**12 elements with no data, a config nested ten thousand levels deep); each is
refused here with a ``ValueError`` naming the file and what is wrong. The limits are module
constants so that a user with a genuinely bigger model can raise them.
"""

from __future__ import annotations

import io
import json
import zipfile
import zlib
from typing import Any

import numpy as np

MAX_MEMBER_BYTES = 4 << 30        # one zip member, uncompressed (weights of a 1e9-parameter model)
MAX_JSON_BYTES = 16 << 20         # config.json, metadata.json, index.json
MAX_RATIO = 100                   # uncompressed / compressed, for members over RATIO_FLOOR
RATIO_FLOOR = 1 << 20             # small members may compress well (zeros, JSON)
MAX_JSON_DEPTH = 64               # a Keras config is about 8 levels deep
H5_SLACK = 1 << 16                # bytes a dataset may declare beyond what it stores


def check_zip(z: zipfile.ZipFile, path: Any, allowed: Any = None) -> None:
    """Refuse unsafe member names and declared sizes before anything is decompressed.

    ``allowed``: a predicate on member names (``None`` accepts any safe name)."""
    for info in z.infolist():
        name = info.filename
        if name.startswith(("/", "\\")) or ".." in name.replace("\\", "/").split("/") \
                or ":" in name or "\x00" in name:
            raise ValueError(f"{path}: zip member {name!r} has an unsafe path; refusing to load it")
        if allowed is not None and not allowed(name):
            raise ValueError(f"{path}: unexpected zip member {name!r}; refusing to load it")
        if info.file_size > MAX_MEMBER_BYTES:
            raise ValueError(f"{path}: zip member {name!r} declares {info.file_size} bytes, more "
                             f"than the limit of {MAX_MEMBER_BYTES} (saving.limits.MAX_MEMBER_"
                             "BYTES)")
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise ValueError(f"{path}: zip member {name!r} inflates {info.compress_size} bytes to "
                             f"{info.file_size} (over {MAX_RATIO}x): a decompression bomb; "
                             "refusing to load it")


def read_member(z: zipfile.ZipFile, name: str, path: Any, limit: int = MAX_MEMBER_BYTES) -> bytes:
    """Member ``name``, decompressed (at most its declared size, which ``check_zip`` bounded)
    and checked against its CRC; damage raises ``ValueError``."""
    try:
        info = z.getinfo(name)
    except KeyError:
        raise ValueError(f"{path} has no {name}") from None
    if info.file_size > limit:
        raise ValueError(f"{path}: {name} declares {info.file_size} bytes, more than the limit "
                         f"of {limit}")
    try:
        with z.open(info) as f:
            data = f.read(limit + 1)
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError) as e:
        raise ValueError(f"{path} is corrupt: {name}: {e}") from None
    if len(data) != info.file_size:
        raise ValueError(f"{path} is corrupt: {name} holds {len(data)} bytes, its header says "
                         f"{info.file_size}")
    return data


def open_zip(path: Any, what: str, allowed: Any = None) -> zipfile.ZipFile:
    """``path`` as a checked zip archive (``FileNotFoundError`` passes through)."""
    try:
        z = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
        raise ValueError(f"{path} is not a {what} (not a readable zip archive: {e})") from None
    try:
        check_zip(z, path, allowed)
    except ValueError:
        z.close()
        raise
    return z


def loads_json(data: bytes, what: str) -> Any:
    """Parse JSON text of bounded size and nesting depth."""
    if len(data) > MAX_JSON_BYTES:
        raise ValueError(f"{what} is {len(data)} bytes, more than the limit of {MAX_JSON_BYTES}")
    depth = deepest = 0
    in_string = escaped = False
    for c in data.decode("utf-8", errors="replace"):  # bracket depth outside strings
        if in_string:
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_JSON_DEPTH:
                raise ValueError(f"{what} is nested more than {MAX_JSON_DEPTH} levels deep; "
                                 "refusing to load it")
        elif c in "]}":
            depth -= 1
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise ValueError(f"{what} is corrupt ({e})") from None


def read_npz_dict(data: bytes, what: str) -> dict[str, np.ndarray]:
    """``{name: array}`` of an ``.npz`` archive read with ``allow_pickle=False`` and its members'
    sizes bounded; anything else (a pickle, object arrays, a bare ``.npy``, a corrupt or
    inflating zip) raises ``ValueError``."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as inner:
            check_zip(inner, what)
        z = np.load(io.BytesIO(data), allow_pickle=False)
        if not isinstance(z, np.lib.npyio.NpzFile):
            raise ValueError("expected an .npz archive, found a single array")
        with z:
            return {k: z[k] for k in z.files}
    except zipfile.BadZipFile as e:
        raise ValueError(f"{what} is not a plain array archive ({e}); refusing to load it") \
            from None
    except ValueError as e:
        if what in str(e):
            raise
        raise ValueError(f"{what} is not a plain array archive ({e}); refusing to load it") from e
    except (OSError, EOFError, KeyError, zlib.error) as e:
        raise ValueError(f"{what} is corrupt: {e}") from e


def check_dataset(ds: Any, what: str) -> None:
    """An HDF5 dataset must hold plain numbers and store (about) what its shape declares."""
    if ds.dtype.kind not in "biuf":
        raise ValueError(f"{what}: dataset {ds.name} holds {ds.dtype}, not numbers; refusing "
                         "to load it")
    declared = int(np.prod(ds.shape, dtype=np.float64)) * ds.dtype.itemsize
    stored = ds.id.get_storage_size()
    if declared > MAX_MEMBER_BYTES or declared > MAX_RATIO * stored + H5_SLACK:
        raise ValueError(f"{what}: dataset {ds.name} declares shape {ds.shape} ({declared} "
                         f"bytes) but stores {stored} bytes; refusing to load it")
