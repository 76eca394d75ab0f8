"""`resolution-qa serve`'s guard against other sites: the Host header, a browser's Origin and the Content-Type.

Without a login (the default on loopback) any web page the user visits could otherwise use the API: a cross-site
POST of text/plain needs no CORS preflight, and DNS rebinding makes a hostile name resolve to 127.0.0.1. So a request
is answered only when its Host names this server (loopback, the address it listens on, or settings.allowed_hosts; any
Host on a wildcard address when allowed_hosts is empty), its Origin (sent by browsers) names one of the same hosts,
and a POST says Content-Type: application/json (which a cross-site page cannot send without a preflight, and this
server answers no preflight). Refusals are OpenAI-style JSON errors: 403 (host or origin), 415 (content type).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from .security import LOOPBACK

#: Names that always mean this machine.
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1", *LOOPBACK})
_WILDCARDS = frozenset({"0.0.0.0", "::", ""})


def _hostname(host_header: str) -> str:
    """The host of a Host header ("127.0.0.1:7861", "[::1]:7861", "Example.org") in lower case, without the port."""
    value = host_header.strip().lower()
    if value.startswith("["):
        return value[1: value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def allowed_hosts(listen_host: str, configured: Iterable[str]) -> frozenset[str] | None:
    """The host names requests may carry; None: any (a wildcard address with no allowed_hosts configured)."""
    named = {_hostname(h) for h in configured if h.strip()}
    if listen_host.strip() in _WILDCARDS and not named:
        return None
    return frozenset({*LOOPBACK_NAMES, _hostname(listen_host), *named} - {""})


class HostOriginGuard:
    """ASGI middleware: 403 for a foreign Host or Origin, 415 for a POST whose body is not declared JSON."""

    def __init__(self, app: ASGIApp, *, listen_host: str, configured: Iterable[str] = ()) -> None:
        self.app = app
        self.hosts = allowed_hosts(listen_host, configured)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        problem = self.problem(scope.get("method", "GET"), headers)
        if problem is None:
            await self.app(scope, receive, send)
            return
        status, message, code = problem
        body = json.dumps({"error": {"message": message, "type": "invalid_request_error", "param": None,
                                     "code": code}}).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    def problem(self, method: str, headers: dict[str, str]) -> tuple[int, str, str] | None:
        """(status, one-line message, code) for a request to refuse; None to answer it."""
        host = _hostname(headers.get("host", ""))
        if self.hosts is not None and host not in self.hosts:
            return (403, f"the Host {host[:100]!r} is not a name of this server; use http://127.0.0.1 (or add the "
                    "name to RESOLUTION_QA_ALLOWED_HOSTS)", "host_not_allowed")
        origin = headers.get("origin")
        if origin is not None:
            origin_host = _hostname(urlsplit(origin.strip()).netloc) if "://" in origin else ""
            same = origin_host and (origin_host == host or (self.hosts is not None and origin_host in self.hosts))
            if not same:
                return (403, f"requests from the web page at {origin[:100]!r} are refused (another site); call the API "
                        "from a program, or from a page served by this host", "origin_not_allowed")
        if method == "POST":
            kind = headers.get("content-type", "").split(";", 1)[0].strip().lower()
            if kind != "application/json":
                return (415, f"Content-Type {kind[:60] or 'missing'!r}: send the request as JSON with "
                        "Content-Type: application/json", "unsupported_media_type")
        return None
