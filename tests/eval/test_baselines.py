"""The baselines: BM25 over units, dense over units, the naive chunk pipeline mapped back to unit ids."""

from __future__ import annotations

from resolution_qa.eval.baselines import BM25Only, DenseOnly, NaiveChunks, Ours, overlapping_units, unit_spans
from resolution_qa.ingest import BUNDLED_PATH, Document
from tests.fakes import CannedRetriever


def test_every_block_of_the_file_belongs_to_a_unit(document: Document) -> None:
    text = BUNDLED_PATH.read_text(encoding="utf-8")
    spans = unit_spans(text, document)
    assert {uid for _, _, uid in spans} == {u.id for u in document.units}
    blocks = [b for b in text.split("\n\n") if b.strip()]
    assert len(spans) == len(blocks)
    starts = {uid: text[s:e] for s, e, uid in reversed(spans)}  # first block of each unit
    assert starts["OP27"].startswith("27. ")
    assert starts["fn17"].startswith("¹⁷ ")
    # PP2 is cut by a page break: two blocks, with footnotes 1..7 between them
    pp2 = [(s, e) for s, e, uid in spans if uid == "PP2"]
    assert len(pp2) == 2 and text[pp2[1][0]:pp2[1][1]].startswith("répression de la traite")
    assert overlapping_units(spans, pp2[0][1] - 5, pp2[1][0] + 5) == ["PP2", *[f"fn{n}" for n in range(1, 8)]]


def test_bm25_matches_words_and_drops_zero_scores(document: Document) -> None:
    bm25 = BM25Only(document)
    hits = bm25.search("Organisation internationale du Travail travail forcé", 5)
    assert {"OP5", "PP12"} & {slot[0] for slot in hits.ranking[:2]}
    assert bm25.search("le la les de", 5).ranking == []  # stop words only
    assert bm25.search("cryptocurrency blockchain", 10).ranking == []  # no word of the text
    assert hits.best_dense is None


def test_dense_only_ranks_the_unit_with_the_same_words_first(document: Document, bow_embeddings) -> None:
    dense = DenseOnly(document, bow_embeddings)
    op27 = document.get("OP27")
    hits = dense.search(op27.text, 10)
    assert hits.ranking[0] == ["OP27"] and len(hits.ranking) == 10
    assert hits.best_dense is not None and abs(hits.best_dense - 1.0) < 1e-5


def test_naive_chunks_map_to_the_units_they_overlap(document: Document, bow_embeddings) -> None:
    text = BUNDLED_PATH.read_text(encoding="utf-8")
    naive = NaiveChunks(text, document, bow_embeddings)
    assert 40 <= naive.chunk_count <= 120 and naive.units_per_chunk > 1
    hits = naive.search(document.get("OP10").text, 3)
    assert len(hits.ranking) == 3 and "OP10" in hits.ranking[0]
    assert all(uid and document.get(uid) for slot in hits.ranking for uid in slot)
    # a second instance gets its own collection (the ephemeral Chroma client is shared in-process)
    again = NaiveChunks(text, document, bow_embeddings)
    assert again.search(document.get("OP10").text, 1).ranking == hits.ranking[:1]


def test_ours_ranks_references_and_ranked_hits_and_keeps_expansions_as_context(document: Document) -> None:
    hits = Ours(CannedRetriever(document)).search("par. 27", 10)
    assert hits.ranking[:2] == [["OP27"], ["OP3"]] and len(hits.ranking) == 10
    assert ["fn20"] not in hits.ranking
    assert hits.context == ["OP27", "OP3", "fn20"] and hits.best_dense == 0.6


def test_ours_without_context_searches_once(document: Document) -> None:
    retriever = CannedRetriever(document)
    hits = Ours(retriever, with_context=False).search("par. 27", 10)
    assert retriever.calls == [10] and hits.context == [] and hits.ranking[0] == ["OP27"]
