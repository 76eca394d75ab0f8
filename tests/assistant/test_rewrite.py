"""Follow-ups: relative references resolve against the previous turn; dependent questions carry it along."""

from __future__ import annotations

import pytest

from resolution_qa.assistant.rewrite import rewrite
from resolution_qa.assistant.types import Citation, Turn
from resolution_qa.ingest import Document


def turn(question: str, *cited: str, doc: str = "A/RES/75/158") -> Turn:
    return Turn(question=question, standalone=question, answer="…",
                citations=tuple(Citation(id=c, doc=doc, label=c, text="") for c in cited))


@pytest.mark.parametrize(
    ("question", "previous", "lang", "standalone", "resolved"),
    [
        ("Et le paragraphe suivant ?", turn("Que dit le paragraphe 39 ?", "OP39"), "fr", "Que dit le par. 40 ?", "OP40"),
        ("And the one after it?", turn("What does para. 43 say?", "OP43"), "en", "What does para. 44 say?", "OP44"),
        ("Et la note suivante ?", turn("Que dit la note 33 ?", "fn33"), "fr", "Que dit la note 34 ?", "fn34"),
        ("And the next footnote, what does it cite?", turn("What does footnote 20 refer to?", "fn20"), "en",
         "And footnote 21, what does it cite?", "fn21"),
        ("What does that footnote say?", turn("What does OP1 take note of?", "OP1"), "en",
         "What does footnote 17 say?", "fn17"),
        ("Et le paragraphe précédent ?", turn("Que dit le 3e alinéa du préambule ?", "PP3"), "fr",
         "Que dit le 2e alinéa du préambule ?", "PP2"),
        ("Que dit cet alinéa sur les conventions ?", turn("Parle-t-on de la CEDEF ?", "PP2", "OP5"), "fr",
         "Que dit le 2e alinéa du préambule sur les conventions ?", "PP2"),
    ],
)
def test_relative_references(document: Document, question: str, previous: Turn, lang: str, standalone: str,
                             resolved: str) -> None:
    result = rewrite(question, [previous], document, lang)
    assert result.standalone == standalone
    assert result.resolved == (resolved,)


def test_the_anchor_is_the_unit_the_previous_question_named(document: Document) -> None:
    # The previous answer cited OP38 first, but the question was about paragraph 39.
    result = rewrite("Et le paragraphe suivant ?", [turn("Que dit le paragraphe 39 ?", "OP38", "OP39")], document, "fr")
    assert result.resolved == ("OP40",)


def test_a_dependent_follow_up_is_read_with_the_previous_question(document: Document) -> None:
    previous = turn("Quelle note accompagne la mention du Statut de Rome ?", "PP16")
    result = rewrite("Et quand est-il entré en vigueur ?", [previous], document, "fr")
    assert result.standalone == "Quelle note accompagne la mention du Statut de Rome ? Et quand est-il entré en vigueur ?"
    assert result.previous == previous.question


def test_a_self_contained_question_is_left_alone(document: Document) -> None:
    question = "Does the resolution ask countries to make trafficking a criminal offence?"
    assert rewrite(question, [turn("Que dit le paragraphe 39 ?", "OP39")], document, "en").standalone == question


def test_without_history_nothing_changes(document: Document) -> None:
    assert rewrite("Et le paragraphe suivant ?", [], document, "fr").standalone == "Et le paragraphe suivant ?"


def test_only_the_last_turn_anchors(document: Document) -> None:
    history = [turn("Que dit le paragraphe 10 ?", "OP10"), turn("Que dit le paragraphe 20 ?", "OP20")]
    assert rewrite("Et le suivant ?", history, document, "fr").resolved == ("OP21",)


def test_the_last_preambular_paragraph_anchors_too(document: Document) -> None:
    result = rewrite("Et le précédent ?", [turn("Que dit le dernier alinéa du préambule ?", "PP38")], document, "fr")
    assert result.resolved == ("PP37",)


def test_a_connector_alone_does_not_drag_the_previous_topic_along(document: Document) -> None:
    previous = turn("Que dit le paragraphe 39 ?", "OP39")
    result = rewrite("And which paragraph asks for training to detect organ-removal cases?", [previous], document, "en")
    assert result.standalone == "Which paragraph asks for training to detect organ-removal cases?"
    assert result.previous is None
