"""The openai backend against a small OpenAI-compatible HTTP server on 127.0.0.1 started by the test: what it is
asked (the judge's requests, then the writer's), how its replies become the answer, and its faults."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from resolution_qa.assistant import Answer, Assistant
from resolution_qa.assistant.backends import make_chat_model
from resolution_qa.assistant.prompts import READER_SYSTEM, VERIFY_ASK
from resolution_qa.assistant.types import Sources
from resolution_qa.core.settings import Settings
from tests.fakes import FakeLLMServer, JudgingLLMServer

pytestmark = pytest.mark.server

#: A question the fake retriever answers with par. 27 among others, and no paragraph named (the judge decides).
PROSECUTION = ("Les victimes doivent-elles être à l'abri de poursuites pour des actes qu'elles ont été obligées "
               "de commettre ?")
OP27_WORDS = "à l'abri de toutes poursuites"  # in par. 27 only


@pytest.fixture
def server() -> JudgingLLMServer:
    """The fake LLM server (tests/fakes.py) that answers the judge "Yes" and the writer with its canned reply."""
    with JudgingLLMServer(reply="Governments to protect victims from prosecution.").start() as running:
        yield running


def openai_settings_for(settings: Settings, server: FakeLLMServer) -> Settings:
    return settings.model_copy(update={
        "backend": "openai", "openai_base_url": f"http://127.0.0.1:{server.port}/v1", "openai_model": "tiny-test",
        "llm_timeout_s": 10.0, "refusal_threshold": 0.05, "min_support": -1.0})  # the fake embedder's closeness


@pytest.fixture
def openai_settings(settings: Settings, server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-key")
    return openai_settings_for(settings, server)


def test_answer_through_an_openai_compatible_server(openai_settings: Settings, server: JudgingLLMServer,
                                                    retriever) -> None:
    assistant = Assistant(openai_settings, retriever=retriever)
    items = list(assistant.stream("What does paragraph 27 say?"))
    answer = items[-1]
    assert isinstance(items[0], Sources) and isinstance(answer, Answer)
    assert answer.backend == "openai" and answer.language == "en" and not answer.refused and answer.notice is None
    assert [c.id for c in answer.citations] == ["OP27"]
    said = answer.text.split("\n")[0]
    assert said == "Para. 27 urges Governments to protect victims from prosecution."
    assert items[1].strip() == said  # sources, then the sentence as soon as it is checked, then the Answer
    # written from the English rendering of the French text, which is quoted with the French original beside it
    assert "(Written from an unofficial English translation" in answer.text
    assert answer.text.split("\n")[-1].startswith("- “") and "(para. 27; unofficial translation; original: “" in answer.text

    judged = [r for r in server.requests if r.get("logprobs")]
    written = [r for r in server.requests if not r.get("logprobs")]
    assert server.judged == len(judged) >= 1 and len(written) == 1
    for request in server.requests:
        assert request["model"] == "tiny-test" and request["temperature"] == 0.0
    assert all(h["authorization"] == "Bearer sk-test-key" for h in server.headers)
    # The judge asks for the first token's probabilities, one token long.
    for request in judged:
        assert request["logprobs"] is True and request["top_logprobs"] == 10
        assert request.get("max_completion_tokens", request.get("max_tokens")) == 1
    # Rules and data apart: the system message is the rules alone; the user message holds the passage, then the
    # question once, then the request.
    for request in server.requests:
        system, user = request["messages"]
        assert system == {"role": "system", "content": READER_SYSTEM}
        verifier = user["content"].endswith(VERIFY_ASK.rsplit("\n", 1)[-1])  # asked about the sentence, not the question
        assert user["role"] == "user" and user["content"].count("What does paragraph 27 say?") == (0 if verifier else 1)
    # an English question: the judge reads paragraph 27's English rendering
    op27 = next(r for r in judged if r["messages"][1]["content"].startswith("Passage (para. 27):\nUrges"))
    assert op27["messages"][1]["content"].endswith("Does the passage contain the answer to the question? "
                                                   "Answer yes or no.")
    write = written[0]["messages"][1]["content"]
    assert write.startswith("Passage (para. 27):\nUrges")  # written from the English rendering
    assert "in one short English sentence" in write and write.endswith('Begin the sentence with "Para. 27 urges".')


def test_a_server_that_begins_as_asked_is_not_repeated(openai_settings: Settings, server: JudgingLLMServer,
                                                       retriever) -> None:
    server.reply = "Para. 27 urges Governments to protect victims from prosecution. And more after it."
    answer = Assistant(openai_settings, retriever=retriever).ask("What does paragraph 27 say?")
    assert answer.backend == "openai"
    assert answer.text.split("\n")[0] == "Para. 27 urges Governments to protect victims from prosecution."


@pytest.mark.parametrize(("believed", "cited"), [((OP27_WORDS,), ["OP27"]), ((), None)],
                         ids=["par-27-believed", "nothing-believed"])
def test_the_judge_reads_the_servers_probabilities_not_its_words(settings: Settings, retriever, believed: tuple,
                                                                cited: list[str] | None) -> None:
    """The judge's score is P(yes) from the returned log-probabilities: its written word ("Maybe", which alone would
    score every passage alike) does not decide which passage the answer rests on, or whether it declines."""
    reply = "les gouvernements à faire en sorte que les victimes soient à l'abri de toutes poursuites."
    with JudgingLLMServer(reply=reply, logprobs=True, judge_text="Maybe", believed=believed).start() as server:
        answer = Assistant(openai_settings_for(settings, server), retriever=retriever).ask(PROSECUTION)
    assert answer.backend == "openai", answer.notice
    assert server.judged >= 3  # the candidates were judged, one request each
    if cited is None:
        assert answer.refused and answer.citations == ()
    else:
        assert not answer.refused and [c.id for c in answer.citations] == cited


def test_a_server_error_falls_back_to_extractive(openai_settings: Settings, server: JudgingLLMServer, retriever) -> None:
    server.status = 500
    answer = Assistant(openai_settings, retriever=retriever).ask("Que dit le paragraphe 27 ?")
    assert answer.backend == "extractive" and answer.notice and "\n" not in answer.notice
    assert answer.text.startswith("Le modèle de langue n'a pas pu répondre")
    assert [c.id for c in answer.citations] == ["OP27"]
    assert len(server.requests) >= 1


def test_the_key_comes_from_settings_before_the_environment(settings: Settings, server: JudgingLLMServer,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "from-env")
    model = make_chat_model(settings.model_copy(update={
        "openai_base_url": f"http://127.0.0.1:{server.port}/v1", "openai_api_key": SecretStr("from-settings")}), "openai")
    assert model is not None
    assert model.invoke("hi").content == server.reply
    assert server.headers[-1]["authorization"] == "Bearer from-settings"
