"""Issue 20 on the web side: `serve` (cases 1, 6, 7) and the chat app (cases 2, 8), on fake engines.

What each case was is in reports/reliability.md ("Hardening round three"); the disconnect case with the real llama.cpp
backend is tests/cli/test_serve_disconnect.py (slow).
"""

from __future__ import annotations

import json
import resource
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import httpx
import pytest

from resolution_qa.assistant.types import Answer, Sources
from resolution_qa.core.settings import Settings
from resolution_qa.ingest import Document
from resolution_qa.web.api_guard import HostOriginGuard
from resolution_qa.web.app import Conversation, Handlers
from resolution_qa.web.feedback import FeedbackStore
from resolution_qa.web.openai_api import ApiServer, OpenAIService, build_api
from resolution_qa.web.service import ChatService
from tests.fakes import ScriptedEngine, cite_unit
from tests.support import free_port

QUESTION = "Que dit le paragraphe 27 ?"
BODY = {"model": "resolution-qa-extractive", "messages": [{"role": "user", "content": QUESTION}]}


class SlowEngine:
    """Sources at once, then a word every 0.2 s for 20 s; a question holding "vite" is answered at once."""

    def __init__(self, document: Document) -> None:
        self.document = document
        self.started: list[tuple[str, float]] = []

    def stream(self, question: str, history=None, docs=None) -> Iterator[Sources | str | Answer]:  # noqa: ANN001
        self.started.append((question, time.monotonic()))
        citation = cite_unit(self.document, "OP27", "fr")
        yield Sources(citations=(citation,))
        words = 0 if "vite" in question else 100
        for _ in range(words):
            time.sleep(0.2)
            yield "mot "
        yield Answer(question=question, text="mot " * words or "Vite.", language="fr", citations=(citation,),
                     backend="extractive")


def _serve(settings: Settings, engine) -> tuple[ApiServer, OpenAIService]:  # noqa: ANN001
    api_settings = settings.model_copy(update={"serve_port": free_port(), "rate_limit_per_minute": 0})
    service = OpenAIService(api_settings, lambda _: engine, backends=()).start()
    return ApiServer(build_api(service), api_settings).start(), service


def _stream_until_sources_then_hang_up(port: int) -> None:
    body = json.dumps({**BODY, "stream": True}).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\n\r\n" % len(body) + body)
        got = b""
        while b'"sources"' not in got:
            chunk = sock.recv(65536)
            assert chunk, got
            got += chunk


# --- case 1: a client that walks away ---------------------------------------------------------------------------


@pytest.mark.server
def test_a_streaming_client_that_hangs_up_frees_its_slot_at_once(settings: Settings, document: Document) -> None:
    """Was: the slot stayed taken until garbage collection; with one slot the next request waited past 40 s."""
    engine = SlowEngine(document)
    api, service = _serve(settings.model_copy(update={"answer_concurrency": 1}), engine)
    try:
        for _ in range(4):
            _stream_until_sources_then_hang_up(api.port)
            hung_up = time.monotonic()
            answer = httpx.post(api.url + "/chat/completions", json={**BODY, "messages": [
                {"role": "user", "content": "Que dit le par. 27, vite ?"}]}, timeout=120)
            assert answer.status_code == 200, answer.text
            started = engine.started[-1][1] - hung_up
            # The hung-up stream's generator is closed when its next word is ready (0.2 s); measured 0.25 s. The
            # bound is generous for a loaded machine: without the fix the slot never came back.
            assert started < 15, started
        deadline = time.monotonic() + 15
        while service.slots.active and time.monotonic() < deadline:
            time.sleep(0.1)
        assert service.slots.active == 0 and service.slots.waiting == 0
    finally:
        api.stop()


# --- case 6: absurd requests --------------------------------------------------------------------------------------


def _post(url: str, content: str | bytes, **headers: str) -> httpx.Response:
    return httpx.post(url + "/chat/completions", content=content,
                      headers={"Content-Type": "application/json", **headers}, timeout=60)


@pytest.mark.server
def test_absurd_requests_get_a_4xx_in_one_line(settings: Settings, document: Document) -> None:
    """Was: 500 (ValueError, RecursionError, UnicodeEncodeError), and a 60 KB model name echoed back whole."""
    api, _ = _serve(settings, ScriptedEngine(document))
    base = json.dumps(BODY)[:-1]
    cases = {
        "n": base + ', "n": ' + "9" * 5000 + "}",
        "temperature": base + ', "temperature": ' + "9" * 5000 + "}",
        "nested": base + ', "x": ' + "[" * 30000 + "]" * 30000 + "}",
        "surrogate": json.dumps({**BODY, "messages": [{"role": "user", "content": QUESTION + "\udcff"}]}),
        "history": json.dumps({**BODY, "messages": [{"role": "user", "content": "mot " * 15000},
                                                    {"role": "assistant", "content": "Réponse."},
                                                    {"role": "user", "content": QUESTION}]}),
    }
    try:
        for name, body in cases.items():
            response = _post(api.url, body)
            assert response.status_code == 400, (name, response.status_code, response.text[:300])
            message = response.json()["error"]["message"]
            assert "\n" not in message and "unexpected" not in message and len(message) < 400, (name, message)
        unknown = _post(api.url, json.dumps({**BODY, "model": "m" * 60000}))
        assert unknown.status_code == 404 and len(unknown.content) < 1000, len(unknown.content)
        assert "mmmm…" in unknown.json()["error"]["message"] or "..." in unknown.json()["error"]["message"]
        assert _post(api.url, json.dumps(BODY)).status_code == 200  # and a normal one is answered
    finally:
        api.stop()


# --- case 7: other sites ------------------------------------------------------------------------------------------


@pytest.mark.server
def test_cross_site_requests_and_dns_rebinding_are_refused(settings: Settings, document: Document) -> None:
    """Was: a text/plain POST, a foreign Origin and a foreign Host were all answered (200)."""
    api, _ = _serve(settings, ScriptedEngine(document))
    body = json.dumps(BODY)
    try:
        plain = httpx.post(api.url + "/chat/completions", content=body, headers={"Content-Type": "text/plain"},
                           timeout=60)
        assert plain.status_code == 415 and "application/json" in plain.json()["error"]["message"]
        evil = _post(api.url, body, Origin="http://evil.example")
        assert evil.status_code == 403 and evil.json()["error"]["code"] == "origin_not_allowed"
        rebound = _post(api.url, body, Host=f"evil.example:{api.port}")
        assert rebound.status_code == 403 and rebound.json()["error"]["code"] == "host_not_allowed"
        assert _post(api.url, body, Origin="null").status_code == 403
        for good in ({}, {"Origin": "http://127.0.0.1:7860"}, {"Host": f"localhost:{api.port}"}):
            assert _post(api.url, body, **good).status_code == 200, good
        assert httpx.get(api.url + "/models", timeout=30).status_code == 200  # GETs need no content type
    finally:
        api.stop()


def test_the_guard_follows_the_listening_address() -> None:
    async def app(scope, receive, send) -> None:  # noqa: ANN001
        raise AssertionError("not reached")

    loopback = HostOriginGuard(app, listen_host="127.0.0.1")
    json_post = {"host": "127.0.0.1:7861", "content-type": "application/json; charset=utf-8"}
    assert loopback.problem("POST", json_post) is None
    assert loopback.problem("POST", {**json_post, "host": "[::1]:7861"}) is None
    assert loopback.problem("POST", {**json_post, "host": "attacker.example"})[0] == 403
    named = HostOriginGuard(app, listen_host="0.0.0.0", configured=["qa.example.org"])
    assert named.problem("POST", {**json_post, "host": "qa.example.org"}) is None
    assert named.problem("POST", {**json_post, "host": "other.example"})[0] == 403
    anywhere = HostOriginGuard(app, listen_host="0.0.0.0")
    assert anywhere.problem("POST", {**json_post, "host": "10.0.0.5:7861"}) is None
    assert anywhere.problem("POST", {**json_post, "host": "10.0.0.5:7861", "origin": "http://evil.example"})[0] == 403
    assert anywhere.problem("POST", {**json_post, "host": "10.0.0.5:7861", "origin": "http://10.0.0.5:7860"}) is None


# --- cases 2 and 8: the chat app ----------------------------------------------------------------------------------


def _client(address: str = "10.1.2.3") -> SimpleNamespace:
    return SimpleNamespace(client=SimpleNamespace(host=address), headers={})


@pytest.fixture
def handlers(settings: Settings, document: Document, tmp_path: Path) -> Handlers:
    app_settings = settings.model_copy(update={"feedback_path": tmp_path / "feedback.jsonl"})
    service = ChatService(app_settings, lambda _: ScriptedEngine(document))
    service.start()
    return Handlers(service, [document], app_settings)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_THREAD)
    return usage.ru_utime + usage.ru_stime


def test_a_huge_search_costs_what_a_short_one_does(handlers: Handlers) -> None:
    """Was: "a " * 30000 took 116 s of CPU (175 s measured here on a loaded machine), 3,000 words 9.7 s (19.8 s)."""
    started = _cpu()
    short = handlers.search("victimes traite", _client())
    short_cpu = _cpu() - started
    started = _cpu()
    html, count = handlers.search("a " * 30000, _client("10.1.2.4"))
    huge_cpu = _cpu() - started
    assert count and html and short[1]
    # Cut to search_max_words (12) distinct words before matching; measured 0.03 s vs 0.02 s for the short one.
    assert huge_cpu < max(2.0, 20 * short_cpu), (huge_cpu, short_cpu)


def test_searches_are_limited_per_client(handlers: Handlers) -> None:
    limit = handlers.settings.web.searches_per_minute
    for _ in range(limit):
        handlers.search("victimes", _client())
    with pytest.raises(gr.Error, match="Too many searches"):
        handlers.search("victimes", _client())
    assert handlers.search("victimes", _client("10.9.9.9"))[1]  # another client is not slowed down


def test_ratings_are_limited_per_client(handlers: Handlers) -> None:
    """Was: 300 ratings in 31 s from one client, each a record."""
    updates = list(handlers.respond(QUESTION, Conversation()))
    conversation = updates[-1][-1]
    liked = gr.LikeData(None, {"index": 1, "value": ["..."], "liked": True})
    limit = handlers.settings.web.ratings_per_minute
    notes = [handlers.rate(conversation, liked, _client())[0] for _ in range(limit + 5)]
    assert all("Too many ratings" not in str(n) for n in notes[:limit])
    assert all("Too many ratings" in str(n) for n in notes[limit:])
    assert len(FeedbackStore(handlers.feedback.path).read()) == limit


@pytest.mark.parametrize("docs", [[5], [None], [{"a": 1}], 5])
def test_ask_with_docs_that_are_not_symbols_is_one_line(handlers: Handlers, docs: object) -> None:
    """Was: AttributeError: 'int' object has no attribute 'strip', logged as a traceback."""
    with pytest.raises(gr.Error) as caught:
        handlers.ask(QUESTION, docs, _client())  # type: ignore[arg-type]
    assert "docs" in str(caught.value) and "\n" not in str(caught.value)


def test_the_exported_conversation_escapes_raw_html(handlers: Handlers) -> None:
    """Was: <img onerror=...> and <script> from the question kept as they were in the Markdown file."""
    question = "<img src=x onerror=alert(1)><script>alert(2)</script> Que dit le paragraphe 27 ?"
    conversation = list(handlers.respond(question, Conversation()))[-1][-1]
    markdown = handlers.export_markdown(conversation)
    assert "<img" not in markdown and "<script" not in markdown
    assert "&lt;img src=x onerror=alert(1)&gt;&lt;script&gt;" in markdown


def test_the_rate_limits_hold_under_threads(handlers: Handlers) -> None:
    limit = handlers.settings.web.searches_per_minute
    results: list[bool] = []

    def search() -> None:
        try:
            handlers.search("victimes", _client("10.7.7.7"))
            results.append(True)
        except gr.Error:
            results.append(False)

    threads = [threading.Thread(target=search) for _ in range(limit + 20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(True) == limit


# --- case 12: the Python API's docs ---------------------------------------------------------------------------------


def test_docs_given_as_one_string_is_one_symbol(make_assistant) -> None:  # noqa: ANN001
    """Was: docs="A/RES/75/158" split per character: "A, /, R, E, S ... is not in the index"."""
    from resolution_qa.core.errors import UnknownDocumentError

    assistant = make_assistant()
    answer = assistant.ask(QUESTION, docs="A/RES/75/158")
    assert [c.id for c in answer.citations][:1] == ["OP27"] and all(c.doc == "A/RES/75/158" for c in answer.citations)
    assert assistant.ask(QUESTION, docs=["A/RES/75/158"]).citations[0].id == "OP27"
    with pytest.raises(UnknownDocumentError, match=r"docs must be document symbols \(text\)"):
        assistant.ask(QUESTION, docs=[5])  # type: ignore[list-item]
