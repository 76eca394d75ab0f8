"""Answer language from the question: French or English, another language answered in English."""

from __future__ import annotations

import pytest

from resolution_qa.assistant.language import detect_language


@pytest.mark.parametrize(
    ("question", "lang"),
    [
        ("Que demande la résolution aux gouvernements au sujet des victimes poursuivies ?", "fr"),
        ("Que dit le paragraphe 27 ?", "fr"),
        ("Et le paragraphe suivant ?", "fr"),
        ("Que dit la note 33 ?", "fr"),
        ("What does PP13 say?", "en"),
        ("And the one after it?", "en"),
        ("What is the capital of France?", "en"),
        ("Summarize para. 44 for me.", "en"),
    ],
)
def test_short_questions_in_french_or_english(question: str, lang: str) -> None:
    guess = detect_language(question)
    assert guess.answer == lang
    assert guess.supported


@pytest.mark.parametrize(
    ("question", "code"),
    [("¿Qué dice el párrafo 27 sobre las víctimas?", "es"), ("Was sagt Absatz 27 über die Opfer?", "de"),
     ("Что говорится в пункте 27?", "ru")],
)
def test_other_languages_get_an_english_answer(question: str, code: str) -> None:
    guess = detect_language(question)
    assert (guess.answer, guess.detected, guess.supported) == ("en", code, False)


@pytest.mark.parametrize("question", ["OP27?", "par. 40", "42"])
def test_language_neutral_input_takes_the_fallback(question: str) -> None:
    assert detect_language(question, fallback="fr").answer == "fr"
    assert detect_language(question, fallback="en").answer == "en"
