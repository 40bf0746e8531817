"""The ASGI application: TF Serving's REST endpoints and the page at ``/``.

    GET  /v1/models/NAME[/versions/V]            model_version_status
    GET  /v1/models/NAME[/versions/V]/metadata   signature_def
    POST /v1/models/NAME[/versions/V]:predict    (also :classify, :regress)
    GET  /v1/models                              minitf's addition: every model, for the page

Errors are ``{"error": message}`` with 400 (bad request), 404 (unknown model or version),
408 (body not received within ``timeout_s``), 413 (body over ``max_body_bytes``), 500 (the model
itself failed) or 504 (inference over ``timeout_s``).
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
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

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

    async def _body(self, request: Request) -> bytes:
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > self.max_body_bytes:
            raise _TooLarge(int(length))
        chunks, total = [], 0
        async for chunk in request.stream():
            total += len(chunk)
            if total > self.max_body_bytes:
                raise _TooLarge(total)
            chunks.append(chunk)
        return b"".join(chunks)

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

    async def model(self, request: Request) -> Response:
        m = _PATH.match(request.path_params["rest"])
        if not m:
            return _error(f"Malformed request: {request.method} {request.url.path}", 404)
        name, version, verb, meta = m.group("name", "version", "verb", "meta")
        try:
            v = None
            if version is not None:
                if not version.isdigit():
                    raise BadRequest(f"Failed to convert version: {version} to numeric.")
                v = int(version)
            if verb is not None:
                if verb not in _VERBS:
                    return _error(f"Malformed request: POST {request.url.path}", 404)
                if request.method != "POST":
                    return _error(f"Malformed request: {request.method} {request.url.path}",
                                  405)
                return await self._predict(request, name, v, verb)
            if request.method != "GET":
                return _error(f"Malformed request: {request.method} {request.url.path}", 405)
            if meta:
                return self._metadata(name, v)
            return _json(_dumps({"model_version_status": self.manager.status(name, v)}))
        except BadRequest as e:
            return _error(str(e), 400)
        except NotFound as e:
            return _error(str(e), 404)
        except _TooLarge as e:
            return _error(f"Request body of {e.args[0]} bytes is over the limit of "
                          f"{self.max_body_bytes} bytes", 413)
        except ClientDisconnect:
            return Response(status_code=499)  # nobody is listening; uvicorn drops it

    def _metadata(self, name: str, version: int | None) -> Response:
        v, servable = self.manager.get(name, version)
        sigs = {k: s.to_json(k) for k, s in servable.signatures.items()}
        return _json(_dumps({"model_spec": {"name": name, "signature_name": "",
                                            "version": str(v)},
                             "metadata": {"signature_def": {"signature_def": sigs}}}))

    async def _predict(self, request: Request, name: str, version: int | None,
                       verb: str) -> Response:
        try:  # a client that stops sending mid-body must not hold a request forever
            body = await _within(self._body(request), self.timeout_s)
        except asyncio.TimeoutError:
            return _error(f"Request body not received within {self.timeout_s} s", 408)
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
        try:
            if self.batcher is not None:
                key = (id(servable), sig_name,
                       tuple((k, a.dtype.str, a.shape[1:]) for k, a in inputs.items()))
                rows = next(iter(inputs.values())).shape[0]
                job = self.batcher.submit(key, run, inputs, rows)
            else:
                job = loop.run_in_executor(self.executor, run, inputs)
            outputs = await asyncio.wait_for(job, self.timeout_s)
        except (ValueError, TypeError) as e:  # the model rejected the values
            raise BadRequest(f"{type(e).__name__}: {e}") from None
        except asyncio.TimeoutError:
            return _error(f"Deadline exceeded: inference took over {self.timeout_s} s", 504)
        except Exception as e:  # noqa: BLE001 - a fault of the model, not of the request
            return _error(f"Internal: {type(e).__name__}: {e}", 500)
        return _json(response_body(outputs, fmt))

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


class _TooLarge(Exception):
    pass


def _dumps(obj: Any) -> bytes:
    import json

    return json.dumps(obj).encode()


def create_app(server: Server) -> Starlette:
    """The Starlette application of ``server``; starts and stops its file-system polling."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):  # noqa: ANN202
        server.manager.start()
        try:
            yield
        finally:
            server.manager.stop()
            server.close()

    return Starlette(routes=[
        Route("/", server.page),
        Route("/v1/models", server.models),
        Route("/v1/models/{rest:path}", server.model, methods=["GET", "POST", "PUT", "DELETE"]),
    ], lifespan=lifespan)
