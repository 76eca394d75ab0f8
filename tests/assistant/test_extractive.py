"""The extractive backend's pieces: passages cut at clause boundaries, the passage closest to the question."""

from __future__ import annotations

from resolution_qa.assistant.extractive import PASSAGE_CHARS, PassageScorer, extract, passages, render
from resolution_qa.ingest import Document


def test_long_units_are_cut_into_passages_that_cover_them(document: Document) -> None:
    text = document.get("OP16").text
    parts = passages(text)
    assert len(parts) > 1
    assert " ".join(parts).split() == text.split()  # nothing lost, nothing added
    assert all(len(p) <= 2 * PASSAGE_CHARS for p in parts)


def test_short_units_stay_whole(document: Document) -> None:
    short = [u.text for u in document.units if len(u.text) <= PASSAGE_CHARS]
    assert len(short) > 10
    assert all(passages(text) == [text] for text in short)


def test_the_quoted_passage_is_the_one_about_the_question(document: Document, retriever) -> None:
    scorer = PassageScorer(retriever.embeddings)
    op25 = document.get("OP25")
    [quote] = extract("corruption et blanchiment du produit de la traite", [op25], scorer)
    assert "blanchiment" in quote.passage and not quote.whole
    assert quote.passage in op25.text


def test_named_units_are_quoted_from_their_start(document: Document, retriever) -> None:
    scorer = PassageScorer(retriever.embeddings)
    [quote] = extract("blanchiment", [document.get("OP25")], scorer, whole=["OP25"])
    assert document.get("OP25").text.startswith(quote.passage)


def test_rendered_answer_labels_each_quote(document: Document, retriever) -> None:
    scorer = PassageScorer(retriever.embeddings)
    quotes = extract("Statut de Rome", [document.get("PP16"), document.get("fn9")], scorer)
    fr, en = render(quotes, "fr"), render(quotes, "en")
    assert fr.splitlines()[1].endswith("(16e alinéa du préambule)") and "« " in fr
    assert en.splitlines()[2].endswith("(footnote 9)") and "“" in en
