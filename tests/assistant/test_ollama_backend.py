"""The ollama backend against a small Ollama-compatible HTTP server (/api/chat, NDJSON) on 127.0.0.1."""

from __future__ import annotations

import pytest

from resolution_qa.assistant import Assistant
from resolution_qa.assistant.prompts import READER_SYSTEM, VERIFY_ASK
from resolution_qa.core.settings import Settings
from tests.fakes import JudgingLLMServer

pytestmark = pytest.mark.server

REPLY = "les gouvernements à protéger les victimes."
QUESTION = "Que dit le paragraphe 27 ?"
#: A question the fake retriever answers with par. 27 among others, and no paragraph named (the judge decides).
PROSECUTION = ("Les victimes doivent-elles être à l'abri de poursuites pour des actes qu'elles ont été obligées "
               "de commettre ?")


def ollama_settings(settings: Settings, server: JudgingLLMServer) -> Settings:
    return settings.model_copy(update={"backend": "ollama", "ollama_url": server.url, "ollama_model": "tiny:1b",
                                       "refusal_threshold": 0.05, "min_support": -1.0})


def test_answer_through_an_ollama_server(settings: Settings, retriever) -> None:
    with JudgingLLMServer(reply=REPLY).start() as server:
        answer = Assistant(ollama_settings(settings, server), retriever=retriever).ask(QUESTION)
    assert answer.backend == "ollama" and not answer.notice
    assert answer.text.split("\n")[0] == "Le par. 27 engage instamment les gouvernements à protéger les victimes."
    assert [c.id for c in answer.citations] == ["OP27"]
    chat = [r for r in server.requests if r["path"] == "/api/chat"]
    assert server.judged >= 1 and len(chat) > server.judged  # the judge's requests, the writer's, the verifier's
    verify_end = VERIFY_ASK.rsplit("\n", 1)[-1]
    for request in chat:
        assert request["model"] == "tiny:1b" and request["options"]["temperature"] == 0.0
        system, user = request["messages"]
        assert system == {"role": "system", "content": READER_SYSTEM}
        # the verifier is asked about the written sentence, not the question
        expected = 0 if user["content"].endswith(verify_end) else 1
        assert user["role"] == "user" and user["content"].count(QUESTION) == expected
    writer = [r for r in chat if "Begin the sentence with" in r["messages"][1]["content"]][-1]
    assert writer["messages"][1]["content"].startswith("Passage (para. 27):\nEngage instamment")
    assert writer["messages"][1]["content"].endswith('Begin the sentence with "Le par. 27 engage instamment".')
    assert chat[-1]["messages"][1]["content"].endswith(verify_end)  # the sentence was verified before it was shown


def test_the_judge_reads_ollamas_probabilities_not_its_words(settings: Settings, retriever) -> None:
    """Ollama returns log-probabilities when asked ("logprobs", a list per token): P(yes) from them decides, not the
    word written ("Maybe")."""
    with JudgingLLMServer(reply=REPLY, logprobs=True, judge_text="Maybe",
                          believed=("à l'abri de toutes poursuites",)).start() as server:
        answer = Assistant(ollama_settings(settings, server), retriever=retriever).ask(PROSECUTION)
    assert answer.backend == "ollama", answer.notice
    assert not answer.refused and [c.id for c in answer.citations] == ["OP27"]
