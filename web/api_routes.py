"""`resolution-qa serve`'s routes and server: the login-guarded Starlette routes, the server-sent events of a
streamed answer, and uvicorn on a socket of this machine."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from resolution_qa.assistant.types import Answer, Sources
from resolution_qa.core.errors import ResolutionQAError, one_line
from resolution_qa.core.settings import Settings

from .api_guard import HostOriginGuard
from .api_schema import ApiError, citation_record, completion, parse_request, stream_tail
from .api_service import Model, OpenAIService, client_of
from .security import BodySizeLimit, quiet_client_loggers
from .service import ChatEvent, EngineFactory, Failure, Piece

log = logging.getLogger(__name__)


class ServeError(ResolutionQAError):
    """`resolution-qa serve` could not start (port taken, address not of this machine)."""


# --- server-sent events --------------------------------------------------------------------------------------------


def _sse(payload: dict[str, Any] | str) -> str:
    data = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    return f"data: {data}\n\n"


def sse_events(service: OpenAIService, events: Iterator[ChatEvent], model: Model, backend: str) -> Iterator[str]:
    """Chat completion chunks: the role, `sources` as soon as retrieval is done, the text as it is written, the rest
    of the checked answer and its citations, then a last chunk with `citations` and `answer`; errors as OpenAI's."""
    base = {"id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion.chunk", "created": int(time.time()),
            "model": model.id}

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        return _sse({**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
                     **extra})

    yield chunk({"role": "assistant", "content": ""})
    streamed = ""
    try:
        for event in events:
            if isinstance(event, Sources):
                yield chunk({}, sources=[citation_record(c) for c in event.citations])
            elif isinstance(event, Piece):
                streamed += event.text
                yield chunk({"content": event.text})
            elif isinstance(event, Failure):
                yield _sse(service.failure(event, backend).body())
                return
            else:
                tail = stream_tail(streamed, event)
                if tail:
                    yield chunk({"content": tail})
                yield chunk({}, "stop", citations=[citation_record(c) for c in event.citations],
                            answer=event.record())
                yield _sse("[DONE]")
                return
    except Exception as exc:  # the response has started: the error goes in the stream
        log.exception("error while streaming an answer")
        yield _sse(ApiError(500, f"unexpected error ({one_line(exc, kind=True)}); see the server log",
                            type="server_error").body())
    finally:  # also when the client hung up (ClosingStream closes us): the answering slot is given back now
        close = getattr(events, "close", None)
        if close is not None:
            close()


_END = object()


class ClosingStream(StreamingResponse):
    """A streamed response over a blocking iterator that is closed as soon as the client hangs up.

    Starlette stops iterating when the client goes away but never closes a blocking iterator: the engine's generator
    stayed suspended with its answering slot until garbage collection (issue 20: after four hung-up streams every
    request waited; with one slot, after one). Here a task watches for the disconnect and cancels the response, and
    the iterator is closed in a worker thread once the item being made is ready (an LLM sentence, or the slot's
    wait): measured 0.25 s after a hang-up with a fake engine writing a word every 0.2 s."""

    def __init__(self, source: Iterator[str], **kwargs: Any) -> None:
        self.source = source
        super().__init__(self._pull(), **kwargs)

    async def _pull(self) -> AsyncIterator[str]:
        while (item := await run_in_threadpool(next, self.source, _END)) is not _END:
            yield item  # type: ignore[misc]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            async with anyio.create_task_group() as group:

                async def watch() -> None:
                    while (await receive())["type"] != "http.disconnect":
                        pass
                    group.cancel_scope.cancel()

                async def respond() -> None:
                    await super(ClosingStream, self).__call__(scope, receive, send)
                    group.cancel_scope.cancel()

                group.start_soon(watch)
                group.start_soon(respond)
        finally:
            with anyio.CancelScope(shield=True):
                await run_in_threadpool(self._close)

    def _close(self) -> None:
        close = getattr(self.source, "close", None)
        for _ in range(600):  # a next() still running in its thread (it cannot be interrupted): wait for it
            try:
                if close is not None:
                    close()
                return
            except ValueError:  # "generator already executing"
                time.sleep(0.1)
        log.warning("a streamed answer could not be closed after its client left")


# --- the application -----------------------------------------------------------------------------------------------


def _guarded(handler: Callable[[OpenAIService, Request], Any], service: OpenAIService) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        try:
            return await handler(service, request)
        except ApiError as exc:
            return exc.response()
        except Exception as exc:  # the API edge: log the traceback, answer one line
            log.exception("unexpected error on %s %s", request.method, request.url.path)
            return ApiError(500, f"unexpected error ({one_line(exc, kind=True)}); see the server log",
                            type="server_error").response()

    return endpoint


async def _models(service: OpenAIService, request: Request) -> Response:
    service.check_login(request)
    return JSONResponse({"object": "list", "data": [service.describe(m) for m in service.models()]})


async def _model(service: OpenAIService, request: Request) -> Response:
    service.check_login(request)
    return JSONResponse(service.describe(service.model(request.path_params["model"])))


async def _health(service: OpenAIService, request: Request) -> Response:
    status = service.health()
    return JSONResponse({"status": status}, status_code=200 if status != "down" else 503)


async def _chat(service: OpenAIService, request: Request) -> Response:
    service.check_login(request)
    chat = parse_request(await request.body())
    model = service.model(chat.model)
    question, history = service.conversation(chat)
    docs = service.scope(model, chat)
    service.check_limits(client_of(request, service.settings.web.trusted_proxies))
    events = service.events(model.backend, question, history, docs)
    if chat.stream:
        return ClosingStream(sse_events(service, events, model, model.backend), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    def answer() -> Answer | Failure:
        final: Answer | Failure | None = None
        for event in events:
            if isinstance(event, Answer | Failure):
                final = event
        return final if final is not None else Failure("no answer was produced; see the server log")

    final = await run_in_threadpool(answer)
    if isinstance(final, Failure):
        raise service.failure(final, model.backend)
    return JSONResponse(completion(final, model.id))


async def _not_found(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if status == 405:
        message = f"{request.method} is not allowed on {request.url.path}"
    else:
        message = f"no route {request.method} {request.url.path}; this server has POST /v1/chat/completions and " \
                  "GET /v1/models"
    return ApiError(status, message, code="not_found" if status == 404 else None).response()


def build_api(service: OpenAIService) -> Starlette:
    """The ASGI application around a started service."""
    routes = [
        Route("/v1/chat/completions", _guarded(_chat, service), methods=["POST"]),
        Route("/v1/models", _guarded(_models, service), methods=["GET"]),
        Route("/v1/models/{model:path}", _guarded(_model, service), methods=["GET"]),
        Route("/health", _guarded(_health, service), methods=["GET"]),
    ]
    web = service.settings.web
    middleware = [Middleware(BodySizeLimit, max_bytes=web.max_request_bytes),  # outermost: 413 before anything
                  Middleware(HostOriginGuard, listen_host=web.host, configured=web.allowed_hosts)]
    return Starlette(routes=routes, middleware=middleware, exception_handlers={HTTPException: _not_found})


def create_api(settings: Settings, factory: EngineFactory | None = None,
               backends: Sequence[str] = ("extractive",)) -> tuple[Starlette, OpenAIService]:
    """Build the engines (loading the models once) and the application around them."""
    service = OpenAIService(settings, factory, backends).start()
    return build_api(service), service


class ApiServer:
    """uvicorn on settings.web.host:settings.web.serve_port (loopback by default), in this thread or another."""

    def __init__(self, app: Starlette, settings: Settings) -> None:
        import uvicorn

        self.host, self.port = settings.web.host, settings.web.serve_port
        try:
            family, kind, proto, _, address = socket.getaddrinfo(self.host, self.port, type=socket.SOCK_STREAM)[0]
            self.socket = socket.socket(family, kind, proto)
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.socket.bind(address)
        except OSError as exc:
            raise ServeError(
                f"cannot listen on {self.host}:{self.port} (in use, or not an address of this machine); pick another "
                "port with --port or RESOLUTION_QA_SERVE_PORT"
            ) from exc
        self.port = self.socket.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off",
                                timeout_graceful_shutdown=5)
        self.server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None
        quiet_client_loggers()

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/v1"

    def serve(self) -> None:
        """Serve until interrupted (Ctrl+C, SIGTERM)."""
        self.server.run(sockets=[self.socket])

    def start(self, timeout: float = 30.0) -> ApiServer:
        """Serve from a background thread; returns once the server listens."""
        self._thread = threading.Thread(target=self.serve, name="resolution-qa-serve", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started and self._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.02)
        if not self.server.started:
            raise ServeError(f"the API server did not start on {self.url} within {timeout:.0f} s")
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.socket.close()
