"""The chat app's locks: login from settings, a body-size cap, per-session rate limits, quiet HTTP loggers."""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass

from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from resolution_qa.core.errors import ResolutionQAError
from resolution_qa.core.settings import WebSettings

#: Hosts that only this machine can reach.
LOOPBACK: frozenset[str] = frozenset({"127.0.0.1", "localhost", "::1"})

#: Client libraries that log request bodies (the full prompt) and headers at DEBUG: kept at WARNING
#: whatever level the root logger is set to.
CHATTY_LOGGERS: tuple[str, ...] = ("openai", "httpx", "httpcore", "ollama", "urllib3", "langchain", "langsmith")


class AppConfigError(ResolutionQAError):
    """The chat app's settings are unsafe or incomplete (half-set login, public host without login)."""


def login_of(web: WebSettings, *, share: bool = False) -> tuple[str, str] | None:
    """The (user, password) Gradio asks for, or None when no login is configured.

    Raises AppConfigError when only one of the two is set, and when the app would be reachable from
    other machines (a non-loopback host, or a public share link) without a login, unless
    allow_public_without_auth says so.
    """
    user = (web.auth_user or "").strip()
    password = web.auth_password.get_secret_value() if web.auth_password is not None else ""
    if bool(user) != bool(password):
        missing = "RESOLUTION_QA_AUTH_PASSWORD" if user else "RESOLUTION_QA_AUTH_USER"
        raise AppConfigError(f"a login needs both a user and a password; set {missing} too (or unset both)")
    exposed = "a public share link" if share else (web.host if web.host not in LOOPBACK else None)
    if not user and exposed and not web.allow_public_without_auth:
        raise AppConfigError(
            f"refusing to serve on {exposed} without a login: set RESOLUTION_QA_AUTH_USER and "
            "RESOLUTION_QA_AUTH_PASSWORD, or RESOLUTION_QA_ALLOW_PUBLIC_WITHOUT_AUTH=true"
        )
    return (user, password) if user else None


def quiet_client_loggers() -> None:
    """Keep HTTP/LLM client libraries from logging prompts, API keys or bodies at DEBUG/INFO."""
    for name in CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


# --- request size --------------------------------------------------------------------------------


class BodySizeLimit:
    """ASGI middleware: a request body over `max_bytes` gets 413 before any route reads it.

    A declared Content-Length is checked up front; a chunked body is counted as it arrives, and once
    over the limit the route sees a disconnected client while the caller gets the 413.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(send)
            return
        received = 0
        started = refused = False

        async def counted_receive() -> Message:
            nonlocal received, started, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    refused = True
                    if not started:
                        started = True
                        await self._refuse(send)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 went out already; what the route answers to a "disconnected" client is dropped
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, counted_receive, guarded_send)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps({
            "error": f"request body larger than {self.max_bytes} bytes; ask a shorter question "
            "(RESOLUTION_QA_MAX_REQUEST_BYTES sets the limit)"
        }).encode()
        await send({
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                        (b"connection", b"close")],
        })
        await send({"type": "http.response.body", "body": body})


# --- rate limit -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """Whether a session may ask now, and if not, when it may."""

    allowed: bool
    retry_after_s: float = 0.0


class SessionRateLimiter:
    """At most `per_minute` questions per session in any 60 s (moving window); 0 means no limit."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._item = RateLimitItemPerMinute(per_minute) if per_minute > 0 else None
        self._limiter = MovingWindowRateLimiter(MemoryStorage())  # expired windows are dropped by the storage
        self._lock = threading.Lock()

    def check(self, session: str) -> Verdict:
        """Count one question for `session`; refused questions are not counted."""
        if self._item is None:
            return Verdict(True)
        with self._lock:
            if self._limiter.hit(self._item, "question", session):
                return Verdict(True)
            reset = self._limiter.get_window_stats(self._item, "question", session).reset_time
        return Verdict(False, max(1.0, reset - time.time()))

    def message(self, verdict: Verdict) -> str:
        return (
            f"Too many questions: this session may ask {self.per_minute} per minute. "
            f"Try again in {verdict.retry_after_s:.0f} s. · Trop de questions : {self.per_minute} par minute "
            f"et par session ; réessayez dans {verdict.retry_after_s:.0f} s."
        )
