"""A corpus of resolutions in one index (real Chroma, fake embedder): folders, routing by symbol, filters, BM25 per language."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from resolution_qa.core.errors import InputFileError, ReferenceOutOfRangeError, UnknownDocumentError
from resolution_qa.ingest import BUNDLED_PATH, Document, parse_file, parse_text
from resolution_qa.vectorstore import BUNDLED_SOURCE, UnitIndex, ingest, open_retriever
from resolution_qa.vectorstore.lexical import LexicalIndex
from resolution_qa.vectorstore.retriever import UnitRetriever
from tests.fakes import BagOfWordsEmbeddings
from tests.support import CORPUS

SYMBOLS = ["A/RES/75/158", "A/RES/75/901", "A/RES/75/902"]


@pytest.fixture(scope="module")
def corpus(module_index_settings) -> UnitRetriever:
    """The bundled resolution and the two fixtures, named as settings.documents do: a file and a folder; one
    index per mode for the module's read-only tests."""
    settings = module_index_settings.model_copy(update={"documents": [BUNDLED_PATH, CORPUS]})
    return open_retriever(settings, BagOfWordsEmbeddings.small())


def keys(result, n: int | None = None) -> list[str]:
    return [h.unit.key for h in result.hits[:n]]


def test_a_folder_in_the_documents_setting_is_ingested_with_its_files(corpus, module_index_settings,
                                                                      fake_embeddings) -> None:
    assert [d.symbol for d in corpus.documents] == SYMBOLS and corpus.symbols == SYMBOLS
    info = UnitIndex(module_index_settings.store, module_index_settings.embedding, fake_embeddings).info()
    assert info is not None
    assert info.sources == (BUNDLED_SOURCE, *(str(p.resolve()) for p in sorted(CORPUS.glob("*.txt"))))


def test_ingest_paths_may_be_folders_and_duplicates_are_refused(index_settings, fake_embeddings, tmp_path) -> None:
    report = ingest(index_settings, fake_embeddings, paths=[CORPUS])
    assert report.documents == ("A/RES/75/901", "A/RES/75/902")
    twice = tmp_path / "twice"
    twice.mkdir()
    shutil.copy(CORPUS / "A_RES_75_901.en.txt", twice / "a.txt")
    shutil.copy(CORPUS / "A_RES_75_901.en.txt", twice / "b.txt")
    with pytest.raises(InputFileError, match="same symbol"):
        ingest(index_settings, fake_embeddings, paths=[twice])
    assert UnitIndex(index_settings.store, index_settings.embedding, fake_embeddings).info().sources == tuple(  # the failed ingest changed nothing
        str(p.resolve()) for p in sorted(CORPUS.glob("*.txt"))
    )
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputFileError, match="folder holds no .txt"):
        ingest(index_settings, fake_embeddings, paths=[tmp_path / "empty"])


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What does paragraph 3 of resolution 75/901 say?", "A/RES/75/901#OP3"),
        ("Que dit le par. 5 de la résolution 75/158 ?", "A/RES/75/158#OP5"),
        ("A/RES/75/902, par. 2", "A/RES/75/902#OP2"),
        ("para. 1 of resolution A/RES/75/901", "A/RES/75/901#OP1"),
        ("In resolution 75/902, what does paragraph 2 say?", "A/RES/75/902#OP2"),  # named apart from the reference
        ("Que dit la note 3 de la résolution 75/902 ?", "A/RES/75/902#fn3"),
        ("par. 40", "A/RES/75/158#OP40"),  # only one resolution has a paragraph 40
    ],
)
def test_a_reference_goes_to_the_resolution_it_names(corpus, question: str, expected: str) -> None:
    result = corpus.search(question)
    assert (result.hits[0].unit.key, result.hits[0].via) == (expected, "reference")
    assert [h.unit.key for h in result.hits if h.via == "reference"] == [expected]


def test_a_named_resolution_scopes_the_ranking(corpus) -> None:
    result = corpus.search("What does resolution 75/902 say about victims?")
    assert {h.unit.doc for h in result.hits} == {"A/RES/75/902"}


def test_a_bare_reference_in_several_documents(corpus) -> None:
    # Nothing but the reference: each resolution's paragraph 2, in index order, so the user can pick.
    bare = corpus.search("Que dit le par. 2 ?")
    assert [h.unit.key for h in bare.hits if h.via == "reference"] == [f"{s}#OP2" for s in SYMBOLS]
    # The rest of the question picks the resolution.
    topical = corpus.search("What does para. 2 say about marine protected areas and mangroves?")
    assert [h.unit.key for h in topical.hits if h.via == "reference"] == ["A/RES/75/901#OP2"]
    # A filter picks it too.
    filtered = corpus.search("par. 2", docs=["75/902"])
    assert [h.unit.key for h in filtered.hits if h.via == "reference"] == ["A/RES/75/902#OP2"]


def test_out_of_range_names_the_resolutions_searched(corpus) -> None:
    with pytest.raises(ReferenceOutOfRangeError) as info:
        corpus.search("par. 60")
    assert info.value.docs == tuple(SYMBOLS) and info.value.maximum == 52
    assert "none of A/RES/75/158, A/RES/75/901, A/RES/75/902 has paragraph 60 (they have 52, 4, 4" in str(info.value)
    with pytest.raises(ReferenceOutOfRangeError, match="A/RES/75/901 has 4 operative paragraphs") as named:
        corpus.search("paragraph 9 of resolution 75/901")
    assert named.value.docs == ("A/RES/75/901",)
    with pytest.raises(ReferenceOutOfRangeError) as filtered:
        corpus.search("par. 9", docs=["A/RES/75/902"])
    assert filtered.value.docs == ("A/RES/75/902",)


def test_a_filter_keeps_ranking_and_expansions_inside_its_documents(corpus) -> None:
    free = corpus.search("coral reefs bleaching ocean", k=3)
    assert free.hits[0].unit.doc == "A/RES/75/901"
    for docs, allowed in ((["A/RES/75/158"], {"A/RES/75/158"}), (["75/158", "a/res/75/902"], {"A/RES/75/158", "A/RES/75/902"})):
        result = corpus.search("coral reefs bleaching ocean", k=8, docs=docs)
        assert result.hits and {h.unit.doc for h in result.hits} <= allowed


def test_an_unknown_symbol_lists_the_indexed_ones(corpus) -> None:
    with pytest.raises(UnknownDocumentError) as info:
        corpus.search("coral", docs=["A/RES/75/1"])
    assert str(info.value) == (
        "A/RES/75/1 is not in the index (indexed: A/RES/75/158, A/RES/75/901, A/RES/75/902); "
        "pick one of those or ingest it first"
    )


def test_one_document_index_is_unchanged_by_filters_and_symbols(index_settings, fake_embeddings, document) -> None:
    retriever = open_retriever(index_settings, fake_embeddings, documents=[document])
    for question in ("Que dit le paragraphe 27 ?", "les victimes de la traite", "note 17", "PP3", "par. 5 de la résolution"):
        plain = retriever.search(question)
        for docs in (["A/RES/75/158"], ["75/158"]):
            assert retriever.search(question, docs=docs).hits == plain.hits
    with pytest.raises(ReferenceOutOfRangeError, match="^A/RES/75/158 has 52 operative paragraphs; there is no paragraph 60$"):
        retriever.search("Que dit le paragraphe 60 ?")


def _bm25_as_before(units, question: str) -> dict[str, float]:
    """BM25 as it was computed before corpora: one French stemmer for units and question."""
    import bm25s
    import numpy as np
    import Stemmer

    from resolution_qa.vectorstore.lexical import _stopwords, fold

    stemmer = Stemmer.Stemmer("french")
    model = bm25s.BM25()
    model.index(bm25s.tokenize([fold(u.text) for u in units], stopwords=list(_stopwords()), stemmer=stemmer,
                               show_progress=False), show_progress=False)
    tokens = bm25s.tokenize([fold(question)], stopwords=list(_stopwords()), stemmer=stemmer, show_progress=False,
                            return_ids=False)[0]
    raw = np.asarray(model.get_scores(tokens), dtype=float)
    return {u.key: float(v) for u, v in zip(units, raw / raw.max(), strict=True)} if raw.max() > 0 else {}


def test_bm25_on_one_french_document_is_as_before(document: Document) -> None:
    lexical = LexicalIndex(document.units)
    for question in ("traite des femmes et des filles", "Khartoum", "What about forced labour?", "victimes protégées"):
        assert lexical.scores(question) == pytest.approx(_bm25_as_before(document.units, question))


def test_bm25_stems_each_unit_in_its_own_language() -> None:
    reefs, roads = (parse_file(p) for p in sorted(CORPUS.glob("*.txt")))
    units = [*reefs.units, *roads.units]
    lexical = LexicalIndex(units)
    # "restored" meets "restoration" and "bleached" meets "bleaching" only through the English stemmer.
    for question, expected in (("restored", "A/RES/75/901#OP3"), ("bleached", "A/RES/75/901#PP2"),
                               ("piétons", "A/RES/75/902#PP2")):
        scores = lexical.scores(question)
        assert max(scores, key=scores.get) == expected, question
    assert _bm25_as_before(units, "restored") == {}  # one French stemmer found nothing


@pytest.mark.slow
def test_real_model_routes_by_topic_and_by_symbol(tmp_path, real_embeddings) -> None:
    """EmbeddingGemma over three small resolutions (no bundled text, embedded store only: kept lean)."""
    from resolution_qa.core.settings import Settings

    english = Path(__file__).parent.parent / "fixtures" / "A_RES_75_999.en.txt"
    documents = [parse_file(p) for p in (english, *sorted(CORPUS.glob("*.txt")))]
    settings = Settings(_env_file=None, index_dir=tmp_path / "index", backend="extractive")
    retriever = open_retriever(settings, real_embeddings, documents=documents)
    for question, symbol in (
        ("What does the resolution say about coral bleaching?", "A/RES/75/901"),
        ("Que dit la résolution sur le port du casque et de la ceinture de sécurité ?", "A/RES/75/902"),
        ("Which text deals with land ownership for rural women?", "A/RES/75/999"),
        ("What is asked about drunk driving and speeding?", "A/RES/75/902"),  # English question, French text
    ):
        result = retriever.search(question, k=3)
        assert [h.unit.doc for h in result.hits[:3]] == [symbol] * 3, (question, keys(result, 3))
    named = retriever.search("Que dit le paragraphe 2 de la résolution 75/901 ?")
    assert (named.hits[0].unit.key, named.hits[0].via) == ("A/RES/75/901#OP2", "reference")
    topical = retriever.search("What does paragraph 2 say about marine protected areas?")
    assert [h.unit.key for h in topical.hits if h.via == "reference"] == ["A/RES/75/901#OP2"]


def test_out_of_range_in_a_large_corpus_stays_one_short_line(index_settings, fake_embeddings) -> None:
    text = (CORPUS / "A_RES_75_901.en.txt").read_text(encoding="utf-8")
    documents = [parse_text(text.replace("75/901", f"75/{n}"), name=f"{n}.txt") for n in range(910, 918)]
    retriever = open_retriever(index_settings, fake_embeddings, documents=documents)
    with pytest.raises(ReferenceOutOfRangeError) as info:
        retriever.search("par. 60")
    message = str(info.value)
    assert "\n" not in message and "A/RES/75/917" not in message
    assert message.startswith("none of the 8 indexed resolutions (A/RES/75/910, A/RES/75/911, A/RES/75/912, ...)")
    assert "at most 4 operative paragraphs" in message and info.value.docs == tuple(d.symbol for d in documents)
