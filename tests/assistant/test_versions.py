"""Language versions of one resolution: one document, aligned by number; the question's language picks the
version quoted and written from; the citation is the same unit in both."""

from __future__ import annotations

from pathlib import Path

import pytest

from resolution_qa.assistant import Assistant
from resolution_qa.core.settings import Settings
from resolution_qa.ingest import Document, merge_versions, parse_file
from tests.fakes import FakeRetriever, ScriptedReader

VERSIONS = Path(__file__).resolve().parents[1] / "fixtures" / "versions"


@pytest.fixture(scope="module")
def both() -> Document:
    french, english = parse_file(VERSIONS / "A_RES_75_903.fr.txt"), parse_file(VERSIONS / "A_RES_75_903.en.txt")
    merged = merge_versions([french, english])
    assert len(merged) == 1
    return merged[0]


def test_the_versions_are_one_document_aligned_by_number(both: Document) -> None:
    assert both.symbol == "A/RES/75/903" and both.lang == "fr" and not both.warnings
    op2 = both.get("OP2")
    assert op2.text.startswith("Demande aux États de construire")
    assert op2.text_in("en").startswith("Calls upon States to build separate")
    assert op2.text_in("fr") == op2.text and op2.lang_of("en") == "en"
    assert all(u.text_in("en") != u.text for u in both.units if u.kind != "header")


def test_a_version_that_does_not_align_is_named(both: Document) -> None:
    english = parse_file(VERSIONS / "A_RES_75_903.en.txt")
    shorter = english.model_copy(update={"units": tuple(u for u in english.units if u.id != "OP4")})
    merged = merge_versions([parse_file(VERSIONS / "A_RES_75_903.fr.txt"), shorter])[0]
    assert any("does not align" in w and "OP4" in w for w in merged.warnings)
    assert merged.get("OP4").text_in("en") == merged.get("OP4").text  # quoted in French, the version it has


@pytest.mark.parametrize(
    ("question", "lang", "quoted", "label"),
    [
        ("What does paragraph 2 ask States to build?", "en", "Calls upon States to build separate", "para. 2"),
        ("Que demande le paragraphe 2 aux États de construire ?", "fr", "Demande aux États de construire", "par. 2"),
    ],
)
def test_the_question_language_picks_the_version_quoted(
    both: Document, settings: Settings, question: str, lang: str, quoted: str, label: str
) -> None:
    answer = Assistant(settings, backend="extractive", retriever=FakeRetriever(both)).ask(question)
    assert answer.language == lang
    assert [c.id for c in answer.citations][:1] == ["OP2"] and answer.citations[0].label == label
    assert answer.citations[0].formal == f"A/RES/75/903, {label}"
    assert quoted in answer.text and quoted in answer.citations[0].text
    assert "(French text, quoted)" not in answer.text  # the English reader reads the official English text


def test_the_model_writes_from_the_version_in_the_question_language(both: Document, settings: Settings) -> None:
    reader = ScriptedReader("States to build separate toilets for girls in every school.")
    assistant = Assistant(settings.model_copy(update={"min_support": -1.0}), backend="llamacpp",
                          retriever=FakeRetriever(both), reader=reader)
    answer = assistant.ask("What does paragraph 2 say?")
    assert reader.read[0].lang == "en" and reader.read[0].text.startswith("Calls upon States")
    assert answer.text.startswith("Para. 2 calls upon States to build separate toilets")
    assert "Unofficial" not in answer.text  # written from the official English version, not rendered from French
    assert [c.id for c in answer.citations] == ["OP2"]


def test_both_files_index_as_one_document(settings: Settings) -> None:
    from resolution_qa.vectorstore import ingest, open_retriever
    from tests.fakes import BagOfWordsEmbeddings

    paths = [VERSIONS / "A_RES_75_903.fr.txt", VERSIONS / "A_RES_75_903.en.txt"]
    report = ingest(settings, BagOfWordsEmbeddings(), paths=paths)
    assert report is not None
    retriever = open_retriever(settings.model_copy(update={"documents": paths}), BagOfWordsEmbeddings())
    assert [d.symbol for d in retriever.documents] == ["A/RES/75/903"]
    assert retriever.documents[0].get("OP1").text_in("en").startswith("Urges Governments")
    stored = retriever.index.documents()  # what another process reloads: the versions were stored with the units
    assert stored[0].get("OP1").text_in("en").startswith("Urges Governments")
