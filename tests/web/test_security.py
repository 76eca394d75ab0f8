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
from resolution_qa.assistant.prompts import SYSTEM_RULES
from resolution_qa.core.settings import Settings
from resolution_qa.ingest import Document
from resolution_qa.web.app import Conversation
from resolution_qa.web.security import AppConfigError, SessionRateLimiter, login_of
from resolution_qa.web.service import AnswerEngine, ChatService
from tests.fakes import EchoEngine, FakeLLMServer, SlowEngine
from tests.support import cli_command, free_port, launch_app, run_cli

PASSWORD = "pw-Zq81-never-in-logs"
USER = "reader"


@pytest.fixture
def serve(settings: Settings, document: Document) -> Iterator[Callable[..., str]]:
    """Serve the app around an engine with settings overrides on a free loopback port; returns its URL."""
    demos = []

    def start(engine: AnswerEngine, **overrides: object) -> str:
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


def test_rate_limiter_counts_per_session_in_a_moving_minute() -> None:
    limiter = SessionRateLimiter(2)
    assert limiter.check("a").allowed and limiter.check("a").allowed
    refused = limiter.check("a")
    assert not refused.allowed and 1 <= refused.retry_after_s <= 60
    assert "2 per minute" in limiter.message(refused) and "réessayez" in limiter.message(refused)
    assert limiter.check("b").allowed  # another session has its own budget
    unlimited = SessionRateLimiter(0)
    assert all(unlimited.check("a").allowed for _ in range(100))


@pytest.mark.server
def test_rate_limit_is_a_friendly_chat_message_per_session(serve, document: Document) -> None:
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
    # Another session is not held back by the first.
    _, chat, _, _ = Client(url, verbose=False).predict("Question A", api_name="/chat")
    assert 'class="failure"' not in str(chat[-1]["content"])


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
    rules = SYSTEM_RULES.splitlines()[0]
    for text in (caplog.text, out, err):
        assert key not in text and PASSWORD not in text
        assert rules not in text


# --- concurrency, queue, shared engine ---------------------------------------------------------------


@pytest.mark.server
def test_one_engine_serves_every_session_with_bounded_concurrency(settings: Settings, document: Document) -> None:
    engine = SlowEngine(document)
    built: list[Settings] = []

    def factory(s: Settings) -> AnswerEngine:
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
