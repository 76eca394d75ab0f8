"""The extractive backend's pieces: units cut into clauses at their boundaries, the clause closest to the question."""

from __future__ import annotations

from resolution_qa.assistant.extractive import CLAUSE_CHARS, ClauseScorer, clauses, extract, render
from resolution_qa.ingest import Document


def test_long_units_are_cut_into_clauses_that_cover_them(document: Document) -> None:
    text = document.get("OP16").text
    parts = clauses(text)
    assert len(parts) > 1
    assert " ".join(parts).split() == text.split()  # nothing lost, nothing added
    assert all(len(p) <= 2 * CLAUSE_CHARS for p in parts)


def test_short_units_stay_whole(document: Document) -> None:
    short = [u.text for u in document.units if len(u.text) <= CLAUSE_CHARS]
    assert len(short) > 10
    assert all(clauses(text) == [text] for text in short)


def test_the_quoted_clause_is_the_one_about_the_question(document: Document, retriever) -> None:
    scorer = ClauseScorer(retriever.embeddings)
    op25 = document.get("OP25")
    [quote] = extract("corruption et blanchiment du produit de la traite", [op25], scorer)
    assert "blanchiment" in quote.text and not quote.whole
    assert quote.text in op25.text


def test_named_units_are_quoted_from_their_start(document: Document, retriever) -> None:
    scorer = ClauseScorer(retriever.embeddings)
    [quote] = extract("blanchiment", [document.get("OP25")], scorer, whole=["OP25"])
    assert document.get("OP25").text.startswith(quote.text)


def test_rendered_answer_labels_each_quote(document: Document, retriever) -> None:
    scorer = ClauseScorer(retriever.embeddings)
    quotes = extract("Statut de Rome", [document.get("PP16"), document.get("fn9")], scorer)
    fr, en = render(quotes, "fr"), render(quotes, "en")
    assert fr.splitlines()[1].endswith("(16e alinéa du préambule)") and "« " in fr
    assert en.splitlines()[2].endswith("(footnote 9)") and "“" in en
