"""The openai backend against a small OpenAI-compatible HTTP server on 127.0.0.1 started by the test."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from pydantic import SecretStr

from resolution_qa.assistant import Assistant
from resolution_qa.assistant.backends import make_chat_model
from resolution_qa.core.settings import Settings


@dataclass
class FakeOpenAI:
    """Serves /v1/chat/completions (streamed or not) with a canned reply, and records the requests."""

    reply: str = "Victims must not be punished for acts they were forced to commit [S1]."
    status: int = 200
    requests: list[dict] = field(default_factory=list)
    headers: list[dict] = field(default_factory=list)
    port: int = 0


def _handler(state: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep pytest output clean
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            state.requests.append(body)
            state.headers.append(dict(self.headers))
            if self.path != "/v1/chat/completions" or state.status != 200:
                self.send_response(state.status if state.status != 200 else 404)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(json.dumps({"error": {"message": "server exploded", "type": "server_error"}}).encode())
                return
            base = {"id": "chatcmpl-1", "created": int(time.time()), "model": body["model"]}
            if body.get("stream"):
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                for word in state.reply.split(" "):
                    chunk = {**base, "object": "chat.completion.chunk",
                             "choices": [{"index": 0, "delta": {"content": word + " "}, "finish_reason": None}]}
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                end = {**base, "object": "chat.completion.chunk",
                       "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
                self.wfile.write(f"data: {json.dumps(end)}\n\ndata: [DONE]\n\n".encode())
                return
            payload = {**base, "object": "chat.completion",
                       "choices": [{"index": 0, "finish_reason": "stop",
                                    "message": {"role": "assistant", "content": state.reply}}],
                       "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}
            data = json.dumps(payload).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    state = FakeOpenAI()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def openai_settings(settings: Settings, server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-key")
    return settings.model_copy(update={
        "backend": "openai", "openai_base_url": f"http://127.0.0.1:{server.port}/v1", "openai_model": "tiny-test",
        "llm_timeout_s": 10.0, "refusal_threshold": 0.05})


def test_answer_through_an_openai_compatible_server(openai_settings: Settings, server: FakeOpenAI, retriever) -> None:
    assistant = Assistant(openai_settings, retriever=retriever)
    items = list(assistant.stream("What does paragraph 27 say?"))
    answer = items[-1]
    assert answer.backend == "openai" and answer.language == "en" and not answer.refused
    assert [c.id for c in answer.citations] == ["OP27"]
    assert answer.text == "Victims must not be punished for acts they were forced to commit (para. 27)."
    assert items[0].strip() == answer.text  # streamed sentence by sentence (one sentence here), then the Answer
    request = server.requests[0]
    assert request["model"] == "tiny-test" and request["stream"] is True and request["temperature"] == 0.0
    assert server.headers[0]["authorization"] == "Bearer sk-test-key"
    system, human = request["messages"][0]["content"], request["messages"][-1]["content"]
    assert "[S1]" in system
    assert '<source tag="S1" label="para. 27">Engage instamment' in human
    assert "<question>What does paragraph 27 say?</question>" in human


def test_a_server_error_falls_back_to_extractive(openai_settings: Settings, server: FakeOpenAI, retriever) -> None:
    server.status = 500
    answer = Assistant(openai_settings, retriever=retriever).ask("Que dit le paragraphe 27 ?")
    assert answer.backend == "extractive" and answer.notice
    assert answer.text.startswith("Le modèle de langue n'a pas pu répondre")
    assert [c.id for c in answer.citations] == ["OP27"]
    assert len(server.requests) >= 1


def test_the_key_comes_from_settings_before_the_environment(settings: Settings, server: FakeOpenAI,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "from-env")
    model = make_chat_model(settings.model_copy(update={
        "openai_base_url": f"http://127.0.0.1:{server.port}/v1", "openai_api_key": SecretStr("from-settings")}), "openai")
    assert model is not None
    assert model.invoke("hi").content == server.reply
    assert server.headers[-1]["authorization"] == "Bearer from-settings"
