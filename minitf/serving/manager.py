"""Model versions on disk: which to serve, loading and unloading them, and their status.

Each model's ``base_path`` holds numeric version directories. ``refresh`` (called every
``--file_system_poll_wait_seconds``) loads new versions before unloading old ones, so a swap
never leaves a request without a servable. A directory without ``saved_model.json`` is
incomplete and waits; one that fails to load is reported in the status and retried only when
its files change; a version whose directory disappears is unloaded.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..saved_model import MARKER
from .config import ModelConfig
from .servable import Servable


class NotFound(LookupError):
    """An unknown model or version (HTTP 404)."""


@dataclass
class Version:
    """The state of one version directory, as the status endpoint reports it."""

    version: int
    state: str  # START (waiting for files), AVAILABLE, END (failed or unloaded)
    error_code: str = "OK"
    error_message: str = ""
    servable: Servable | None = None
    fingerprint: tuple = ()

    def to_json(self) -> dict:
        return {"version": str(self.version), "state": self.state,
                "status": {"error_code": self.error_code, "error_message": self.error_message}}


def _fingerprint(path: Path) -> tuple:
    try:
        return tuple(sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns)
                            for p in path.iterdir()))
    except OSError:
        return ()


def _version_dirs(base: Path) -> dict[int, Path]:
    try:
        return {int(p.name): p for p in base.iterdir() if p.name.isdigit() and p.is_dir()}
    except OSError:
        return {}


class Model:
    """One configured model and its versions (the dict is replaced, never mutated, so
    request threads read a consistent snapshot without a lock)."""

    def __init__(self, config: ModelConfig, loader: Callable[[Path], Servable]) -> None:
        self.config = config
        self.loader = loader
        self.versions: dict[int, Version] = {}
        self._seen: dict[int, tuple] = {}  # fingerprints at the previous poll

    def _wanted(self, candidates: list[int]) -> list[int]:
        cfg = self.config
        if cfg.policy == "all":
            return candidates
        if cfg.policy == "specific":
            return [v for v in candidates if v in cfg.versions]
        return sorted(candidates)[-cfg.num_versions:]

    def refresh(self, settle: bool = True) -> None:
        """Bring the served versions in line with the directory. With ``settle``, a version's
        files must be unchanged since the previous poll before it is loaded (a copy in
        progress is not read half-way)."""
        dirs = _version_dirs(Path(self.config.base_path))
        new = {v: s for v, s in self.versions.items() if v in dirs}  # vanished: unloaded
        seen, self._seen = self._seen, {}
        for v in sorted(dirs, reverse=True):
            if self.config.policy == "specific" and v not in self.config.versions:
                continue
            fp = self._seen[v] = _fingerprint(dirs[v])
            old = new.get(v)
            if old is not None and old.fingerprint == fp:
                continue  # loaded, or failed with these very files
            if old is not None and old.state == "AVAILABLE":
                continue  # a served version is not reloaded under a request
            if not (dirs[v] / MARKER).exists():
                new[v] = Version(v, "START", "UNAVAILABLE",
                                 f"version directory {dirs[v]} is incomplete (no {MARKER} yet)")
                continue
            if settle and seen.get(v) != fp:
                continue  # changed since the last poll: wait for it to settle
            if self.config.policy == "latest" and v not in self._wanted(
                    [u for u, s in new.items() if s.state == "AVAILABLE"] + [v]):
                continue  # older than what is served: not needed
            try:
                new[v] = Version(v, "AVAILABLE", servable=self.loader(dirs[v]), fingerprint=fp)
            except Exception as e:  # noqa: BLE001 - any failure means "do not serve this"
                new[v] = Version(v, "END", "DATA_LOSS", f"{dirs[v]}: {e}", fingerprint=fp)
        available = [v for v, s in new.items() if s.state == "AVAILABLE"]
        keep = set(self._wanted(available))
        self.versions = {v: s for v, s in new.items() if s.state != "AVAILABLE" or v in keep}

    def servable(self, version: int | None) -> tuple[int, Servable]:
        versions = self.versions
        if version is None:
            ready = [v for v, s in versions.items() if s.state == "AVAILABLE"]
            if not ready:
                raise NotFound(f"Servable not found for request: Latest({self.config.name})")
            version = max(ready)
        s = versions.get(version)
        if s is None or s.servable is None:
            raise NotFound(f"Servable not found for request: Specific({self.config.name}, "
                           f"{version})")
        return version, s.servable


class Manager:
    """All served models, refreshed by a background thread every ``poll_seconds``."""

    def __init__(self, configs: list[ModelConfig], poll_seconds: float = 1.0,
                 loader: Callable[[Path], Servable] | None = None) -> None:
        if loader is None:
            from .servable import load as loader
        self.models = {c.name: Model(c, loader) for c in configs}
        self.poll_seconds = poll_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        for m in self.models.values():
            m.refresh(settle=False)

    def model(self, name: str) -> Model:
        m = self.models.get(name)
        if m is None:
            raise NotFound(f"Servable not found for request: Latest({name})")
        return m

    def get(self, name: str, version: int | None = None) -> tuple[int, Servable]:
        return self.model(name).servable(version)

    def status(self, name: str, version: int | None = None) -> list[dict]:
        versions = self.model(name).versions
        if version is not None:
            if version not in versions:
                raise NotFound(f"Could not find version {version} of model {name}")
            return [versions[version].to_json()]
        return [versions[v].to_json() for v in sorted(versions, reverse=True)]

    def refresh(self) -> None:
        for m in self.models.values():
            m.refresh()

    def start(self) -> None:
        """Poll the file system in a daemon thread (``poll_seconds`` <= 0: never)."""
        if self.poll_seconds > 0 and self._thread is None:
            self._thread = threading.Thread(target=self._poll, name="minitf-serving-poll",
                                            daemon=True)
            self._thread.start()

    def _poll(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            self.refresh()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
