"""Bad questions: a clear one-line message (or a marked answer), and nothing lost: the conversation and the index go on.

Decisions: empty, whitespace-only, control-only and wordless questions (punctuation, emoji) are refused
with EmptyQuestionError; over MAX_QUESTION_CHARS with QuestionTooLongError; control characters and NUL
inside a question are removed; a question in another language or script is answered in English with a
note saying so; a mixed French/English question is answered in the language that dominates it.
"""

from __future__ import annotations

import json

import pytest

from resolution_qa.assistant import Assistant, QuestionTooLongError
from resolution_qa.assistant.assistant import MAX_QUESTION_CHARS
from resolution_qa.core.errors import EmptyQuestionError, ResolutionQAError
from resolution_qa.core.settings import Settings
from resolution_qa.core.strings import OTHER_LANGUAGE
from tests.support import run_cli

REFUSED = [
    ("", EmptyQuestionError, "the question is empty"),
    ("   \t  ", EmptyQuestionError, "the question is empty"),
    ("\x00\x01\x1b\u200b", EmptyQuestionError, "the question is empty"),
    ("???!!! ...", EmptyQuestionError, "no words, only punctuation or symbols"),
    ("😀😀🙏", EmptyQuestionError, "no words, only punctuation or symbols"),
    ("« » — … ; : §", EmptyQuestionError, "no words, only punctuation or symbols"),
    ("traite " * 600, QuestionTooLongError, f"shorter than {MAX_QUESTION_CHARS}"),
]
IDS = ["empty", "whitespace", "control-only", "punctuation", "emoji", "symbols", "too-long"]


@pytest.mark.parametrize("reads", [False, True], ids=["extractive", "model"])
@pytest.mark.parametrize(("question", "error", "message"), REFUSED, ids=IDS)
def test_refused_with_one_line_and_the_conversation_goes_on(make_assistant, retriever, question: str, error: type,
                                                             message: str, reads: bool) -> None:
    assistant = make_assistant("les États à former.", "les États à autre chose.") if reads else make_assistant()
    first = assistant.ask("Que dit le paragraphe 39 ?")
    asked = len(retriever.queries)
    calls = (len(assistant.reading.reader.judged), len(assistant.reading.reader.written)) if reads else None
    with pytest.raises(error) as info:
        assistant.ask(question, [first])
    assert message in str(info.value) and "\n" not in str(info.value)
    assert isinstance(info.value, ResolutionQAError)  # the CLI and the app turn it into one line
    assert len(retriever.queries) == asked  # refused before retrieval
    if reads:  # and before any model was asked
        assert (len(assistant.reading.reader.judged), len(assistant.reading.reader.written)) == calls
    follow_up = assistant.ask("Et le paragraphe suivant ?", [first])
    assert [c.id for c in follow_up.citations] == ["OP40"]
    assert follow_up.backend == ("llamacpp" if reads else "extractive")


def test_a_question_at_the_limit_is_answered(make_assistant) -> None:
    question = ("Que dit le paragraphe 27 sur les victimes de la traite ? " * 80)[:MAX_QUESTION_CHARS]
    answer = make_assistant().ask(question)
    assert len(answer.question) == MAX_QUESTION_CHARS and answer.citations


def test_nul_and_control_characters_inside_a_question_are_removed(make_assistant, retriever) -> None:
    answer = make_assistant().ask("Que\x00 dit\x07 le\u202e paragraphe\x1b\x7f 27\u200b ?")
    assert retriever.queries[-1] == "Que dit le paragraphe 27 ?"
    assert [c.id for c in answer.citations] == ["OP27"] and answer.language == "fr"
    assert "\x00" not in answer.question


@pytest.mark.parametrize(
    ("question", "code"),
    [
        ("¿Qué dice la resolución sobre las víctimas del párrafo 27?", "es"),
        ("第27段关于人口贩运受害者说了什么？", "zh"),
        ("ماذا تقول الفقرة 27 عن ضحايا الاتجار بالبشر؟", "ar"),
        ("Что говорит пункт 27 о жертвах торговли людьми?", "ru"),
        ("Was sagt Absatz 27 über die Opfer des Menschenhandels?", "de"),
    ],
    ids=["es", "zh", "ar", "ru", "de"],
)
@pytest.mark.parametrize("reads", [False, True], ids=["extractive", "model"])
def test_other_languages_are_answered_in_english_with_a_note(make_assistant, document, question: str,
                                                             code: str, reads: bool) -> None:
    answer = (make_assistant("Governments to protect victims.", "States to act.") if reads else make_assistant()).ask(
        question)
    assert answer.backend == ("llamacpp" if reads else "extractive")
    assert answer.language == "en" and answer.notice == OTHER_LANGUAGE
    assert answer.text.startswith(OTHER_LANGUAGE) and not answer.refused
    # The fake retriever reads no script but Latin, so which units come back is not the point here (the
    # real embedder is multilingual); that they are real units, labelled in English, is.
    assert answer.citations
    for citation in answer.citations:
        unit = document.get(citation.id)
        assert unit is not None and citation.label == unit.label("en")


@pytest.mark.parametrize(
    ("question", "lang"),
    [
        ("Que dit le paragraphe 27 about the victims of trafficking ?", "fr"),
        ("What does paragraph 27 say sur les victimes de la traite?", "en"),
    ],
)
def test_mixed_french_and_english(make_assistant, question: str, lang: str) -> None:
    answer = make_assistant().ask(question)
    assert answer.language in ("fr", "en") and answer.notice is None
    assert [c.id for c in answer.citations] == ["OP27"]


def test_a_refusal_to_another_language_carries_the_note(make_assistant) -> None:
    answer = make_assistant(settings_update={"refusal_threshold": 0.99}).ask(
        "¿Cuál es la capital de Francia y cuántos habitantes tiene?")
    assert answer.refused and answer.notice == OTHER_LANGUAGE and answer.text.startswith(OTHER_LANGUAGE)


def test_words_with_emoji_are_answered(make_assistant) -> None:
    answer = make_assistant().ask("🙂 Que dit le paragraphe 27 ? 🙏")
    assert [c.id for c in answer.citations] == ["OP27"] and not answer.refused


def test_bad_questions_leave_the_real_index_unchanged(settings: Settings, chroma_retriever) -> None:
    """On the real Chroma index: every bad question fails alone; the index and the conversation are intact."""
    index = chroma_retriever.index

    def snapshot() -> tuple:
        return index.info(), index.count(), sorted((u.key, u.text) for d in index.documents() for u in d.units)

    before = snapshot()
    assistant = Assistant(settings.model_copy(update={"refusal_threshold": 0.05}), backend="extractive",
                          retriever=chroma_retriever)
    first = assistant.ask("Que dit le paragraphe 39 ?")
    for question, error, _ in REFUSED:
        with pytest.raises(error):
            assistant.ask(question, [first])
    assert [c.id for c in assistant.ask("Et le paragraphe suivant ?", [first]).citations] == ["OP40"]
    assert snapshot() == before


@pytest.mark.slow
@pytest.mark.server
def test_cli_keeps_earlier_answers_and_stops_on_a_bad_question_with_one_line(real_index_env: dict[str, str]) -> None:
    """The real `resolution-qa ask` (real embedder, the session's real index): earlier turns are printed."""
    result = run_cli("ask", "Que dit le paragraphe 27 ?",
                     "¿Qué dice la resolución sobre la protección de las víctimas de la trata?",
                     "x" * (MAX_QUESTION_CHARS + 1), "--backend", "extractive", "--format", "json",
                     timeout=600, env=real_index_env)
    assert result.returncode == 2, result.stderr
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert [c["id"] for c in first["citations"]] == ["OP27"]
    assert second["language"] == "en" and second["notice"] == OTHER_LANGUAGE
    assert second["answer"].startswith(OTHER_LANGUAGE) and (second["citations"] or second["suggestions"])
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: the question is {MAX_QUESTION_CHARS + 1} characters long; ask something shorter than "
        f"{MAX_QUESTION_CHARS}")
