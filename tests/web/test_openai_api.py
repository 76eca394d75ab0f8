"""The OpenAI-compatible API's logic without a server: requests read, conversations matched back to their answers,
models of a corpus, answers as text. (tests/cli/test_serve.py drives the real server with the openai client.)"""

from __future__ import annotations

import pytest

from resolution_qa.assistant.types import Answer, Turn
from resolution_qa.core.settings import Settings
from resolution_qa.ingest import Document, parse_file
from resolution_qa.web.openai_api import (
    AnswerMemory,
    ApiError,
    OpenAIService,
    formal_index,
    parse_request,
    turn_of,
)
from resolution_qa.web.render import answer_text
from tests.fakes import ScriptedEngine, cite_unit
from tests.support import CORPUS


def test_requests_are_read_or_refused_in_one_line() -> None:
    request = parse_request(b'{"model": "resolution-qa", "messages": [{"role": "user", "content": [{"type": "text", '
                            b'"text": "par. 27"}]}], "temperature": 0.2, "stream": true}')
    assert request.stream and request.messages[0].text("m") == "par. 27"
    for body, words in [(b"[]", "JSON object"), (b"{", "not valid JSON"), (b'{"messages": []}', "'model'"),
                        (b'{"model": "m", "messages": "hi"}', "messages: Input should be a valid list")]:
        with pytest.raises(ApiError) as caught:
            parse_request(body)
        assert caught.value.status == 400 and words in caught.value.message and "\n" not in caught.value.message


def test_answers_are_matched_back_whether_streamed_or_not(document: Document) -> None:
    memory = AnswerMemory(size=2)
    answer = Answer(question="Que dit le par. 27 ?", text="Selon le par. 27, rien.", language="fr",
                    citations=(cite_unit(document, "OP27", "fr"),))
    memory.remember(answer)
    assert memory.recall("que dit le  par. 27 ?", answer_text(answer)) is answer
    assert memory.recall("Que dit le par. 27 ?", "Selon le par. 27,\n\n rien. \n\nCitations : ...") is answer
    assert memory.recall("Que dit le par. 27 ?", "Something else.") is None
    for n in range(3):  # the oldest is forgotten
        memory.remember(answer.model_copy(update={"question": f"q{n}"}))
    assert memory.recall("Que dit le par. 27 ?", answer_text(answer)) is None


def test_an_unknown_assistant_message_becomes_a_turn_with_its_cited_units(document: Document) -> None:
    index = formal_index([document])
    content = ("Il faut protéger les victimes.\n\nCitations :\n- [A/RES/75/158, par. 27] Engage...\n"
               "- [A/RES/75/158, note 3] ...\n- [A/RES/9/9, par. 1] unknown\n\nPassages les plus proches :\n"
               "- [A/RES/75/158, par. 12] ...")
    turn = turn_of("Que dit le texte ?", content, index)
    assert isinstance(turn, Turn) and turn.answer == "Il faut protéger les victimes."
    assert [c.id for c in turn.citations] == ["OP27", "fn3", "OP12"]
    assert turn_of("q", "No citations here.", index).citations == ()


def test_a_corpus_is_one_model_per_backend_and_per_resolution(settings: Settings) -> None:
    documents = [parse_file(p) for p in sorted(CORPUS.glob("*.txt"))]
    service = OpenAIService(settings.model_copy(update={"documents": sorted(CORPUS.glob("*.txt"))}),
                            lambda s: ScriptedEngine(documents[0])).start()
    assert [d.symbol for d in service.documents] == ["A/RES/75/901", "A/RES/75/902"]
    assert [m.id for m in service.models()] == ["resolution-qa-extractive", "resolution-qa-extractive:A/RES/75/901",
                                                "resolution-qa-extractive:A/RES/75/902"]
    assert service.model("resolution-qa-extractive:A/RES/75/902").docs == ("A/RES/75/902",)
    assert service.model("resolution-qa").id == "resolution-qa-extractive"
    with pytest.raises(ApiError) as caught:
        service.model("resolution-qa-llamacpp")
    assert caught.value.status == 404 and caught.value.code == "model_not_found"
