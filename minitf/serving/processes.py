"""Running the command-line server: one process, or several on one port.

With one process (``serve_one``), uvicorn's ``Server`` runs it and the address line is
printed once it listens, so a taken port never shows a "ready" line.

With several (``--rest_api_workers``, ``serve_workers``), since a Python process serves from
one core at most (its event loop holds the GIL): uvicorn's ``Multiprocess`` supervisor starts
the workers (``spawn``: each imports minitf and loads the models itself), restarts a worker
that dies and stops them all on SIGINT or SIGTERM. Two changes to how uvicorn runs it:

- Each worker listens on a socket of its own, bound with ``SO_REUSEPORT``, and the kernel
  spreads new connections over them by their addresses. On uvicorn's one shared socket,
  asyncio accepts every pending connection at each wake-up, so whichever worker wakes first
  takes a whole burst: measured with wrk, all 8 (or all 128) keep-alive connections of a run
  went to one worker of two, which then served alone.
- The supervisor says when every worker serves, so "ready" means ready.
"""

from __future__ import annotations

import gc
import socket
import sys
import time
from collections.abc import Callable
from typing import Any

from uvicorn import Config, Server
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess


def freeze_heap() -> None:
    """Move everything loaded so far to the collector's permanent generation.

    minitf, Numba and the models are millions of objects; a full collection, which parsing
    JSON bodies triggers every few hundred requests, then no longer walks them. Measured on
    the quiet 2-core VM, MLP with batching at 32 connections: p99 40-45 ms -> 7.5 ms, p50
    unchanged.
    """
    gc.collect()
    gc.freeze()


def _socket(host: str, port: int, *, reuse_address: bool,
            reuse_port: bool = True) -> socket.socket:
    """A TCP socket bound to (``host``, ``port``), not listening."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    sock = socket.socket(family, kind, proto)
    try:
        if reuse_address:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    return sock


def _listener(host: str, port: int) -> socket.socket:
    """A worker's socket: bound with ``SO_REUSEPORT`` beside its siblings'."""
    return _socket(host, port, reuse_address=True)


def _hold(host: str, port: int) -> socket.socket:
    """The supervisor's claim on the port: ``OSError`` if anything else is bound there.

    ``SO_REUSEPORT`` alone would let a second server of the same user join the group and
    silently take half the connections, so a plain socket is bound first (fails if anything
    listens there), then the claim, without ``SO_REUSEADDR``: a second server's plain socket
    then fails on it too, even before the workers listen."""
    _socket(host, port, reuse_address=True, reuse_port=False).close()
    return _socket(host, port, reuse_address=False)


class _OwnSocket:
    """Stands in the supervisor's socket list; unpickled in a worker (uvicorn sends the list
    to each one it starts or restarts), it becomes that worker's own ``SO_REUSEPORT``
    socket on the port, which uvicorn then listens on."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port

    def __reduce__(self) -> tuple:
        return _listener, (self.host, self.port)


class WorkerApp:
    """The application factory a worker calls (``Config(WorkerApp(argv), factory=True)``):
    picklable, since ``spawn`` sends it to each worker, which parses the flags and loads the
    models in its own process."""

    def __init__(self, argv: list[str]) -> None:
        self.argv = list(argv)

    def __call__(self) -> Any:
        from .__main__ import build, parser

        try:
            app = build(parser().parse_args(self.argv))
        except Exception as e:  # noqa: BLE001 - e.g. the config file went away since the check
            # uvicorn's "failed to start" code: the supervisor stops instead of restarting
            # a worker that would fail the same way forever
            print(f"error: {e}", file=sys.stderr, flush=True)
            raise SystemExit(STARTUP_FAILURE) from None
        freeze_heap()
        return app


class _Supervisor(Multiprocess):
    """uvicorn's supervisor, calling ``on_ready`` once every worker has started serving."""

    def __init__(self, config: Config, sockets: list, on_ready: Callable[[], None],
                 start_timeout_s: float) -> None:
        super().__init__(config, sockets)
        self.on_ready = on_ready
        self.start_timeout_s = start_timeout_s
        self.failed = False

    def init_processes(self) -> None:
        super().init_processes()
        waiting = list(self.processes)
        deadline = time.monotonic() + self.start_timeout_s
        while waiting and time.monotonic() < deadline:
            self.handle_signals()  # Ctrl-C while the workers load still stops everything
            if self.should_exit.is_set():
                return
            if any(not p.process.is_alive() for p in waiting):
                return  # the supervisor's loop reports it (and stops on a failed start)
            waiting = [p for p in waiting if not p.is_ready(timeout=1)]
            if waiting:
                time.sleep(0.1)
        if waiting:
            self.failed = True
            self.should_exit.set()
            return
        self.on_ready()

    def keep_subprocess_alive(self) -> None:
        self.failed |= any(p.exitcode == STARTUP_FAILURE for p in self.processes)
        super().keep_subprocess_alive()


class _Announcing(Server):
    """uvicorn's server, calling ``on_ready`` once it listens."""

    def __init__(self, config: Config, on_ready: Callable[[], None]) -> None:
        super().__init__(config)
        self.on_ready = on_ready

    async def startup(self, sockets: list | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            self.on_ready()


def serve_one(config: Config, on_ready: Callable[[], None]) -> int:
    """Serve ``config`` in this process until SIGINT or SIGTERM; 1 if it could not start
    (uvicorn logs why, e.g. the port is taken), else 0."""
    server = _Announcing(config, on_ready)
    try:
        server.run()
    except SystemExit:  # uvicorn's exit on a failed bind, after logging it
        return 1
    return 0 if server.started else 1


def serve_workers(config: Config, on_ready: Callable[[], None],
                  start_timeout_s: float = 300.0) -> int:
    """Serve ``config`` (``workers`` > 1, its app a ``WorkerApp``) until SIGINT or SIGTERM;
    1 if the workers could not start within ``start_timeout_s``, else 0. ``OSError`` if
    the port is taken."""
    # Bound here, never listened on: the port is checked and held, and no connection is
    # queued where nobody accepts (the kernel only spreads them over listening sockets).
    held = _hold(config.host, config.port)
    try:
        supervisor = _Supervisor(config, [_OwnSocket(config.host, config.port)], on_ready,
                                 start_timeout_s)
        supervisor.run()
    finally:
        held.close()
    return 1 if supervisor.failed else 0
