"""The openai backend against a small OpenAI-compatible HTTP server on 127.0.0.1 started by the test."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from resolution_qa.assistant import Assistant
from resolution_qa.assistant.backends import make_chat_model
from resolution_qa.core.settings import Settings
from tests.fakes import FakeLLMServer

pytestmark = pytest.mark.server


@pytest.fixture
def server(llm_server: FakeLLMServer) -> FakeLLMServer:
    """The fake LLM server (tests/fakes.py): /v1/chat/completions, streamed or not, with a canned reply."""
    return llm_server


@pytest.fixture
def openai_settings(settings: Settings, server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-key")
    return settings.model_copy(update={
        "backend": "openai", "openai_base_url": f"http://127.0.0.1:{server.port}/v1", "openai_model": "tiny-test",
        "llm_timeout_s": 10.0, "refusal_threshold": 0.05})


def test_answer_through_an_openai_compatible_server(openai_settings: Settings, server: FakeLLMServer, retriever) -> None:
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


def test_a_server_error_falls_back_to_extractive(openai_settings: Settings, server: FakeLLMServer, retriever) -> None:
    server.status = 500
    answer = Assistant(openai_settings, retriever=retriever).ask("Que dit le paragraphe 27 ?")
    assert answer.backend == "extractive" and answer.notice
    assert answer.text.startswith("Le modèle de langue n'a pas pu répondre")
    assert [c.id for c in answer.citations] == ["OP27"]
    assert len(server.requests) >= 1


def test_the_key_comes_from_settings_before_the_environment(settings: Settings, server: FakeLLMServer,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "from-env")
    model = make_chat_model(settings.model_copy(update={
        "openai_base_url": f"http://127.0.0.1:{server.port}/v1", "openai_api_key": SecretStr("from-settings")}), "openai")
    assert model is not None
    assert model.invoke("hi").content == server.reply
    assert server.headers[-1]["authorization"] == "Bearer from-settings"
