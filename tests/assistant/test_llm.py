"""The default backend for real: Qwen2.5-Coder-1.5B through llama.cpp answers in the question's language, with
valid citations. Wording is not asserted: a small model's phrasing changes with any prompt or build."""

from __future__ import annotations

import pytest

from resolution_qa.assistant import Answer, Assistant
from resolution_qa.core.settings import Settings

pytestmark = [pytest.mark.slow, pytest.mark.llm]


@pytest.fixture(scope="module")
def assistant(real_settings: Settings, real_retriever) -> Assistant:
    settings = real_settings.model_copy(update={"backend": "llamacpp", "llm_max_tokens": 160})
    return Assistant(settings, retriever=real_retriever)


def check(answer: Answer, lang: str, document_ids: set[str]) -> None:
    assert answer.backend == "llamacpp", answer.notice  # no fallback to extractive
    assert answer.language == lang
    assert not answer.refused
    assert answer.citations, answer.text
    for citation in answer.citations:
        assert citation.id in document_ids and citation.id in answer.retrieved
        assert f"({citation.label}" in answer.text or citation.label in answer.text
    assert "[S" not in answer.text


def test_french_question(assistant: Assistant) -> None:
    pieces = list(assistant.stream("Que dit le paragraphe 27 de la résolution ?"))
    answer = pieces[-1]
    assert isinstance(answer, Answer) and len(pieces) > 2
    ids = {u.id for u in assistant.retriever.document.units}
    check(answer, "fr", ids)
    assert answer.citations[0].label == "par. 27"
    assert answer.timings.first_token is not None and answer.timings.first_token < answer.timings.total


def test_english_question(assistant: Assistant) -> None:
    answer = assistant.ask("Does the resolution ask States to criminalize trafficking in persons?")
    check(answer, "en", {u.id for u in assistant.retriever.document.units})
    assert all(c.label.startswith(("para.", "footnote")) or "preambular" in c.label for c in answer.citations)
