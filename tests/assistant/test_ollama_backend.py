"""The ollama backend against a small Ollama-compatible HTTP server (/api/chat, NDJSON) on 127.0.0.1."""

from __future__ import annotations

import pytest

from resolution_qa.assistant import Assistant
from resolution_qa.core.settings import Settings
from tests.fakes import FakeLLMServer

pytestmark = pytest.mark.server

REPLY = "Le texte demande de protéger les victimes [S1]."


@pytest.fixture
def ollama(llm_server: FakeLLMServer) -> tuple[str, list[dict]]:
    """The fake LLM server answering REPLY: its URL, and the requests it got ({"path": ..., **body})."""
    llm_server.reply = REPLY
    return llm_server.url, llm_server.requests


def test_answer_through_an_ollama_server(settings: Settings, ollama: tuple[str, list[dict]], retriever) -> None:
    url, requests = ollama
    s = settings.model_copy(update={"backend": "ollama", "ollama_url": url, "ollama_model": "tiny:1b"})
    answer = Assistant(s, retriever=retriever).ask("Que dit le paragraphe 27 ?")
    assert answer.backend == "ollama" and not answer.notice
    assert answer.text == "Le texte demande de protéger les victimes (par. 27)."
    assert [c.id for c in answer.citations] == ["OP27"]
    chat = [r for r in requests if r["path"] == "/api/chat"]
    assert chat and chat[0]["model"] == "tiny:1b"
    assert chat[0]["options"]["temperature"] == 0.0
    assert "<question>Que dit le paragraphe 27 ?</question>" in chat[0]["messages"][-1]["content"]
