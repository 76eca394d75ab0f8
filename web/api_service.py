"""`resolution-qa serve`'s service: the engines behind the API (one per backend, sharing one index), the models it
answers as, the login, the limits and answering slots, and the conversation a request carries."""

from __future__ import annotations

import base64
import binascii
import contextlib
import hmac
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from resolution_qa.assistant.assistant import MAX_QUESTION_CHARS, clean_question
from resolution_qa.assistant.types import Answer, Answerer, Citation, Turn
from resolution_qa.core.errors import ResolutionQAError
from resolution_qa.core.refs import resolution_symbol
from resolution_qa.core.settings import Settings
from resolution_qa.ingest import Document, parse_file

from .api_memory import AnswerMemory, formal_index, turn_of
from .api_schema import ApiError, ChatRequest
from .security import ClientRateLimiter, LoginThrottle, address_of, login_of
from .service import ChatEvent, ChatService, EngineFactory, Failure

#: Longest earlier assistant message read back (characters): this server's answers are cut at llm_max_tokens x 12
#: characters (3,840 by default) plus their citation lines; a 60 KB earlier message cost 8-10 s of CPU (issue 20).
MAX_HISTORY_ANSWER_CHARS = 16_000

#: Model ids are "resolution-qa-<backend>" and, with several resolutions, "resolution-qa-<backend>:<symbol>".
MODEL_PREFIX = "resolution-qa"


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


class SharedIndexFactory:
    """Builds one Assistant per backend on one retriever: the embedding model and the index are loaded once."""

    def __init__(self) -> None:
        self._retriever: Any = None
        self._lock = threading.Lock()

    def __call__(self, settings: Settings) -> Answerer:
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
        shown = name if len(name) <= 80 else name[:80] + "…"  # never echoed whole: a 60 KB name came back as 60 KB
        raise ApiError(404, f"the model {shown!r} does not exist; choose one of {choices} (GET /v1/models)",
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
        address = client_of(request, self.settings.web.trusted_proxies)
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
            limit = MAX_QUESTION_CHARS if message.role == "user" else MAX_HISTORY_ANSWER_CHARS
            if len(text) > limit:  # the history is rewritten and embedded: its cost grows with its length
                raise ApiError(400, f"messages.{n}.content: an earlier {message.role} message of {len(text)} "
                               f"characters; earlier messages are limited to {limit} (send the conversation as it "
                               "was asked and answered)", param="messages")
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
            for event in self.services[backend].stream(question, history, docs):
                if isinstance(event, Answer):
                    self.memory.remember(event)
                yield event

    def failure(self, failure: Failure, backend: str) -> ApiError:
        if not self.services[backend].status().ready:
            return ApiError(503, failure.message, type="server_error", code="engine_unavailable")
        return ApiError(500, failure.message, type="server_error")


def client_of(request: Request, trusted_proxies: Sequence[str] = ()) -> str:
    """The client's address as the server sees it (X-Forwarded-For only from trusted proxies): web/security.py."""
    return address_of(request, trusted_proxies)
