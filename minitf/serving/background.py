"""A server in a background thread of this process, for notebooks and tests.

    with BackgroundServer({"my_model": "/path/to/my_model"}) as server:
        requests.post(server.url + "/v1/models/my_model:predict", ...)

It binds 127.0.0.1 on a free port and stops when the ``with`` block ends (or on ``stop()``).
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from typing import Any

from .config import BatchingParameters, ModelConfig


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class BackgroundServer:
    """uvicorn serving ``models`` (``{name: base_path}`` or ``ModelConfig``s, or a ready
    ``Manager``) in a daemon thread; ``url`` is its address."""

    def __init__(self, models: Any, poll_seconds: float = 1.0,
                 batching: BatchingParameters | None = None, num_threads: int = 4,
                 max_body_bytes: int = 64 * 1024 * 1024, timeout_s: float = 30.0,
                 start_timeout_s: float = 60.0) -> None:
        import uvicorn

        from .app import Server, create_app
        from .manager import Manager
        from .wire import CoalescingHttpToolsProtocol

        if not isinstance(models, Manager):
            if isinstance(models, dict):
                models = [ModelConfig(k, str(Path(v))) for k, v in models.items()]
            models = Manager(list(models), poll_seconds)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.app_server = Server(models, num_threads, batching, max_body_bytes, timeout_s)
        config = uvicorn.Config(create_app(self.app_server), host="127.0.0.1", port=self.port,
                                log_level="warning", access_log=False,
                                http=CoalescingHttpToolsProtocol)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="minitf-serving",
                                        daemon=True)
        self._thread.start()
        deadline = time.monotonic() + start_timeout_s
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the server on port {self.port} did not start")
            time.sleep(0.02)

    @property
    def manager(self) -> Any:
        return self.app_server.manager

    def stop(self, timeout_s: float = 30.0) -> None:
        """Stop serving and wait for the thread (idempotent)."""
        self._server.should_exit = True
        self._thread.join(timeout=timeout_s)

    def __enter__(self) -> BackgroundServer:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()
