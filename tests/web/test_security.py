"""The chat app locked down, over real HTTP on 127.0.0.1: login, size and rate limits, no files, no secrets in logs."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError
from pydantic import SecretStr

from resolution_qa.assistant.assistant import MAX_QUESTION_CHARS
from resolution_qa.assistant.prompts import READER_SYSTEM
from resolution_qa.assistant.types import Answerer
from resolution_qa.core.settings import Settings
from resolution_qa.ingest import Document
from resolution_qa.web.app import Conversation
from resolution_qa.web.security import (
    FORWARDED_UNTRUSTED,
    AppConfigError,
    ClientRateLimiter,
    LoginThrottle,
    SessionRateLimiter,
    address_of,
    client_address,
    guard_middleware,
    login_of,
)
from resolution_qa.web.service import ChatService
from tests.fakes import EchoEngine, FakeLLMServer, SlowEngine
from tests.support import cli_command, free_port, launch_app, run_cli

PASSWORD = "pw-Zq81-never-in-logs"
USER = "reader"


@pytest.fixture
def serve(settings: Settings, document: Document) -> Iterator[Callable[..., str]]:
    """Serve the app around an engine with settings overrides on a free loopback port; returns its URL."""
    demos = []

    def start(engine: Answerer, **overrides: object) -> str:
        app_settings = settings.model_copy(update={"port": free_port(), **overrides})
        service = ChatService(app_settings, lambda _: engine)
        service.start()
        demo, url = launch_app(service, [document], app_settings)
        demos.append(demo)
        return url

    yield start
    for demo in demos:
        demo.close()


# --- login -----------------------------------------------------------------------------------------


def test_login_settings_are_checked(settings: Settings) -> None:
    assert login_of(settings) is None  # loopback, no login: fine
    both = settings.model_copy(update={"auth_user": USER, "auth_password": SecretStr(PASSWORD)})
    assert login_of(both) == (USER, PASSWORD)
    with pytest.raises(AppConfigError, match="RESOLUTION_QA_AUTH_PASSWORD"):
        login_of(settings.model_copy(update={"auth_user": USER}))
    public = settings.model_copy(update={"host": "0.0.0.0"})
    with pytest.raises(AppConfigError, match="without a login"):
        login_of(public)
    assert login_of(public.model_copy(update={"allow_public_without_auth": True})) is None
    with pytest.raises(AppConfigError, match="public share link without a login"):
        login_of(settings, share=True)
    assert login_of(both, share=True) == (USER, PASSWORD)
    assert login_of(Settings(auth_user=USER, auth_password=PASSWORD, host="0.0.0.0")) == (USER, PASSWORD)


def test_password_is_a_secret_in_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESOLUTION_QA_AUTH_USER", USER)
    monkeypatch.setenv("RESOLUTION_QA_AUTH_PASSWORD", PASSWORD)
    settings = Settings()
    assert PASSWORD not in repr(settings) and PASSWORD not in str(settings.model_dump())
    assert login_of(settings) == (USER, PASSWORD)


@pytest.mark.server
def test_wrong_or_no_credentials_are_refused_and_right_ones_accepted(
    serve, document: Document, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    engine = EchoEngine(document)
    url = serve(engine, auth_user=USER, auth_password=SecretStr(PASSWORD))
    with httpx.Client(base_url=url, timeout=30) as anonymous:
        assert anonymous.get("config").status_code == 401
        assert anonymous.post("gradio_api/queue/join", json={"data": ["par. 27 ?", None], "fn_index": 0,
                                                             "session_hash": "x"}).status_code == 401
        wrong = anonymous.post("login", data={"username": USER, "password": PASSWORD + "x"})
        assert wrong.status_code == 400 and PASSWORD not in wrong.text
        assert anonymous.post("login", data={"username": "root", "password": PASSWORD}).status_code == 400
        assert anonymous.get("config").status_code == 401
    with pytest.raises(Exception, match="(?i)login|credentials|auth"):
        Client(url, auth=(USER, "guess"), verbose=False)
    result = Client(url, auth=(USER, PASSWORD), verbose=False).predict("Que dit le paragraphe 27 ?", api_name="/ask")
    assert result["citations"][0]["id"] == "OP27"
    assert engine.questions == ["Que dit le paragraphe 27 ?"]  # the refused requests never reached the engine
    out, err = capfd.readouterr()
    assert PASSWORD not in caplog.text and PASSWORD not in out and PASSWORD not in err


def _no_models_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "RESOLUTION_QA_MODELS_DIR": str(tmp_path / "no-models"),
            "RESOLUTION_QA_INDEX_DIR": str(tmp_path / "index"), "RESOLUTION_QA_BACKEND": "extractive",
            "PYTHONUNBUFFERED": "1", **extra}


@pytest.mark.server
def test_cli_refuses_a_public_host_without_login_and_never_prints_the_password(tmp_path: Path) -> None:
    public = run_cli("chat", "--host", "0.0.0.0", env=_no_models_env(tmp_path), timeout=120)
    assert public.returncode == 2 and "Traceback" not in public.stderr
    assert public.stderr.strip().splitlines()[-1].startswith("error: refusing to serve on 0.0.0.0 without a login")
    half = run_cli("chat", env=_no_models_env(tmp_path, RESOLUTION_QA_AUTH_PASSWORD=PASSWORD), timeout=120)
    assert half.returncode == 2 and "RESOLUTION_QA_AUTH_USER" in half.stderr and PASSWORD not in half.stderr

    port = free_port()
    env = _no_models_env(tmp_path, RESOLUTION_QA_AUTH_USER=USER, RESOLUTION_QA_AUTH_PASSWORD=PASSWORD)
    process = subprocess.Popen(cli_command("chat", "--port", str(port)), env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    statuses: list[int] = []
    try:
        deadline = time.monotonic() + 120
        with httpx.Client(base_url=f"http://127.0.0.1:{port}/", timeout=5) as client:
            while time.monotonic() < deadline and process.poll() is None:
                try:
                    client.get("/")
                    break
                except httpx.TransportError:
                    time.sleep(0.5)
            statuses.append(client.get("config").status_code)
            statuses.append(client.post("login", data={"username": USER, "password": "nope"}).status_code)
            statuses.append(client.post("login", data={"username": USER, "password": PASSWORD}).status_code)
            statuses.append(client.get("config").status_code)
    finally:
        process.terminate()
        output = process.communicate(timeout=30)[0]
    assert statuses == [401, 400, 200, 200], (statuses, output)
    assert "login required" in output
    assert PASSWORD not in output and USER not in output


# --- request size ------------------------------------------------------------------------------------


@pytest.mark.server
def test_a_multi_megabyte_body_is_refused_before_any_handler(serve, document: Document) -> None:
    engine = EchoEngine(document)
    url = serve(engine)
    big = "x" * (3 * 1024 * 1024)
    payload = {"data": [big, None], "fn_index": 0, "session_hash": "big"}
    with httpx.Client(base_url=url, timeout=60) as client:
        declared = client.post("gradio_api/queue/join", json=payload)
        assert declared.status_code == 413 and "RESOLUTION_QA_MAX_REQUEST_BYTES" in declared.text

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
            body = json.dumps(payload).encode()
            for i in range(0, len(body), 256 * 1024):
                yield body[i : i + 256 * 1024]

        chunked = client.post("gradio_api/queue/join", content=chunks(), headers={"content-type": "application/json"})
        assert chunked.status_code == 413
        upload = client.post("gradio_api/upload", files={"files": ("big.txt", big.encode())})
        assert upload.status_code == 413
    assert engine.questions == []
    # A normal question still gets through afterwards.
    assert Client(url, verbose=False).predict("Que dit le paragraphe 27 ?", api_name="/ask")["citations"]


@pytest.mark.server
def test_an_overlong_question_gets_a_clear_message_not_an_answer(serve, document: Document) -> None:
    engine = EchoEngine(document)
    client = Client(serve(engine), verbose=False)
    question = "a" * (MAX_QUESTION_CHARS + 1)
    box, chat, _, _ = client.predict(question, api_name="/chat")
    assert box == {"__type__": "update"}  # the box is left as it is, to shorten the question
    bubble = str(chat[-1]["content"])
    assert 'class="failure"' in bubble and f"shorter than {MAX_QUESTION_CHARS}" in bubble
    assert len(str(chat[-2]["content"])) < 400  # the echoed question is cut
    with pytest.raises(AppError, match=f"shorter than {MAX_QUESTION_CHARS}"):
        client.predict(question, api_name="/ask")
    assert engine.questions == []


# --- rate limit --------------------------------------------------------------------------------------


def test_rate_limiter_counts_per_key_in_a_moving_minute() -> None:
    limiter = ClientRateLimiter(2)
    assert limiter.check("10.0.0.1").allowed and limiter.check("10.0.0.1").allowed
    refused = limiter.check("10.0.0.1")
    assert not refused.allowed and 1 <= refused.retry_after_s <= 60
    assert "2 per minute" in limiter.message(refused) and "réessayez" in limiter.message(refused)
    assert limiter.check("10.0.0.2").allowed  # another client has its own budget
    unlimited = ClientRateLimiter(0)
    assert all(unlimited.check("a").allowed for _ in range(100))
    assert SessionRateLimiter is ClientRateLimiter  # the name web/app.py imports


@pytest.mark.server
def test_rate_limit_is_a_friendly_chat_message_per_client_address(serve, document: Document) -> None:
    """Was: keyed on Gradio's session hash, which the client chooses: 30 fresh sessions from one address in 77 s,
    none limited. Now a fresh session from the same address shares its budget."""
    engine = EchoEngine(document)
    url = serve(engine, rate_limit_per_minute=3)
    client = Client(url, verbose=False)
    for n in range(3):
        _, chat, _, _ = client.predict(f"Question {n}", api_name="/chat")
        assert 'class="failure"' not in str(chat[-1]["content"])
    box, chat, _, _ = client.predict("Question 3", api_name="/chat")
    bubble = str(chat[-1]["content"])
    assert 'class="failure"' in bubble and "3 per minute" in bubble and "Traceback" not in bubble
    assert box == {"__type__": "update"}  # left in the box, to send again later
    assert engine.questions == ["Question 0", "Question 1", "Question 2"]
    with pytest.raises(AppError, match="3 per minute"):
        client.predict("Question 4", api_name="/ask")
    # A fresh session (a new session hash, chosen by the client) from the same address is held back too.
    _, chat, _, _ = Client(url, verbose=False).predict("Question A", api_name="/chat")
    assert 'class="failure"' in str(chat[-1]["content"])
    assert engine.questions == ["Question 0", "Question 1", "Question 2"]


# --- the client's address, login throttling (plain classes, for the chat app and `resolution-qa serve`) ------------


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "expected"),
    [
        ("203.0.113.9", [], [], "203.0.113.9"),
        ("203.0.113.9", ["198.51.100.1"], [], FORWARDED_UNTRUSTED),  # the header is the client's to write
        ("198.51.100.1", ["198.51.100.1"], [], FORWARDED_UNTRUSTED),  # uvicorn may have put it in the peer's place
        ("10.0.0.5", ["1.1.1.1, 203.0.113.9"], ["10.0.0.0/8"], "203.0.113.9"),  # the proxy appended the client
        ("203.0.113.9", ["1.1.1.1, 203.0.113.9"], ["127.0.0.1"], "203.0.113.9"),  # uvicorn rewrote, walk agrees
        ("203.0.113.7", ["1.1.1.1"], ["10.0.0.0/8"], "203.0.113.7"),  # not from a proxy of ours: header ignored
        ("10.0.0.5", ["10.0.0.6"], ["10.0.0.0/8"], "10.0.0.6"),  # proxies all the way: the leftmost
        (None, [], [], "unknown"),
    ],
)
def test_the_client_address_is_not_the_clients_to_choose(peer, forwarded, trusted, expected) -> None:
    assert client_address(peer, forwarded, trusted) == expected


def test_address_of_reads_scopes_and_requests() -> None:
    scope = {"type": "http", "client": ("127.0.0.2", 5000), "headers": [(b"x-forwarded-for", b"9.9.9.9")]}
    assert address_of(scope) == FORWARDED_UNTRUSTED and address_of(scope, ["127.0.0.0/8"]) == "9.9.9.9"
    assert address_of({"type": "http", "client": ("127.0.0.2", 5000), "headers": []}) == "127.0.0.2"
    assert address_of(None) == "anonymous"


def test_login_throttle_counts_failures_per_address_and_per_user() -> None:
    throttle = LoginThrottle(per_address=3, per_user=5, window_s=300)
    for _ in range(3):
        assert throttle.check("10.0.0.1", USER).allowed
        throttle.failed("10.0.0.1", USER)
    refused = throttle.check("10.0.0.1", "someone-else")  # the address is out of tries, whatever the name
    assert not refused.allowed and 200 < refused.retry_after_s <= 300 and "réessayez" in throttle.message(refused)
    assert throttle.check("10.0.0.2", USER).allowed  # 3 failures for the name: under its limit of 5
    throttle.failed("10.0.0.2", USER)
    throttle.failed("10.0.0.3", f" {USER.upper()} ")  # the same name, however written
    assert not throttle.check("10.0.0.4", USER).allowed  # guessing spread over addresses stops at 5 for the name
    assert throttle.check("10.0.0.4", "other").allowed
    off = LoginThrottle(per_address=0, per_user=0, window_s=300)
    for _ in range(50):
        off.failed("10.0.0.1", USER)
    assert off.check("10.0.0.1", USER).allowed


def _starlette_app(web_settings) -> object:
    """A small app built like `resolution-qa serve`: the login route behind guard_middleware, the question route
    counting per client address."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    limiter = ClientRateLimiter(web_settings.rate_limit_per_minute)
    reached: list[str] = []

    async def login(request: Request) -> JSONResponse:
        form = await request.form()
        reached.append(str(form.get("username")))
        good = form.get("username") == USER and form.get("password") == PASSWORD
        return JSONResponse({"success": good}, status_code=200 if good else 400)

    async def ask(request: Request) -> JSONResponse:
        verdict = limiter.check(address_of(request, web_settings.trusted_proxies))
        if not verdict.allowed:
            return JSONResponse({"error": limiter.message(verdict)}, status_code=429)
        return JSONResponse({"answer": "ok"})

    app = Starlette(routes=[Route("/login", login, methods=["POST"]), Route("/ask", ask, methods=["POST"])],
                    middleware=guard_middleware(web_settings))
    app.state.reached = reached
    return app


@pytest.fixture
def starlette_url(settings: Settings) -> Iterator[Callable[..., tuple[str, object]]]:
    """Serve _starlette_app on a free loopback port with settings overrides: (its URL, the app)."""
    import threading

    import uvicorn

    servers = []

    def start(**overrides: object) -> tuple[str, object]:
        app = _starlette_app(settings.model_copy(update=overrides).web)
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        servers.append((server, thread))
        return f"http://127.0.0.1:{port}", app

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(timeout=10)


def _from(address: str, url: str) -> httpx.Client:
    """An HTTP client whose connections come from `address` (any 127.x.y.z is this machine on Linux)."""
    return httpx.Client(base_url=url, timeout=30, transport=httpx.HTTPTransport(local_address=address))


@pytest.mark.server
def test_200_wrong_passwords_are_throttled_over_http(starlette_url) -> None:
    """Was: 200 wrong passwords in 4 s, none refused. Now the address gets 5 tries per window, then 429 with
    Retry-After before any password is compared; another address still logs in; the name itself locks after 20."""
    url, app = starlette_url(login_failures_per_address=5, login_failures_per_user=20, login_window_s=300)
    with _from("127.0.0.1", url) as attacker:
        statuses = [attacker.post("/login", data={"username": USER, "password": f"guess{n}"}).status_code
                    for n in range(200)]
        right = attacker.post("/login", data={"username": USER, "password": PASSWORD})
    assert statuses[:5] == [400] * 5 and set(statuses[5:]) == {429}
    assert right.status_code == 429 and 200 < int(right.headers["retry-after"]) <= 300
    assert "Too many failed logins" in right.json()["detail"]
    assert len(app.state.reached) == 5  # the 195 others never reached the password check
    # Spoofing X-Forwarded-For buys nothing (no proxy configured): one shared budget for all such requests.
    with _from("127.0.0.1", url) as spoofer:
        spoofed = [spoofer.post("/login", data={"username": "x", "password": "y"},
                                headers={"x-forwarded-for": f"198.51.100.{n}"}).status_code for n in range(10)]
    assert spoofed.count(400) == 5 and spoofed.count(429) == 5
    with _from("127.0.0.2", url) as user:  # the real user, from elsewhere
        assert user.post("/login", data={"username": USER, "password": PASSWORD}).status_code == 200
    # Guessing spread over addresses: the name is refused past 20 failures, whoever asks.
    for n in range(3, 6):
        with _from(f"127.0.0.{n}", url) as other:
            for _ in range(5):
                other.post("/login", data={"username": USER, "password": "nope"})
    with _from("127.0.0.9", url) as fresh:
        assert fresh.post("/login", data={"username": USER, "password": "nope"}).status_code == 429
        assert fresh.post("/login", data={"username": "someone", "password": "nope"}).status_code == 400


@pytest.mark.server
def test_fresh_sessions_from_one_address_share_its_question_limit_over_http(starlette_url) -> None:
    """Was: 30 fresh Gradio sessions from one address in 77 s, none limited (the key was the session hash)."""
    url, _ = starlette_url(rate_limit_per_minute=5)
    with _from("127.0.0.1", url) as client:
        statuses = [client.post("/ask", json={"question": "q", "session_hash": f"fresh-{n}"},
                                headers={"x-forwarded-for": f"203.0.113.{n}"} if n % 2 else {}).status_code
                    for n in range(30)]
    # 5 from the address itself, 5 from the shared budget of unconfigured X-Forwarded-For requests
    assert statuses.count(200) == 10 and statuses.count(429) == 20
    with _from("127.0.0.2", url) as other:
        assert other.post("/ask", json={"question": "q"}).status_code == 200  # another address: its own budget


@pytest.mark.server
def test_the_login_guard_throttles_gradios_own_login_route(settings: Settings, document: Document) -> None:
    """The guard in front of Gradio's real POST /login (form-encoded as gradio_client sends it, multipart as the
    browser does), installed the way web/app.py's launch() installs middleware."""
    engine = EchoEngine(document)
    app_settings = settings.model_copy(update={"port": free_port(), "auth_user": USER,
                                               "auth_password": SecretStr(PASSWORD)})
    service = ChatService(app_settings, lambda _: engine)
    service.start()
    from resolution_qa.web.app import build_app

    demo = build_app(service, [document], app_settings)
    demo.queue()
    demo.launch(server_name="127.0.0.1", server_port=app_settings.port, prevent_thread_lock=True, quiet=True,
                auth=login_of(app_settings.web), ssr_mode=False,
                app_kwargs={"middleware": guard_middleware(app_settings.web)})
    url = f"http://127.0.0.1:{app_settings.port}/"
    try:
        with _from("127.0.0.1", url) as attacker:
            form = [attacker.post("login", data={"username": USER, "password": "nope"}).status_code for _ in range(4)]
            multipart = attacker.post("login", files={"username": (None, USER), "password": (None, "nope")})
            after = attacker.post("login", data={"username": USER, "password": PASSWORD})
        assert form == [400] * 4 and multipart.status_code == 400 and after.status_code == 429
        with _from("127.0.0.2", url) as user:
            assert user.post("login", data={"username": USER, "password": PASSWORD}).status_code == 200
            assert user.get("config").status_code == 200  # logged in: the cookie works
    finally:
        demo.close()


# --- no files reachable ----------------------------------------------------------------------------


@pytest.mark.server
def test_no_file_on_disk_is_reachable(serve, settings: Settings, document: Document, tmp_path: Path) -> None:
    secret = "SECRET-FILE-CONTENT-41"
    index_file = settings.index_dir / "chroma.sqlite3"
    index_file.parent.mkdir(parents=True, exist_ok=True)
    index_file.write_text(secret)
    here = tmp_path / "notes.txt"  # the working directory of the app
    here.write_text(secret)
    models = sorted(p for p in settings.models_dir.rglob("*") if p.is_file())[:1]
    url = serve(EchoEngine(document))
    targets = [
        "gradio_api/file=/etc/passwd",
        f"gradio_api/file={index_file}",
        f"gradio_api/file={here}",
        "gradio_api/file=notes.txt",
        "gradio_api/file=../../../../../../etc/passwd",
        "gradio_api/file=%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "gradio_api/file/etc/passwd",
        f"gradio_api/file/{here}",
        "static/../../../../../etc/passwd",
        "static/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "assets/..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
        "gradio_api/proxy=file:///etc/passwd",
        *(f"gradio_api/file={p}" for p in models),
    ]
    with httpx.Client(base_url=url, timeout=30) as client:
        for target in targets:
            response = client.get(target)
            assert response.status_code >= 400 or (secret not in response.text and "root:" not in response.text), (
                target, response.status_code, response.text[:200])
            assert secret not in response.text and "root:x:" not in response.text, target
            if target.startswith("gradio_api/file"):
                assert response.status_code in (403, 404), (target, response.status_code)


# --- no secrets or prompts in logs -------------------------------------------------------------------


@pytest.mark.server
def test_no_key_password_or_system_prompt_in_logs_even_when_the_backend_fails(
    settings: Settings, retriever, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    from resolution_qa.assistant import Assistant

    key = "sk-test-Hv93kLeaked0nly1fLogged"
    # An OpenAI-compatible endpoint that records the key it was sent and fails every request.
    server = FakeLLMServer(mode="status", status=500, error_message="model overloaded").start()
    caplog.set_level(logging.DEBUG)
    app_settings = settings.model_copy(update={
        "backend": "openai", "openai_base_url": f"{server.url}/v1",
        "openai_api_key": SecretStr(key), "auth_user": USER, "auth_password": SecretStr(PASSWORD), "port": free_port(),
        "refusal_threshold": 0.05, "llm_timeout_s": 10.0,
    })
    service = ChatService(app_settings, lambda s: Assistant(s, retriever=retriever))
    service.start()
    demo = None
    try:
        demo, url = launch_app(service, [retriever.document], app_settings)
        client = Client(url, auth=(USER, PASSWORD), verbose=False)
        _, chat, _, _ = client.predict("Que dit le paragraphe 27 ?", api_name="/chat")
    finally:
        if demo is not None:
            demo.close()
        server.stop()
    final = str(chat[-1]["content"])
    assert 'class="notice"' in final and "A-RES-75-158-OP27" in final  # the backend failed; extractive answered
    assert server.authorizations and all(key in k for k in server.authorizations)  # the key was in use
    out, err = capfd.readouterr()
    rules = READER_SYSTEM
    for text in (caplog.text, out, err):
        assert key not in text and PASSWORD not in text
        assert rules not in text


# --- concurrency, queue, shared engine ---------------------------------------------------------------


@pytest.mark.server
def test_one_engine_serves_every_session_with_bounded_concurrency(settings: Settings, document: Document) -> None:
    engine = SlowEngine(document)
    built: list[Settings] = []

    def factory(s: Settings) -> Answerer:
        built.append(s)
        return engine

    app_settings = settings.model_copy(update={"port": free_port(), "answer_concurrency": 3})
    service = ChatService(app_settings, factory)
    service.start()
    demo, url = launch_app(service, [document], app_settings)
    try:
        clients = [Client(url, verbose=False) for _ in range(8)]
        jobs = [c.submit(f"Question {i}", api_name="/ask") for i, c in enumerate(clients)]
        results = [j.result(timeout=60) for j in jobs]
    finally:
        demo.close()
    assert len(built) == 1  # models load once, whatever the number of sessions
    assert all(r["citations"][0]["id"] == "OP27" for r in results)
    assert engine.peak == 3  # several at once, never more than answer_concurrency


@pytest.mark.server
def test_a_full_queue_says_so_instead_of_waiting(serve, document: Document) -> None:
    engine = SlowEngine(document, delay=2.0)
    url = serve(engine, answer_concurrency=1, queue_max_size=1)
    clients = [Client(url, verbose=False) for _ in range(4)]
    jobs = [c.submit(f"Question {i}", api_name="/ask") for i, c in enumerate(clients)]
    outcomes: list[str] = []
    for job in jobs:
        try:
            job.result(timeout=60)
            outcomes.append("answered")
        except Exception as exc:  # gradio_client raises its own error types for a full queue
            outcomes.append(str(exc))
    assert outcomes.count("answered") >= 2
    assert any("Queue is full" in o for o in outcomes), outcomes


def test_a_long_session_keeps_bounded_state(settings: Settings, document: Document) -> None:
    from resolution_qa.web.app import MAX_SHOWN_TURNS, Handlers

    engine = EchoEngine(document)
    app_settings = settings.model_copy(update={"rate_limit_per_minute": 0, "history_turns": 2})
    handlers = Handlers(ChatService(app_settings, lambda _: engine), [document], app_settings)
    conversation = Conversation()
    for n in range(MAX_SHOWN_TURNS + 20):
        conversation = list(handlers.respond(f"Question {n}", conversation))[-1][-1]
    assert len(conversation.messages) == 2 * MAX_SHOWN_TURNS and len(conversation.answers) == 2
    assert conversation.answers[-1].question == f"Question {MAX_SHOWN_TURNS + 19}"


@pytest.mark.server
def test_the_openai_api_uses_the_same_login_throttle_and_limits(settings: Settings, document: Document) -> None:
    """`resolution-qa serve` (web/openai_api.py): wrong API keys are throttled per address and user name like the
    chat app's logins, and questions are counted per client address, over real HTTP."""
    from resolution_qa.web.openai_api import ApiServer, OpenAIService, build_api

    engine = EchoEngine(document)
    api_settings = settings.model_copy(update={
        "serve_port": free_port(), "auth_user": USER, "auth_password": SecretStr(PASSWORD),
        "login_failures_per_address": 5, "rate_limit_per_minute": 3,
    })
    service = OpenAIService(api_settings, lambda _: engine, backends=()).start()
    server = ApiServer(build_api(service), api_settings).start()
    url = f"http://127.0.0.1:{server.port}"
    question = {"model": "resolution-qa", "messages": [{"role": "user", "content": "Que dit le paragraphe 27 ?"}]}
    try:
        with _from("127.0.0.1", url) as attacker:
            guesses = [attacker.get("/v1/models", headers={"authorization": f"Bearer guess{n}"}).status_code
                       for n in range(50)]
            right = attacker.get("/v1/models", headers={"authorization": f"Bearer {PASSWORD}"})
            anonymous = attacker.get("/health")
        assert guesses[:5] == [401] * 5 and set(guesses[5:]) == {429}
        assert right.status_code == 429 and "Too many failed logins" in right.json()["error"]["message"]
        assert anonymous.status_code in (200, 503)  # the health check needs no login
        with _from("127.0.0.2", url) as user:
            key = {"authorization": f"Bearer {PASSWORD}"}
            assert user.get("/v1/models", headers=key).status_code == 200
            answers = [user.post("/v1/chat/completions", json=question, headers=key).status_code for _ in range(4)]
        assert answers == [200, 200, 200, 429]
        with _from("127.0.0.3", url) as other:
            assert other.post("/v1/chat/completions", json=question,
                              headers={"authorization": f"Bearer {PASSWORD}"}).status_code == 200
    finally:
        server.stop()
