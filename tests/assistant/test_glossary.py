"""The genre's fixed vocabulary: found in a passage, longest form first, given as hints and allowed names."""

from __future__ import annotations

from resolution_qa.assistant import glossary
from resolution_qa.assistant.glossary import spell_out
from resolution_qa.ingest import Document


def test_the_longest_opening_phrase_wins(document: Document) -> None:
    found = glossary.entries_in(document.get("OP27").text)
    assert ("Engage instamment", "Urges") in found
    assert ("Engage", "Encourages") not in found  # "Engage instamment" covers it


def test_names_of_bodies_and_instruments_are_found_accents_and_case_aside() -> None:
    text = "le Recueil des traités et l'Office des Nations Unies contre la drogue et le crime"
    english = glossary.english_names([text])
    assert "Treaty Series" in english and "United Nations Office on Drugs and Crime" in english


def test_hints_name_each_entry_once() -> None:
    hints = glossary.hints("Prie le Secrétaire général ... le Secrétaire général")
    assert hints == "Prie = Requests; Secrétaire général = Secretary-General"


def test_acronyms_are_spelt_out_in_the_questions_language() -> None:
    assert spell_out("La résolution parle-t-elle de l'OIT ?", "fr") == (
        "La résolution parle-t-elle de l'OIT (Organisation internationale du Travail) ?")
    assert spell_out("Does it mention the ILO?", "en") == "Does it mention the ILO (International Labour Organization)?"
    # whole words in capitals only; a name already written out is not repeated
    assert spell_out("Who asks the UNODC, which is the United Nations Office on Drugs and Crime?", "en") == (
        "Who asks the UNODC, which is the United Nations Office on Drugs and Crime?")
    assert spell_out("Who reports to whom?", "en") == "Who reports to whom?"


def test_a_question_with_an_acronym_is_retrieved_with_the_full_name(make_assistant) -> None:
    state = make_assistant().prepare("La résolution parle-t-elle de l'OIT ?")
    assert "Organisation internationale du Travail" in state.asked
    assert any(h.unit.id in {"OP5", "PP12"} for h in state.result.found[:5])
