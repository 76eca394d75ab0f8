"""`resolution-qa serve`: the assistant behind an OpenAI-compatible chat API, for the clients people already use.

Routes (README "Serving many users"):

- `POST /v1/chat/completions`: JSON, or server-sent events with `"stream": true`. The last message is the question;
  the earlier user/assistant messages are the conversation's history. An assistant message this server wrote is
  matched back to the Answer it came from (its citations, its standalone question), so "and the next paragraph?"
  works as in the chat app; one it cannot match (another server's, or edited) becomes a turn of its text and of the
  citations its "- [A/RES/75/158, par. 27]" lines name. System messages are ignored: the assistant's instructions
  are its own. The answer's text carries its citations as `resolution-qa ask` prints them; the structured ones
  travel in extra fields ordinary clients ignore: `citations` (id, doc, label, formal, text, source) and `answer`
  (the full `Answer.record()`) on the response, and on the last chunk of a stream, which may be preceded by a chunk
  with `sources` (the passages retrieved, before any text).
- `GET /v1/models`: `resolution-qa-<backend>` for the configured backend and `extractive` (same index, no LLM),
  and with several indexed resolutions `resolution-qa-<backend>:<symbol>` for each (answers from it alone).
- `GET /health`: {"status": "ok" | "degraded" | "down"} without a login, for load balancers.

The chat app's login and limits: the same user and password (`Authorization: Bearer <password>`, what an OpenAI
client sends as its api_key, or HTTP basic auth), the same body-size cap, per-client-address question rate limit,
answering slots and queue. Errors are OpenAI's JSON: {"error": {"message": one line, "type", "param", "code"}}.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hmac
import json
import logging
import re
import socket
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from resolution_qa.assistant.assistant import clean_question
from resolution_qa.assistant.types import Answer, Citation, Sources, Turn
from resolution_qa.core.errors import ResolutionQAError, one_line
from resolution_qa.core.refs import formal, resolution_symbol
from resolution_qa.core.settings import Settings
from resolution_qa.core.strings import STRINGS
from resolution_qa.ingest import Document, parse_file

from .render import CITATION_LINE, answer_body, answer_text, citations_block
from .security import BodySizeLimit, ClientRateLimiter, LoginThrottle, address_of, login_of, quiet_client_loggers
from .service import AnswerEngine, ChatEvent, ChatService, EngineFactory, Failure, Piece

log = logging.getLogger(__name__)

#: Model ids are "resolution-qa-<backend>" and, with several resolutions, "resolution-qa-<backend>:<symbol>".
MODEL_PREFIX = "resolution-qa"
#: Answers remembered to match a client's assistant messages back to them (the most recent; ~5 KB each).
MEMORY_SIZE = 2048
_ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})


class ServeError(ResolutionQAError):
    """`resolution-qa serve` could not start (port taken, address not of this machine)."""


class ApiError(Exception):
    """A request answered with an OpenAI-style error body."""

    def __init__(self, status: int, message: str, *, type: str = "invalid_request_error", param: str | None = None,
                 code: str | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.type, self.param, self.code = status, message, type, param, code
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers)


# --- the request ---------------------------------------------------------------------------------------------------


class ChatMessage(BaseModel):
    """One message of a chat completion request (text only)."""

    model_config = ConfigDict(extra="allow")

    role: str
    content: str | list[dict[str, Any]] | None = None

    def text(self, where: str) -> str:
        if self.content is None or isinstance(self.content, str):
            return self.content or ""
        parts: list[str] = []
        for part in self.content:
            if part.get("type") != "text" or not isinstance(part.get("text"), str):
                raise ApiError(400, f"{where}: only text content is supported (got a {part.get('type')!r} part)",
                               param="messages")
            parts.append(part["text"])
        return "\n".join(parts)


class ChatRequest(BaseModel):
    """The fields of OpenAI's chat completion request this server reads; others (temperature, max_tokens...) are
    accepted and ignored. `documents` (symbols) is this server's own: answer from those resolutions only."""

    model_config = ConfigDict(extra="allow")

    model: str = Field(min_length=1)
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    n: int | None = None
    documents: list[str] | None = None


def _validation_message(exc: ValidationError) -> tuple[str, str | None]:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err.get("loc", ()))
    message = err["msg"].removeprefix("Value error, ")
    if err["type"] == "missing":
        return f"missing required parameter {loc!r}", loc.split(".")[0] or None
    return (f"{loc}: {message}" if loc else message), (loc.split(".")[0] or None)


def parse_request(body: bytes) -> ChatRequest:
    """The request, or ApiError(400) saying in one line what is wrong with it."""
    try:
        raw = json.loads(body or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "not UTF-8"
        raise ApiError(400, f"the request body is not valid JSON ({reason}); send a chat completion request") from None
    if not isinstance(raw, dict):
        raise ApiError(400, "the request body must be a JSON object with 'model' and 'messages'")
    try:
        request = ChatRequest.model_validate(raw)
    except ValidationError as exc:
        message, param = _validation_message(exc)
        raise ApiError(400, message, param=param) from None
    for number, message in enumerate(request.messages):
        if message.role not in _ROLES:
            raise ApiError(400, f"messages.{number}.role: {message.role!r} is not one of "
                           f"{', '.join(sorted(_ROLES))}", param="messages")
    if request.n not in (None, 1):
        raise ApiError(400, f"n={request.n}: this server writes one answer per request; set n to 1", param="n")
    return request


# --- the conversation ----------------------------------------------------------------------------------------------


def _squash(text: str) -> str:
    return " ".join(text.split())


class AnswerMemory:
    """The answers this server gave recently, to match the assistant messages a client sends back to them."""

    def __init__(self, size: int = MEMORY_SIZE) -> None:
        self.size = size
        self._answers: OrderedDict[str, list[Answer]] = OrderedDict()
        self._count = 0
        self._lock = threading.Lock()

    def remember(self, answer: Answer) -> None:
        key = _squash(answer.question).casefold()
        with self._lock:
            self._answers.setdefault(key, []).append(answer)
            self._answers.move_to_end(key)
            self._count += 1
            while self._count > self.size and self._answers:
                _, dropped = self._answers.popitem(last=False)
                self._count -= len(dropped)

    def recall(self, question: str, content: str) -> Answer | None:
        """The answer to `question` whose text the client's `content` holds (streamed or not), or None."""
        shown = _squash(content)
        with self._lock:
            candidates = list(self._answers.get(_squash(question).casefold(), ()))
        for answer in reversed(candidates):
            if _squash(answer_body(answer)) in shown or _squash(answer.text) in shown:
                return answer
        return None


def _headings() -> re.Pattern[str]:
    names = {t.citations + t.colon for t in STRINGS.values()} | {t.closest_title + t.colon for t in STRINGS.values()}
    return re.compile(r"^(?:" + "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)) + r")\s*$",
                      re.MULTILINE)


_HEADINGS = _headings()


def formal_index(documents: Sequence[Document]) -> dict[str, Citation]:
    """Every unit by its formal citation in either language ("A/RES/75/158, par. 27", "..., para. 27")."""
    index: dict[str, Citation] = {}
    for document in documents:
        for unit in document.units:
            for lang in ("fr", "en"):
                label = unit.label(lang)
                index[formal(document.symbol, label)] = Citation(
                    id=unit.id, doc=unit.doc, label=label, text=unit.text, footnotes=unit.footnotes, source=unit.source
                )
    return index


def turn_of(question: str, content: str, citations: dict[str, Citation]) -> Turn:
    """A turn for an assistant message this server cannot match: its text, and the units its citation lines name."""
    heading = _HEADINGS.search(content)
    text = content[: heading.start()] if heading else content
    cited = [citations[m["formal"]] for m in CITATION_LINE.finditer(content[heading.start():] if heading else "")
             if m["formal"] in citations]
    unique = tuple(dict.fromkeys(cited))
    return Turn(question=question, standalone=question, answer=text.strip(), citations=unique)


# --- answering slots -----------------------------------------------------------------------------------------------


class Slots:
    """`concurrency` questions answered at once, up to `queue_max` more waiting; past that a request gets 503."""

    def __init__(self, concurrency: int, queue_max: int) -> None:
        self.concurrency, self.queue_max = concurrency, queue_max
        self._semaphore = threading.Semaphore(concurrency)
        self._lock = threading.Lock()
        self.active = 0
        self.waiting = 0

    def full(self) -> bool:
        with self._lock:
            return self.active >= self.concurrency and self.waiting >= self.queue_max

    @contextmanager
    def slot(self) -> Iterator[None]:
        with self._lock:
            self.waiting += 1
        try:
            self._semaphore.acquire()
        finally:
            with self._lock:
                self.waiting -= 1
        with self._lock:
            self.active += 1
        try:
            yield
        finally:
            with self._lock:
                self.active -= 1
            self._semaphore.release()


# --- the service ---------------------------------------------------------------------------------------------------


class SharedIndexFactory:
    """Builds one Assistant per backend on one retriever: the embedding model and the index are loaded once."""

    def __init__(self) -> None:
        self._retriever: Any = None
        self._lock = threading.Lock()

    def __call__(self, settings: Settings) -> AnswerEngine:
        from resolution_qa.assistant import Assistant  # heavy (models, index): only when the server starts

        with self._lock:
            if self._retriever is None:  # first, and kept even when this backend's model fails to load
                from resolution_qa.vectorstore import open_retriever

                self._retriever = open_retriever(settings)
            return Assistant(settings, retriever=self._retriever)


@dataclass(frozen=True)
class Model:
    """A model id this server answers as: a backend, and the resolutions it answers from (None: all)."""

    id: str
    backend: str
    docs: tuple[str, ...] | None = None


def model_id(backend: str, symbol: str | None = None) -> str:
    return f"{MODEL_PREFIX}-{backend}" + (f":{symbol}" if symbol else "")


class OpenAIService:
    """The engines behind the API (one ChatService per backend, sharing one index), the login, the limits, and the
    answers remembered for follow-ups. Thread-safe."""

    def __init__(self, settings: Settings, factory: EngineFactory | None = None,
                 backends: Sequence[str] = ("extractive",)) -> None:
        self.settings = settings
        self.login = login_of(settings.web)  # AppConfigError: half-set login, or a public host without one
        factory = factory if factory is not None else SharedIndexFactory()
        names = list(dict.fromkeys([settings.backend, *backends]))
        self.services: dict[str, ChatService] = {n: ChatService(settings.with_backend(n), factory) for n in names}
        self.memory = AnswerMemory()
        self.limiter = ClientRateLimiter(settings.web.rate_limit_per_minute)  # per client address (web/security.py)
        self.throttle = LoginThrottle.from_settings(settings.web)  # failed logins per address and per user name
        self.slots = Slots(settings.web.answer_concurrency, settings.web.queue_max_size)
        self.documents: list[Document] = []
        self.citations: dict[str, Citation] = {}
        self.started = int(time.time())

    @property
    def primary(self) -> ChatService:
        return self.services[self.settings.backend]

    def start(self) -> OpenAIService:
        """Load every engine now (the configured backend first); the documents come from its index."""
        for service in self.services.values():
            service.start()
        documents = next((d for s in self.services.values() if (d := s.documents())), None)
        self.documents = documents or [parse_file(p) for p in self.settings.documents] or [parse_file()]
        self.citations = formal_index(self.documents)
        return self

    # --- models ---------------------------------------------------------------------------------------------
    def models(self) -> list[Model]:
        found: list[Model] = []
        for backend in self.services:
            found.append(Model(model_id(backend), backend))
            if len(self.documents) > 1:
                found += [Model(model_id(backend, d.symbol), backend, (d.symbol,)) for d in self.documents]
        return found

    def model(self, name: str) -> Model:
        if name == MODEL_PREFIX:  # the bare name: the configured backend, every resolution
            return Model(model_id(self.settings.backend), self.settings.backend)
        for model in self.models():
            if model.id == name:
                return model
        choices = ", ".join(m.id for m in self.models())
        raise ApiError(404, f"the model {name!r} does not exist; choose one of {choices} (GET /v1/models)",
                       param="model", code="model_not_found")

    def describe(self, model: Model) -> dict[str, Any]:
        status = self.services[model.backend].status()
        return {"id": model.id, "object": "model", "created": self.started, "owned_by": MODEL_PREFIX,
                "backend": model.backend, "generator": status.model,
                "documents": list(model.docs) if model.docs else [d.symbol for d in self.documents]}

    def health(self) -> str:
        status = self.primary.status()
        return "down" if not status.ready else ("degraded" if status.problem else "ok")

    # --- login and limits -----------------------------------------------------------------------------------
    def authorized(self, request: Request) -> bool:
        """No login configured, or `Authorization: Bearer <password>`, or basic auth with the user and password."""
        if self.login is None:
            return True
        user, password = self.login
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        value = value.strip()
        if scheme.lower() == "bearer":
            return hmac.compare_digest(value.encode(), password.encode())
        if scheme.lower() == "basic":
            try:
                given_user, _, given_password = base64.b64decode(value, validate=True).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return False
            same_user = hmac.compare_digest(given_user.encode(), user.encode())
            return hmac.compare_digest(given_password.encode(), password.encode()) and same_user
        return False

    def check_login(self, request: Request) -> None:
        """The login, throttled like the chat app's (web/security.py LoginThrottle): past the failed-login limits of
        the client's address or of the user name, 429 before the key is compared. Only requests that present a key
        count as failures (a client that sends none is not guessing)."""
        if self.login is None:
            return
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        user = self.login[0]  # a bearer key is a guess at this user's password
        if scheme.lower() == "basic":
            with contextlib.suppress(binascii.Error, UnicodeDecodeError):
                user = base64.b64decode(value.strip(), validate=True).decode().partition(":")[0]
        address = _client(request, self.settings.web.trusted_proxies)
        verdict = self.throttle.check(address, user)
        if not verdict.allowed:
            raise ApiError(429, self.throttle.message(verdict), type="rate_limit_exceeded",
                           code="too_many_failed_logins", headers={"Retry-After": f"{verdict.retry_after_s:.0f}"})
        if not self.authorized(request):
            if scheme.lower() in ("bearer", "basic"):
                self.throttle.failed(address, user)
            raise ApiError(401, "incorrect or missing login: send the chat app's password as the API key "
                           "(Authorization: Bearer <password>) or HTTP basic auth (RESOLUTION_QA_AUTH_USER / "
                           "RESOLUTION_QA_AUTH_PASSWORD)", code="invalid_api_key",
                           headers={"WWW-Authenticate": 'Bearer realm="resolution-qa", Basic realm="resolution-qa"'})

    def check_limits(self, client: str) -> None:
        verdict = self.limiter.check(client)
        if not verdict.allowed:
            raise ApiError(429, self.limiter.message(verdict), type="rate_limit_exceeded", code="rate_limit_exceeded",
                           headers={"Retry-After": f"{verdict.retry_after_s:.0f}"})
        if self.slots.full():
            raise ApiError(503, f"the server is busy ({self.slots.concurrency} questions being answered, "
                           f"{self.slots.queue_max} waiting); try again in a minute", type="server_error",
                           code="queue_full", headers={"Retry-After": "30"})

    # --- the question -----------------------------------------------------------------------------------------
    def conversation(self, request: ChatRequest) -> tuple[str, list[Turn | Answer]]:
        """The question (the last message, a user's) and the history: earlier user messages with the assistant
        message after each, matched back to the answer this server gave when it can."""
        said = [(n, m) for n, m in enumerate(request.messages) if m.role in ("user", "assistant")]
        if not said or said[-1][1].role != "user":
            raise ApiError(400, "the last message must be the user's question (role 'user')", param="messages")
        last_n, last = said[-1]
        try:
            question = clean_question(last.text(f"messages.{last_n}"))
        except ResolutionQAError as exc:
            raise ApiError(400, f"messages.{last_n}.content: {exc}", param="messages") from None
        history: list[Turn | Answer] = []
        pending: str | None = None
        for n, message in said[:-1]:
            text = message.text(f"messages.{n}")
            if message.role == "user":
                if pending is not None:  # a question the client kept without its answer
                    history.append(Turn(question=pending, standalone=pending, answer=""))
                pending = text.strip() or None
            elif pending is not None:
                recalled = self.memory.recall(pending, text)
                history.append(recalled if recalled is not None else turn_of(pending, text, self.citations))
                pending = None
        if pending is not None:
            history.append(Turn(question=pending, standalone=pending, answer=""))
        keep = self.settings.answer.history_turns
        return question, (history[-keep:] if keep else [])

    def scope(self, model: Model, request: ChatRequest) -> list[str] | None:
        """The resolutions to answer from: the model's, narrowed by `documents`; ApiError for an unknown one."""
        known = [d.symbol for d in self.documents]
        wanted = list(model.docs or ())
        for given in request.documents or ():
            try:
                symbol = resolution_symbol(given)
            except ResolutionQAError:
                symbol = given.strip()
            if symbol not in known:
                raise ApiError(400, f"documents: {given!r} is not an indexed resolution; choose among "
                               f"{', '.join(known)}", param="documents")
            if model.docs and symbol not in model.docs:
                raise ApiError(400, f"documents: {given!r} is outside the model {model.id!r}", param="documents")
            wanted.append(symbol)
        return list(dict.fromkeys(wanted)) or None

    def events(self, backend: str, question: str, history: Sequence[Turn | Answer],
               docs: Sequence[str] | None) -> Iterator[ChatEvent]:
        """The engine's events for one question, in an answering slot; answers are remembered for follow-ups."""
        with self.slots.slot():
            for event in self.services[backend].stream(question, history, docs):  # type: ignore[arg-type]
                if isinstance(event, Answer):
                    self.memory.remember(event)
                yield event

    def failure(self, failure: Failure, backend: str) -> ApiError:
        if not self.services[backend].status().ready:
            return ApiError(503, failure.message, type="server_error", code="engine_unavailable")
        return ApiError(500, failure.message, type="server_error")


# --- the responses -------------------------------------------------------------------------------------------------


def citation_record(citation: Citation) -> dict[str, Any]:
    record = {"id": citation.id, "doc": citation.doc, "label": citation.label, "formal": citation.formal,
              "text": citation.text}
    if citation.source:
        record["source"] = citation.source
    return record


def _continuation(streamed: str, text: str) -> str | None:
    """What `text` adds after what was streamed, when it starts with it (whitespace aside); else None."""
    i = 0
    for ch in streamed:
        if ch.isspace():
            continue
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text) or text[i] != ch:
            return None
        i += 1
    rest = text[i:]
    return rest.lstrip(" ") if streamed[-1:].isspace() else rest


def stream_tail(streamed: str, answer: Answer) -> str:
    """The text to send after the streamed pieces: the rest of the checked answer (or, when the checks changed what
    was streamed, the whole checked answer after a blank line), then its citations."""
    body = answer_body(answer)
    rest = _continuation(streamed, body) if streamed.strip() else body
    if rest is None:
        rest = "\n\n" + body
    block = citations_block(answer)
    return rest + (f"\n\n{block}" if block else "")


def completion(answer: Answer, model: str) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion", "created": int(time.time()), "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": answer_text(answer)},
                     "finish_reason": "stop", "logprobs": None}],
        "citations": [citation_record(c) for c in answer.citations],
        "answer": answer.record(),
    }


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


# --- the application -----------------------------------------------------------------------------------------------


def _client(request: Request, trusted_proxies: Sequence[str] = ()) -> str:
    """The client's address as the server sees it (X-Forwarded-For only from trusted proxies): web/security.py."""
    return address_of(request, trusted_proxies)


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
    service.check_limits(_client(request, service.settings.web.trusted_proxies))
    events = service.events(model.backend, question, history, docs)
    if chat.stream:
        return StreamingResponse(sse_events(service, events, model, model.backend), media_type="text/event-stream",
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
    middleware = [Middleware(BodySizeLimit, max_bytes=service.settings.web.max_request_bytes)]
    return Starlette(routes=routes, middleware=middleware, exception_handlers={HTTPException: _not_found})


def create_api(settings: Settings, factory: EngineFactory | None = None,
               backends: Sequence[str] = ("extractive",)) -> tuple[Starlette, OpenAIService]:
    """Build the engines (loading the models once) and the application around them."""
    service = OpenAIService(settings, factory, backends).start()
    return build_api(service), service


# --- serving -------------------------------------------------------------------------------------------------------


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
