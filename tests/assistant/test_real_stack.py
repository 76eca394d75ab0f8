"""The extractive assistant on the real embedder and index: the issue's questions, answered and cited."""

from __future__ import annotations

import pytest

from resolution_qa.assistant import Assistant
from resolution_qa.core.settings import Settings

pytestmark = pytest.mark.slow

PROSECUTION_FR = ("Que demande la résolution aux gouvernements au sujet des victimes poursuivies pour des actes "
                  "qu'elles ont été contraintes de commettre ?")
PROSECUTION_EN = ("What does the resolution ask governments about victims prosecuted for acts they were forced "
                  "to commit?")


@pytest.fixture(scope="module")
def assistant(real_settings: Settings, real_retriever) -> Assistant:
    return Assistant(real_settings, backend="extractive", retriever=real_retriever)


@pytest.mark.parametrize(("question", "lang", "label"), [(PROSECUTION_FR, "fr", "par. 27"),
                                                         (PROSECUTION_EN, "en", "para. 27")])
def test_prosecution_question_cites_paragraph_27(assistant: Assistant, question: str, lang: str, label: str) -> None:
    answer = assistant.ask(question)
    assert not answer.refused and answer.language == lang
    assert "OP27" in [c.id for c in answer.citations]
    assert f"({label}" in answer.text  # "(para. 27; unofficial translation; original: ...)" for a rendering


def test_off_topic_question_is_refused_with_suggestions(assistant: Assistant) -> None:
    answer = assistant.ask("What is the capital of France?")
    assert answer.refused and answer.language == "en" and answer.citations == ()
    assert answer.suggestions and "does not address" in answer.text


def test_follow_ups_resolve_against_the_previous_answer(assistant: Assistant) -> None:
    first = assistant.ask("Que dit le paragraphe 39 ?")
    nxt = assistant.ask("Et le paragraphe suivant ?", [first])
    assert [c.id for c in nxt.citations] == ["OP40"]
    note = assistant.ask("What does that footnote say?", [assistant.ask("What does OP1 take note of?")])
    assert note.citations[0].id == "fn17" and note.citations[0].label == "footnote 17"
