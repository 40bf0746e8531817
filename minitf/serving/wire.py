"""uvicorn's httptools protocol, with the writes of one event-loop step sent as one.

uvicorn writes a response's head and its body with two ``transport.write`` calls, so two
``send`` system calls and two TCP segments per response, and a client that wakes up for the
head and again for the body. Here the writes a handler makes in one step of the event loop
are joined and sent once, at the end of that step (``loop.call_soon``): a response goes out
in one segment, as TF Serving sends it. Nothing is held longer than the current step;
``close`` and ``write_eof`` send what is pending first, and a large write (over
``JOIN_LIMIT``) goes out at once, after what is pending, rather than be copied into a join.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

JOIN_LIMIT = 64 * 1024  # bytes; past this a copy costs more than the system call it saves


class _Coalescing:
    """A transport whose ``write``s within one loop step reach the socket as one write."""

    __slots__ = ("_transport", "_loop", "_pending")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes) -> None:
        if not data:
            return
        if len(data) > JOIN_LIMIT:
            self.flush()
            self._transport.write(data)
            return
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(data)

    def flush(self) -> None:
        if self._pending:
            data = self._pending[0] if len(self._pending) == 1 else b"".join(self._pending)
            self._pending.clear()
            self._transport.write(data)

    def writelines(self, list_of_data: Any) -> None:
        for data in list_of_data:
            self.write(data)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def abort(self) -> None:
        self._pending.clear()
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:  # is_closing, get_extra_info, set_protocol, ...
        return getattr(self._transport, name)


class CoalescingHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's ``httptools`` protocol (``uvicorn.run(app, http=this)``), each response in
    one write."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)  # flow control keeps the real transport
        self.transport = _Coalescing(transport, self.loop)  # type: ignore[assignment]
