"""Embedding in global length order (vectorstore.embeddings) and BM25 scores of chosen keys (lexical)."""

from __future__ import annotations

import pytest

from resolution_qa.vectorstore import ingest
from resolution_qa.vectorstore.embeddings import BATCHES_PER_CALL, embed_in_length_order
from resolution_qa.vectorstore.lexical import LexicalIndex


def test_vectors_come_back_in_text_order_and_calls_go_longest_first(fake_embeddings) -> None:
    texts = [f"mot{i} " * (i % 17 + 1) for i in range(100)]
    seen: list[tuple[int, int]] = []
    vectors = embed_in_length_order(fake_embeddings, texts, batch_size=4, progress=lambda d, t: seen.append((d, t)))
    assert vectors == [fake_embeddings._vector(t) for t in texts]
    calls = fake_embeddings.document_calls
    assert [len(c) for c in calls] == [4 * BATCHES_PER_CALL] * 3 + [100 - 3 * 4 * BATCHES_PER_CALL]
    lengths = [len(t) for call in calls for t in call]
    assert lengths == sorted(lengths, reverse=True)  # one global order across calls
    assert seen == [(0, 100), (32, 100), (64, 100), (96, 100), (100, 100)]


def test_nothing_to_embed_makes_no_call(fake_embeddings) -> None:
    assert embed_in_length_order(fake_embeddings, [], batch_size=16) == []
    assert fake_embeddings.document_calls == []


def test_an_embedder_returning_too_few_vectors_is_an_error(fake_embeddings) -> None:
    class Short(type(fake_embeddings)):
        def embed_documents(self, texts):
            return super().embed_documents(texts)[:-1]

    with pytest.raises(ValueError, match="returned 2 vectors for 3 texts"):
        embed_in_length_order(Short(), ["a", "bb", "ccc"], batch_size=16)


def test_ingest_reports_progress_up_to_every_passage(index_settings, fake_embeddings, document) -> None:
    seen: list[tuple[int, int]] = []
    report = ingest(index_settings, fake_embeddings, [document], progress=lambda d, t: seen.append((d, t)))
    assert seen[0] == (0, report.embedded) and seen[-1] == (report.embedded, report.embedded)
    assert fake_embeddings.documents_embedded == report.embedded  # each passage embedded once


def test_lexical_scores_of_chosen_keys_equal_the_full_scores(document) -> None:
    lexical = LexicalIndex(document.units)
    question = "traite des femmes et des filles, protection des victimes"
    full = lexical.scores(question)
    chosen = [u.key for u in document.units[::3]] + ["A/RES/1/1#OP1"]  # an unknown key is skipped
    assert lexical.scores(question, keys=chosen) == {k: full[k] for k in chosen if k in full}
    assert lexical.scores("et le la", keys=chosen) == {}
