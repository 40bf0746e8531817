"""The ASGI application: TF Serving's REST endpoints and the page at ``/``.

    GET  /v1/models/NAME[/versions/V]            model_version_status
    GET  /v1/models/NAME[/versions/V]/metadata   signature_def
    POST /v1/models/NAME[/versions/V]:predict    (also :classify, :regress)
    GET  /v1/models                              minitf's addition: every model, for the page

Errors are ``{"error": message}`` with 400 (bad request), 404 (unknown model or version),
408 (body not received within ``timeout_s``), 413 (body over ``max_body_bytes``), 500 (the model
itself failed) or 504 (no answer within ``timeout_s``: one deadline covers body and inference).

POST under ``/v1/models/`` is a bare ASGI handler (``Server.post``), the rest Starlette routes.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import sys
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from ..saved_model import PREDICT_METHOD, SERVING_DEFAULT
from .batching import Batcher
from .config import BatchingParameters
from .manager import Manager, NotFound
from .protocol import BadRequest, error_body, parse_body, request_inputs, response_body

JSON = "application/json"
_PATH = re.compile(r"^(?P<name>[^/:]+)(?:/versions/(?P<version>[^/:]+))?"
                   r"(?::(?P<verb>[A-Za-z]+)|/(?P<meta>metadata))?$")
_METHODS = {"classify": "tensorflow/serving/classify", "regress": "tensorflow/serving/regress"}
_VERBS = {"predict", "classify", "regress"}
_MODELS = "/v1/models/"
_JSON_HEADER = [(b"content-type", JSON.encode())]
PARSE_IN_THREAD_BYTES = 256 * 1024  # bigger bodies are parsed off the event loop


def _json(body: bytes, status: int = 200) -> Response:
    return Response(body, status_code=status, media_type=JSON)


def _error(message: str, status: int) -> Response:
    return _json(error_body(message), status)


class Server:
    """State shared by the endpoints: models, executor, optional batcher, limits."""

    def __init__(self, manager: Manager, num_threads: int = 4,
                 batching: BatchingParameters | None = None,
                 max_body_bytes: int = 64 * 1024 * 1024, timeout_s: float = 30.0) -> None:
        self.manager = manager
        self.executor = ThreadPoolExecutor(max_workers=num_threads,
                                           thread_name_prefix="minitf-serving")
        self.batcher = Batcher(batching, self.executor) if batching else None
        self.max_body_bytes = max_body_bytes
        self.timeout_s = timeout_s

    async def _body(self, headers: list, receive: Receive) -> bytes:
        """The request body, ``_TooLarge`` past ``max_body_bytes``; ``ClientDisconnect`` if
        the client goes away first."""
        for key, value in headers:
            if key == b"content-length":
                if value.isdigit() and int(value) > self.max_body_bytes:
                    raise _TooLarge(int(value))
                break
        chunks, total = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ClientDisconnect()
            chunk = message.get("body", b"")
            total += len(chunk)
            if total > self.max_body_bytes:
                raise _TooLarge(total)
            chunks.append(chunk)
            if not message.get("more_body", False):
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    async def models(self, request: Request) -> Response:
        out = []
        for name, model in self.manager.models.items():
            entry: dict[str, Any] = {"name": name, "model_version_status":
                                     self.manager.status(name)}
            try:
                version, servable = model.servable(None)
                sig = servable.signatures[SERVING_DEFAULT]
                entry["version"] = str(version)
                entry["signature_def"] = sig.to_json(SERVING_DEFAULT)
            except NotFound:
                pass
            out.append(entry)
        return _json(_dumps({"models": out}))

    @staticmethod
    def _target(rest: str) -> tuple[str, int | None, str | None, str | None] | None:
        """``NAME[/versions/V][:verb|/metadata]`` as (name, version, verb, metadata), or None
        if it is not of that form; ``BadRequest`` for a version that is not a number."""
        m = _PATH.match(rest)
        if not m:
            return None
        name, version, verb, meta = m.group("name", "version", "verb", "meta")
        if version is None:
            return name, None, verb, meta
        if not version.isdigit():
            raise BadRequest(f"Failed to convert version: {version} to numeric.")
        return name, int(version), verb, meta

    async def model(self, request: Request) -> Response:
        """Every method but POST on ``/v1/models/...`` (POST takes ``post``, the hot path)."""
        method, path = request.method, request.url.path
        try:
            target = self._target(request.path_params["rest"])
            if target is None:
                return _error(f"Malformed request: {method} {path}", 404)
            name, v, verb, meta = target
            if verb is not None:
                if verb not in _VERBS:
                    return _error(f"Malformed request: POST {path}", 404)
                return _error(f"Malformed request: {method} {path}", 405)
            if method != "GET":
                return _error(f"Malformed request: {method} {path}", 405)
            if meta:
                return self._metadata(name, v)
            return _json(_dumps({"model_version_status": self.manager.status(name, v)}))
        except BadRequest as e:
            return _error(str(e), 400)
        except NotFound as e:
            return _error(str(e), 404)

    async def post(self, scope: Scope, receive: Receive, send: Send) -> None:
        """POST ``/v1/models/...`` (``:predict``, ``:classify``, ``:regress``) as a bare ASGI
        app: on this, the hot path, Starlette's middleware, routing, request and response
        objects cost ~18 us a request, about a tenth of the event loop's work per request
        for a small model."""
        try:
            status, body = await self._post(scope["path"], _route_path(scope)[len(_MODELS):],
                                            scope["headers"], receive)
        except Exception:  # a bug: answer as Starlette's ServerErrorMiddleware would
            await PlainTextResponse("Internal Server Error", 500)(scope, receive, send)
            raise
        headers = [(b"content-length", b"%d" % len(body))] + (_JSON_HEADER if body else [])
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _post(self, path: str, rest: str, headers: list,
                    receive: Receive) -> tuple[int, bytes]:
        try:
            target = self._target(rest)
            if target is None:
                return 404, error_body(f"Malformed request: POST {path}")
            name, v, verb, _ = target
            if verb is None:
                return 405, error_body(f"Malformed request: POST {path}")
            if verb not in _VERBS:
                return 404, error_body(f"Malformed request: POST {path}")
            return await self._predict(headers, receive, name, v, verb)
        except BadRequest as e:
            return 400, error_body(str(e))
        except NotFound as e:
            return 404, error_body(str(e))
        except _TooLarge as e:
            return 413, error_body(f"Request body of {e.args[0]} bytes is over the limit of "
                                   f"{self.max_body_bytes} bytes")
        except ClientDisconnect:
            return 499, b""  # nobody is listening; uvicorn drops it

    def _metadata(self, name: str, version: int | None) -> Response:
        v, servable = self.manager.get(name, version)
        sigs = {k: s.to_json(k) for k, s in servable.signatures.items()}
        return _json(_dumps({"model_spec": {"name": name, "signature_name": "",
                                            "version": str(v)},
                             "metadata": {"signature_def": {"signature_def": sigs}}}))

    async def _predict(self, headers: list, receive: Receive, name: str,
                       version: int | None, verb: str) -> tuple[int, bytes]:
        received: list[bool] = []  # one timer for the whole request: the body, then the answer
        try:
            return await _within(self._answer(headers, receive, name, version, verb, received),
                                 self.timeout_s)
        except asyncio.TimeoutError:
            if not received:  # a client that stops sending mid-body holds nothing forever
                return 408, error_body(f"Request body not received within {self.timeout_s} s")
            return 504, error_body(f"Deadline exceeded: no answer within {self.timeout_s} s")

    async def _answer(self, headers: list, receive: Receive, name: str, version: int | None,
                      verb: str, received: list[bool]) -> tuple[int, bytes]:
        body = await self._body(headers, receive)
        received.append(True)
        loop = asyncio.get_running_loop()
        if len(body) > PARSE_IN_THREAD_BYTES:
            obj = await loop.run_in_executor(self.executor, parse_body, body)
        else:
            obj = parse_body(body)
        sig_name = obj.get("signature_name", SERVING_DEFAULT)
        if not isinstance(sig_name, str):
            raise BadRequest("'signature_name' must be a string")
        _, servable = self.manager.get(name, version)
        sig = servable.signatures.get(sig_name)
        if sig is None:
            raise BadRequest(f'Serving signature name: "{sig_name}" not found in signature def')
        if verb != "predict" and sig.method_name != _METHODS[verb]:
            raise BadRequest(f"Expected {verb} signature method_name to be {_METHODS[verb]}. "
                             f"Was: {sig.method_name}")
        if verb == "predict" and sig.method_name != PREDICT_METHOD:
            raise BadRequest(f"Expected prediction signature method_name to be "
                             f"{PREDICT_METHOD}. Was: {sig.method_name}")
        inputs, fmt = request_inputs(obj, sig)
        run = partial(servable.run, sig_name)
        if self.batcher is not None:
            key = (id(servable), sig_name,
                   tuple((k, a.dtype.str, a.shape[1:]) for k, a in inputs.items()))
            rows = next(iter(inputs.values())).shape[0]
            job = self.batcher.submit(key, run, inputs, rows)
        else:
            job = loop.run_in_executor(self.executor, run, inputs)
        try:
            outputs = await job
        except (ValueError, TypeError) as e:  # the model rejected the values
            raise BadRequest(f"{type(e).__name__}: {e}") from None
        except Exception as e:  # noqa: BLE001 - a fault of the model, not of the request
            return 500, error_body(f"Internal: {type(e).__name__}: {e}")
        return 200, response_body(outputs, fmt)

    async def page(self, request: Request) -> Response:
        return HTMLResponse((Path(__file__).parent / "static" / "index.html").read_text())

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)


async def _within(coro: Any, seconds: float) -> Any:
    """``await coro``, or ``asyncio.TimeoutError`` after ``seconds`` (no extra task on 3.11+)."""
    if sys.version_info >= (3, 11):
        async with asyncio.timeout(seconds):
            return await coro
    return await asyncio.wait_for(coro, seconds)


def _route_path(scope: Scope) -> str:
    """The path Starlette routes on: ``path`` less any ``root_path``."""
    path, root = scope["path"], scope.get("root_path", "")
    return path[len(root):] if root and path.startswith(root) else path


class _TooLarge(Exception):
    pass


def _dumps(obj: Any) -> bytes:
    import json

    return json.dumps(obj).encode()


def create_app(server: Server) -> ASGIApp:
    """The ASGI application of ``server``: POST on ``/v1/models/...`` goes to ``server.post``,
    the rest (and the lifespan, which starts and stops the file-system polling) to Starlette."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):  # noqa: ANN202
        server.manager.start()
        try:
            yield
        finally:
            server.manager.stop()
            server.close()

    starlette = Starlette(routes=[
        Route("/", server.page),
        Route("/v1/models", server.models),
        Route("/v1/models/{rest:path}", server.model, methods=["GET", "PUT", "DELETE"]),
    ], lifespan=lifespan)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] == "http" and scope["method"] == "POST"
                and _route_path(scope).startswith(_MODELS)):
            await server.post(scope, receive, send)
        else:
            await starlette(scope, receive, send)

    return app
