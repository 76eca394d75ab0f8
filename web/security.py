"""The web locks, for the chat app and any Starlette/FastAPI app of ours (`resolution-qa serve`): login from settings,
login throttling, a body-size cap, per-client rate limits, the client's address, quiet HTTP loggers.

Everything here is a plain class or an ASGI middleware, so another app uses the same login and limits:

- `client_address(...)` / `address_of(request_or_scope, trusted_proxies)`: the client's address as the server sees
  it, a key the client cannot choose (X-Forwarded-For is believed only from configured proxies);
- `LoginThrottle`: failed logins counted per address and per user name, refused past either limit (HTTP 429);
  `LoginGuard` applies it to a form login route (Gradio's POST /login) without touching the route;
- `ClientRateLimiter`: questions per client address and minute;
- `guard_middleware(web)`: the middleware list an app installs (body-size cap, then the login guard).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from limits import RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.middleware import Middleware
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
    over the limit the route sees a disconnected client while the caller gets the 413. `routes` gives
    some paths a cap of their own (the upload route, whose body is a file: web/upload.py).
    """

    def __init__(self, app: ASGIApp, max_bytes: int, routes: dict[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.routes = dict(routes or {})

    def _limit(self, scope: Scope) -> int:
        path, root = scope.get("path", ""), scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root):]
        return self.routes.get(path.rstrip("/") or "/", self.max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await self._refuse(send, limit)
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
                if received > limit:
                    refused = True
                    if not started:
                        started = True
                        await self._refuse(send, limit)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 went out already; what the route answers to a "disconnected" client is dropped
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, counted_receive, guarded_send)

    async def _refuse(self, send: Send, limit: int) -> None:
        hint = "ask a shorter question (RESOLUTION_QA_MAX_REQUEST_BYTES sets the limit)" if limit == self.max_bytes \
            else "give a smaller file"
        body = json.dumps({"error": f"request body larger than {limit} bytes; {hint}"}).encode()
        await send({
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                        (b"connection", b"close")],
        })
        await send({"type": "http.response.body", "body": body})


# --- the client's address ------------------------------------------------------------------------------

#: The key of every client whose request carries X-Forwarded-For when no proxy is configured: such a header is
#: the client's to write, and uvicorn (trusting loopback peers by default) may already have put it in place of the
#: peer's address. All of them share one budget, so rotating the header buys nothing.
FORWARDED_UNTRUSTED = "forwarded-by-an-unconfigured-proxy"


def _networks(trusted: Iterable[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    networks = []
    for item in trusted:
        try:
            networks.append(ipaddress.ip_network(item.strip(), strict=False))
        except ValueError:
            continue  # settings validation names a bad entry; here it simply trusts nothing
    return networks


def _within(address: str, networks: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip().strip("[]"))
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(peer: str | None, forwarded: Sequence[str], trusted_proxies: Sequence[str] = ()) -> str:
    """The address to count a client by: the peer that connected, unless it is a configured proxy.

    `forwarded`: the X-Forwarded-For header values. With no trusted proxy, a request carrying the header counts as
    FORWARDED_UNTRUSTED (one shared budget); with trusted proxies, the chain is walked from the right past them and
    the first address they did not add is the client.
    """
    hops = [hop.strip() for value in forwarded for hop in value.split(",") if hop.strip()]
    if not trusted_proxies:
        return FORWARDED_UNTRUSTED if hops else (peer or "unknown")
    networks = _networks(trusted_proxies)
    chain = [*hops, peer or "unknown"]
    for address in reversed(chain):
        if not _within(address, networks):
            return address
    return chain[0]  # every hop is a proxy of ours: the leftmost one


def address_of(request: Any, trusted_proxies: Sequence[str] = ()) -> str:
    """client_address() of an ASGI scope, a Starlette/FastAPI Request or a gr.Request ("anonymous" for None)."""
    if request is None:
        return "anonymous"
    if isinstance(request, dict):  # an ASGI scope
        client = request.get("client")
        peer = client[0] if client else None
        forwarded = [v.decode("latin-1") for k, v in request.get("headers") or [] if k == b"x-forwarded-for"]
        return client_address(peer, forwarded, trusted_proxies)
    client = getattr(request, "client", None)
    peer = client.get("host") if isinstance(client, dict) else getattr(client, "host", None)
    headers = getattr(request, "headers", None) or {}
    if hasattr(headers, "getlist"):
        forwarded = list(headers.getlist("x-forwarded-for"))
    else:
        value = headers.get("x-forwarded-for") if hasattr(headers, "get") else None
        forwarded = [value] if value else []
    return client_address(peer, forwarded, trusted_proxies)


def client_key(request: Any, web: WebSettings) -> str:
    """What the chat app's question limit counts by: the client's address (never Gradio's session hash, which the
    client chooses: 30 fresh sessions from one address were 30 budgets)."""
    return address_of(request, web.trusted_proxies)


# --- rate limit -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """Whether a client may go on now, and if not, when it may."""

    allowed: bool
    retry_after_s: float = 0.0


class ClientRateLimiter:
    """At most `per_minute` questions per key (a client address: `client_key`) in any 60 s, moving window; 0: no
    limit. Expired windows are dropped by the storage, so memory follows the clients of the last minute."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._item = RateLimitItemPerMinute(per_minute) if per_minute > 0 else None
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._lock = threading.Lock()

    def check(self, key: str) -> Verdict:
        """Count one question for `key`; refused questions are not counted."""
        if self._item is None:
            return Verdict(True)
        with self._lock:
            if self._limiter.hit(self._item, "question", key):
                return Verdict(True)
            reset = self._limiter.get_window_stats(self._item, "question", key).reset_time
        return Verdict(False, max(1.0, reset - time.time()))

    def message(self, verdict: Verdict) -> str:
        return (
            f"Too many questions: at most {self.per_minute} per minute from one address. "
            f"Try again in {verdict.retry_after_s:.0f} s. · Trop de questions : {self.per_minute} par minute "
            f"au plus depuis une même adresse ; réessayez dans {verdict.retry_after_s:.0f} s."
        )


#: The name web/app.py knows it by (it counted per Gradio session before).
SessionRateLimiter = ClientRateLimiter


# --- login throttling --------------------------------------------------------------------------------


class LoginThrottle:
    """Failed logins counted per client address and per user name over a moving window of `window_s`.

    Past `per_address` failures from an address, or `per_user` failures for a user name (from every address
    together), further attempts are refused before any password is compared, until the window frees up; 0 turns
    that count off. Nothing is reset by a success: logging into one's own account must not buy more guesses at
    another. Memory follows the failures of the last window (expired ones are dropped by the storage).
    """

    def __init__(self, per_address: int, per_user: int, window_s: float) -> None:
        self.per_address, self.per_user, self.window_s = per_address, per_user, window_s
        seconds = max(1, round(window_s))
        self._items = {
            "address": RateLimitItemPerSecond(per_address, seconds) if per_address > 0 else None,
            "user": RateLimitItemPerSecond(per_user, seconds) if per_user > 0 else None,
        }
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, web: WebSettings) -> LoginThrottle:
        return cls(web.login_failures_per_address, web.login_failures_per_user, web.login_window_s)

    @staticmethod
    def _user(user: str) -> str:
        return (user or "").strip().casefold()[:256]

    def _keys(self, address: str, user: str) -> list[tuple[Any, str]]:
        pairs = [(self._items["address"], address), (self._items["user"], self._user(user))]
        return [(item, key) for item, key in pairs if item is not None]

    def check(self, address: str, user: str) -> Verdict:
        """May this address try to log in as `user` now? (Counts nothing.)"""
        with self._lock:
            waits = [
                self._limiter.get_window_stats(item, "login", key).reset_time - time.time()
                for item, key in self._keys(address, user)
                if not self._limiter.test(item, "login", key)
            ]
        return Verdict(True) if not waits else Verdict(False, max(1.0, max(waits)))

    def failed(self, address: str, user: str) -> None:
        """Count one failed login."""
        with self._lock:
            for item, key in self._keys(address, user):
                self._limiter.hit(item, "login", key)

    def message(self, verdict: Verdict) -> str:
        return (
            f"Too many failed logins; try again in {verdict.retry_after_s:.0f} s. · Trop de connexions échouées ; "
            f"réessayez dans {verdict.retry_after_s:.0f} s."
        )


#: Largest login form read by LoginGuard (a user name and a password).
_LOGIN_BODY_BYTES = 16384


async def _send_json(send: Send, status: int, payload: dict[str, Any], headers: Sequence[tuple[bytes, bytes]] = ()) -> None:
    body = json.dumps(payload, ensure_ascii=False).encode()
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *headers],
    })
    await send({"type": "http.response.body", "body": body})


class LoginGuard:
    """ASGI middleware: throttles a form login route (Gradio's POST /login) with a LoginThrottle.

    It reads the form's `username`, refuses with 429 (and Retry-After) when the address or the name is over its
    limit, and otherwise lets the route check the password, counting a refusal (400/401/403) as a failure.
    """

    def __init__(self, app: ASGIApp, throttle: LoginThrottle, trusted_proxies: Sequence[str] = (),
                 paths: Sequence[str] = ("/login", "/login/")) -> None:
        self.app = app
        self.throttle = throttle
        self.trusted_proxies = tuple(trusted_proxies)
        self.paths = frozenset(paths)

    def _guarded(self, scope: Scope) -> bool:
        if scope["type"] != "http" or scope.get("method") != "POST":
            return False
        path, root = scope.get("path", ""), scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root):]
        return path in self.paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._guarded(scope):
            await self.app(scope, receive, send)
            return
        body = b""
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if len(body) > _LOGIN_BODY_BYTES:
                await _send_json(send, 413, {"detail": "login form too large"}, [(b"connection", b"close")])
                return
            if not message.get("more_body"):
                break
        address = address_of(scope, self.trusted_proxies)
        user = await _form_user(scope, body)
        verdict = self.throttle.check(address, user)
        if not verdict.allowed:
            retry = str(int(verdict.retry_after_s + 0.999)).encode()
            await _send_json(send, 429, {"detail": self.throttle.message(verdict)}, [(b"retry-after", retry)])
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        status = 0

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, replay, watch)
        if status in (400, 401, 403):
            self.throttle.failed(address, user)


async def _form_user(scope: Scope, body: bytes) -> str:
    """The `username` field of a login form (urlencoded or multipart); "" when there is none."""
    content_type = dict(scope.get("headers") or []).get(b"content-type", b"").decode("latin-1")
    if content_type.startswith("application/x-www-form-urlencoded"):
        return (parse_qs(body.decode("utf-8", "replace")).get("username") or [""])[0]
    if content_type.startswith("multipart/form-data"):
        from starlette.requests import Request

        async def once() -> Message:
            return {"type": "http.request", "body": body, "more_body": False}

        try:
            form = await Request(scope, once).form()
            value = form.get("username")
            return value if isinstance(value, str) else ""
        except Exception:  # a malformed form: the route refuses it; it still counts against the address
            return ""
    return ""


def guard_middleware(web: WebSettings, routes: dict[str, int] | None = None) -> list[Middleware]:
    """The middleware a web app of ours installs, outermost first: the body-size cap (`routes`: paths with a cap of
    their own, e.g. the chat app's upload route when it takes resolutions), then the login guard."""
    return [
        Middleware(BodySizeLimit, max_bytes=web.max_request_bytes, routes=routes),
        Middleware(LoginGuard, throttle=LoginThrottle.from_settings(web), trusted_proxies=web.trusted_proxies),
    ]
