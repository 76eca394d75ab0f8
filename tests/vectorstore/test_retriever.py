"""Retrieval logic on a real Chroma with the fake embedder: references at rank 1, expansions after the k ranked hits."""

from __future__ import annotations

import pytest

from resolution_qa.core.errors import EmptyQuestionError, ReferenceOutOfRangeError
from resolution_qa.ingest import Document, parse_text
from resolution_qa.vectorstore import open_retriever
from resolution_qa.vectorstore.lexical import LexicalIndex
from resolution_qa.vectorstore.retriever import UnitRetriever
from tests.fakes import BagOfWordsEmbeddings

ENGLISH = """Seventy-sixth session
Agenda item 5

Resolution adopted by the General Assembly on 1 January 2021

76/1. Testing retrieval

The General Assembly,

Recalling its resolution 1/1¹,

¹ Official Records, vol. 1.

1. *Urges* States to test retrieval with lighthouses;

2. *Requests* the Secretary-General to report on testing.

*1st plenary meeting*
*1 January 2021*
"""


@pytest.fixture(scope="module")
def retriever(module_index_settings, document) -> UnitRetriever:
    """One index per mode for the module's read-only tests (the tests that build an index use index_settings)."""
    return open_retriever(module_index_settings, BagOfWordsEmbeddings.small(), documents=[document])


def ranked(result, k):
    return [h.unit.id for h in result.hits[:k]]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Que dit le paragraphe 27 ?", "OP27"),
        ("Summarize para. 44 for me.", "OP44"),
        ("What does OP21 say?", "OP21"),
        ("What's in the 33rd preambular paragraph?", "PP33"),
        ("Que dit le 16e alinéa du préambule ?", "PP16"),
        ("Que dit le dernier alinéa du préambule ?", "PP38"),
        ("Quelle est la référence donnée dans la note 17 ?", "fn17"),
        ("fn 29", "fn29"),
        ("A/RES/75/158, par. 27", "OP27"),
    ],
)
def test_explicit_references_are_rank_one(retriever, question, expected) -> None:
    result = retriever.search(question)
    first = result.hits[0]
    assert (first.unit.id, first.via, first.score) == (expected, "reference", 1.0)
    assert [r.unit_id for r in result.references][0] in (expected, "PPlast")


def test_what_a_named_unit_links_to_is_ranked_next(retriever) -> None:
    result = retriever.search("Which document is the report that paragraph 1 takes note of?", k=3)
    assert ranked(result, 2) == ["OP1", "fn17"]
    assert result.hits[1].via == "ranked"
    footnote = retriever.search("Footnote 29: which volume, and for which convention?", k=3)
    assert ranked(footnote, 3)[0] == "fn29" and set(ranked(footnote, 3)[1:]) == {"OP5", "fn20"}  # citer + Ibid. source


def test_expansions_follow_the_k_ranked_hits(retriever, document) -> None:
    result = retriever.search("par. 5", k=1)
    assert ranked(result, 1) == ["OP5"]
    expansions = result.hits[1:]
    assert [h.unit.id for h in expansions] == list(document.get("OP5").footnotes)
    assert {h.via for h in expansions} == {"footnote"}

    note = retriever.search("note 17", k=1)
    assert [(h.unit.id, h.via) for h in note.hits] == [("fn17", "reference"), ("OP1", "referrer")]


@pytest.mark.parametrize("k", [1, 3, 5, 8])
def test_expansions_never_push_ranked_hits_out(retriever, document, k) -> None:
    for question in ("traite des femmes et des filles", "Recueil des Traités", "note 21", "What does OP5 say?"):
        result = retriever.search(question, k=k)
        head, tail = result.hits[:k], result.hits[k:]
        assert len(head) == k and all(h.via in ("reference", "ranked") for h in head)
        assert all(h.via in ("footnote", "referrer") for h in tail)
        linked = {u.id for h in head for u in _links(h.unit, document)}
        assert {h.unit.id for h in tail} <= linked
        assert len({h.unit.id for h in result.hits}) == len(result.hits)  # no unit twice


def _links(unit, document: Document):
    from resolution_qa.vectorstore.links import related

    return related(unit, document)


def test_scores_and_best_dense(retriever) -> None:
    result = retriever.search("les victimes de la traite des êtres humains")
    ranked_hits = [h for h in result.hits if h.via == "ranked"]
    assert [h.score for h in ranked_hits] == sorted((h.score for h in ranked_hits), reverse=True)
    weight = retriever.lexical_weight
    assert all(h.dense is not None and -1e-9 <= h.score - h.dense <= weight + 1e-9 for h in ranked_hits)
    assert result.best_dense == pytest.approx(max(h.dense for h in result.hits))


@pytest.mark.parametrize("question", ["", "   ", "\n\t "])
def test_empty_question_is_an_error(retriever, question) -> None:
    with pytest.raises(EmptyQuestionError, match="empty"):
        retriever.search(question)


def test_out_of_range_is_reported_not_answered(retriever) -> None:
    with pytest.raises(ReferenceOutOfRangeError, match="52 operative paragraphs; there is no paragraph 60"):
        retriever.search("Que dit le paragraphe 60 de la résolution ?")


def test_references_into_other_texts_are_not_answered_as_ours(retriever) -> None:
    for question in ("Que dit le rapport A/75/471, par. 80 ?", "What does paragraph 5 of resolution 64/293 say?"):
        result = retriever.search(question)
        assert all(h.via != "reference" for h in result.hits)


def test_langchain_documents(retriever, document, monkeypatch) -> None:
    docs = retriever.invoke("Que dit le paragraphe 5 ?", k=2)
    assert len(docs) == 2
    first = docs[0]
    assert first.page_content == document.get("OP5").text
    assert first.metadata | {"score": 0, "dense": 0} == {
        "doc": "A/RES/75/158", "unit_id": "OP5", "kind": "operative", "number": 5,
        "footnotes": ",".join(document.get("OP5").footnotes), "lang": "fr", "score": 0, "via": "reference", "dense": 0,
    }
    monkeypatch.setattr(retriever, "include_expansions", True)  # the retriever is the module's: set back after
    assert len(retriever.invoke("Que dit le paragraphe 5 ?", k=1)) == 1 + len(document.get("OP5").footnotes)


def test_lexical_weight_adds_scaled_bm25(index_settings, fake_embeddings, document) -> None:
    settings = index_settings.model_copy(update={"lexical_weight": 0.3})
    retriever = open_retriever(settings, fake_embeddings, documents=[document])
    question = "Khartoum"
    result = retriever.search(question, k=10)
    lexical = LexicalIndex(document.units).scores(question)
    best = max(lexical, key=lexical.get)
    assert lexical[best] == 1.0 and result.hits[0].unit.key == best
    for hit in result.hits[:10]:
        assert hit.score == pytest.approx(hit.dense + 0.3 * lexical.get(hit.unit.key, 0.0))


def test_several_documents(index_settings, fake_embeddings, document) -> None:
    english = parse_text(ENGLISH, name="english")
    assert english.symbol == "A/RES/76/1"
    retriever = open_retriever(index_settings, fake_embeddings, documents=[document, english])
    assert retriever.document is document and len(retriever.documents) == 2
    named = retriever.search("A/RES/76/1, para. 2")
    assert (named.hits[0].unit.key, named.hits[0].via) == ("A/RES/76/1#OP2", "reference")
    bare = retriever.search("para. 2")
    assert bare.hits[0].unit.key == "A/RES/75/158#OP2"
    with pytest.raises(ReferenceOutOfRangeError, match="A/RES/76/1 has 2 operative paragraphs"):
        retriever.search("A/RES/76/1, para. 3")
    lighthouse = retriever.search("lighthouses", k=1)
    assert lighthouse.hits[0].unit.key == "A/RES/76/1#OP1"
