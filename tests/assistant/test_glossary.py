"""The genre's fixed vocabulary: found in a passage, longest form first, given as hints and allowed names."""

from __future__ import annotations

from resolution_qa.assistant import glossary
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
