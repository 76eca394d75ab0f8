"""Idempotent ingest on a real Chroma in a temporary folder: hashes, re-embedding, version checks, failed ingests."""

from __future__ import annotations

from pathlib import Path

import pytest

from resolution_qa.core.errors import IndexCorruptedError, IndexUnavailableError, InputFileError
from resolution_qa.core.settings import Settings
from resolution_qa.ingest import BUNDLED_PATH, Document, parse_text
from resolution_qa.vectorstore import ingest, open_retriever
from resolution_qa.vectorstore.index import UnitIndex
from resolution_qa.vectorstore.passages import Window, passages
from tests.fakes import BagOfWordsEmbeddings


def snapshot(settings: Settings, embeddings) -> dict[str, tuple[str, str]]:
    """id -> (hash, stored text) of every passage in the collection."""
    index = UnitIndex(settings.store, settings.embedding, embeddings)
    got = index.client.get_collection(index.generation, embedding_function=None).get(
        include=["metadatas", "documents"]
    )
    rows = zip(got["ids"], got["metadatas"], got["documents"], strict=True)
    return {pid: (meta["hash"], text) for pid, meta, text in rows}


def edited(document_text: str, old: str, new: str) -> Document:
    assert old in document_text
    return parse_text(document_text.replace(old, new, 1), name="edited")


@pytest.fixture(scope="module")
def bundled_text() -> str:
    return BUNDLED_PATH.read_text(encoding="utf-8")


def test_second_ingest_embeds_nothing_and_changes_nothing(index_settings, fake_embeddings, document) -> None:
    first = ingest(index_settings, fake_embeddings, [document])
    n_passages = len(passages(document, Window(size=2000)))
    assert (first.added, first.updated, first.removed, first.embedded) == (len(document), 0, 0, n_passages)
    before = snapshot(index_settings, fake_embeddings)
    calls = len(fake_embeddings.document_calls)

    second = ingest(index_settings, fake_embeddings, [document])

    assert len(fake_embeddings.document_calls) == calls  # embed_documents was not even called
    assert (second.added, second.updated, second.removed, second.unchanged, second.embedded) == (
        0, 0, 0, len(document), 0
    )
    assert not second.rebuilt
    assert snapshot(index_settings, fake_embeddings) == before


def test_a_changed_paragraph_is_reembedded_alone(index_settings, fake_embeddings, document, bundled_text) -> None:
    ingest(index_settings, fake_embeddings, [document])
    op27 = document.get("OP27")
    assert op27 is not None and not op27.footnotes  # no footnote passage quotes its words
    changed = edited(bundled_text, "27. *Engage instamment* les gouvernements", "27. *Engage instamment* tous les gouvernements")
    before = snapshot(index_settings, fake_embeddings)
    fake_embeddings.document_calls.clear()

    report = ingest(index_settings, fake_embeddings, [changed])

    assert (report.updated, report.added, report.removed, report.embedded) == (1, 0, 0, 1)
    assert len(fake_embeddings.document_calls) == 1
    [[text]] = fake_embeddings.document_calls
    assert "tous les gouvernements" in text
    after = snapshot(index_settings, fake_embeddings)
    assert {pid for pid in after if after[pid] != before[pid]} == {"A/RES/75/158#OP27"}


def test_removed_units_leave_the_index(index_settings, fake_embeddings, document) -> None:
    ingest(index_settings, fake_embeddings, [document])
    shorter = document.model_copy(update={"units": tuple(u for u in document.units if u.id != "OP52")})
    report = ingest(index_settings, fake_embeddings, [shorter])
    assert (report.removed, report.embedded) == (1, 0)
    assert "A/RES/75/158#OP52" not in snapshot(index_settings, fake_embeddings)


def test_another_embedding_model_triggers_a_rebuild(index_settings, document) -> None:
    ingest(index_settings, BagOfWordsEmbeddings.small(model="model-a"), [document])
    other = BagOfWordsEmbeddings.small(model="model-b")
    report = ingest(index_settings, other, [document])
    assert report.rebuilt and "embedding model changed" in (report.reason or "")
    assert report.embedded == len(passages(document, Window(size=2000)))
    assert UnitIndex(index_settings.store, index_settings.embedding, other).info().embedding.startswith("model-b")


def test_another_parser_version_triggers_a_rebuild(index_settings, fake_embeddings, document, monkeypatch) -> None:
    ingest(index_settings, fake_embeddings, [document])
    monkeypatch.setattr("resolution_qa.vectorstore.records.PARSER_VERSION", "999")
    report = ingest(index_settings, fake_embeddings, [document])
    assert report.rebuilt and "parser version changed (1 -> 999)" in (report.reason or "")
    assert UnitIndex(index_settings.store, index_settings.embedding, fake_embeddings).info().parser_version == "999"
    assert ingest(index_settings, fake_embeddings, [document]).embedded == 0  # and then it is stable again


def test_rebuild_on_request(index_settings, fake_embeddings, document) -> None:
    ingest(index_settings, fake_embeddings, [document])
    report = ingest(index_settings, fake_embeddings, [document], rebuild=True)
    assert report.rebuilt and report.reason == "requested" and report.added == len(document)


@pytest.mark.parametrize("rebuild", [False, True])
def test_a_failed_embedding_leaves_the_index_untouched(index_settings, fake_embeddings, document, rebuild) -> None:
    ingest(index_settings, fake_embeddings, [document])
    before = snapshot(index_settings, fake_embeddings)
    # Fails on its second batch, after the first one succeeded; same fingerprint ("fake-bow[64]") as the
    # embedder that built the index.
    failing = BagOfWordsEmbeddings.small(fail_after_calls=1)
    changed = document.model_copy(
        update={"units": tuple(u.model_copy(update={"text": u.text + " (révisé)"}) for u in document.units)}
    )
    small_calls = index_settings.model_copy(update={"embedding_batch_size": 2})  # several embed calls
    with pytest.raises(RuntimeError, match="embedding crashed"):
        ingest(small_calls, failing, [changed], rebuild=rebuild)
    assert snapshot(index_settings, fake_embeddings) == before


def test_a_bad_file_leaves_the_index_untouched(index_settings, fake_embeddings, tmp_path: Path) -> None:
    ingest(index_settings, fake_embeddings, paths=[BUNDLED_PATH])
    before = snapshot(index_settings, fake_embeddings)
    bad = tmp_path / "bad.txt"
    bad.write_text("Ceci n'est pas une résolution.\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="bad.txt"):
        ingest(index_settings, fake_embeddings, paths=[BUNDLED_PATH, bad])
    assert fake_embeddings.documents_embedded == len(before)  # nothing embedded for the failed ingest
    assert snapshot(index_settings, fake_embeddings) == before


def test_long_units_are_split_into_parts_that_keep_the_unit_id(index_settings, fake_embeddings, document, monkeypatch):
    monkeypatch.setattr("resolution_qa.vectorstore.index.FALLBACK_WINDOW_CHARS", 300)
    report = ingest(index_settings, fake_embeddings, [document])
    stored = snapshot(index_settings, fake_embeddings)
    long_units = [u for u in document.units if len(u.text) > 400]
    assert long_units and report.embedded > len(document)
    for unit in long_units:
        parts = sorted(pid for pid in stored if pid == unit.key or pid.startswith(unit.key + "~"))
        assert len(parts) >= 2
        assert all(stored[pid][1].startswith(unit.label(unit.lang)) for pid in parts)  # each part keeps its label
    index = UnitIndex(index_settings.store, index_settings.embedding, fake_embeddings)
    assert index.documents()[0].units == document.units  # parts never turn into extra units
    scores = index.dense(fake_embeddings.embed_query("traite des femmes"), limit=index.count())
    assert set(scores) == {u.key for u in document.units}


def test_metadata_and_recorded_versions(index_settings, fake_embeddings, document) -> None:
    ingest(index_settings, fake_embeddings, [document])
    index = UnitIndex(index_settings.store, index_settings.embedding, fake_embeddings)
    collection = index.client.get_collection(index.generation, embedding_function=None)
    meta = collection.get(ids=["A/RES/75/158#OP5"], include=["metadatas"])["metadatas"][0]
    assert (meta["doc"], meta["unit_id"], meta["kind"], meta["number"], meta["lang"]) == (
        "A/RES/75/158", "OP5", "operative", 5, "fr"
    )
    assert meta["footnotes"] == ",".join(document.get("OP5").footnotes)
    assert collection.configuration["hnsw"]["space"] == "cosine"
    info = index.info()
    assert info is not None and info.embedding.startswith("fake-bow") and info.parser_version == "1"
    assert index.documents() == [document.model_copy(update={"warnings": ()})]


def test_a_foreign_collection_is_rebuilt_not_mixed(index_settings, fake_embeddings, document) -> None:
    index = UnitIndex(index_settings.store, index_settings.embedding, fake_embeddings)
    foreign = index.client.create_collection(index_settings.collection, embedding_function=None)
    foreign.add(ids=["x"], embeddings=[[0.0] * 64], documents=["someone else's"])
    report = ingest(index_settings, fake_embeddings, [document])
    assert report.rebuilt and "not built by resolution-qa" in (report.reason or "")
    assert "x" not in snapshot(index_settings, fake_embeddings)


def test_open_retriever_keeps_what_ingest_paths_indexed(index_settings, fake_embeddings, tmp_path, bundled_text):
    copy = tmp_path / "copy.txt"
    copy.write_text(bundled_text.replace("Traite des femmes et des filles", "Traite des êtres humains", 1), "utf-8")
    ingest(index_settings, fake_embeddings, paths=[copy])
    retriever = open_retriever(index_settings, fake_embeddings)
    assert retriever.document.title == "Traite des êtres humains"
    copy.unlink()
    with pytest.raises(IndexUnavailableError, match="no longer exists"):
        open_retriever(index_settings, fake_embeddings)


def test_settings_documents_are_indexed(index_settings, fake_embeddings, tmp_path, bundled_text) -> None:
    copy = tmp_path / "copy.txt"
    copy.write_text(bundled_text, "utf-8")
    settings = index_settings.model_copy(update={"documents": [copy]})
    retriever = open_retriever(settings, fake_embeddings)
    assert UnitIndex(settings.store, settings.embedding, fake_embeddings).info().sources == (str(copy.resolve()),)
    assert retriever.document.symbol == "A/RES/75/158"


def test_an_unusable_index_folder_is_a_clear_error(tmp_path: Path, fake_embeddings) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    with pytest.raises(IndexUnavailableError, match="cannot open the vector index"):
        settings = Settings(index_dir=blocker)
        UnitIndex(settings.store, settings.embedding, fake_embeddings)


def test_an_index_in_the_older_in_place_format_is_rebuilt_once(index_settings, fake_embeddings, document) -> None:
    index = UnitIndex(index_settings.store, index_settings.embedding, fake_embeddings)
    legacy = index.client.create_collection(
        index_settings.collection, embedding_function=None,
        metadata={"rqa_embedding": "fake-bow[64]|-,-", "rqa_parser_version": "1", "rqa_passage_version": "1"},
    )
    legacy.add(ids=["A/RES/75/158#OP1"], embeddings=[[1.0] + [0.0] * 63], documents=["old text"])
    report = ingest(index_settings, fake_embeddings, [document])
    assert report.rebuilt and report.reason == "older index format (written in place)"
    pointer = index.client.get_collection(index_settings.collection, embedding_function=None)
    assert pointer.count() == 0 and pointer.metadata["rqa_active"] == UnitIndex(index_settings.store, index_settings.embedding, fake_embeddings).generation
    assert snapshot(index_settings, fake_embeddings)["A/RES/75/158#OP1"][1] != "old text"
    assert ingest(index_settings, fake_embeddings, [document]).embedded == 0


def test_a_refused_request_is_not_taken_for_a_damaged_store(index_settings, fake_embeddings, document) -> None:
    bad = index_settings.model_copy(update={"collection": "a?"})  # not a valid Chroma collection name
    for rebuild in (False, True):
        with pytest.raises(IndexUnavailableError) as error:
            ingest(bad, fake_embeddings, [document], rebuild=rebuild)
        assert not isinstance(error.value, IndexCorruptedError) and "\n" not in str(error.value)
    assert not list(index_settings.index_dir.parent.glob("*.broken-*"))  # --rebuild moved nothing aside


def test_only_the_active_and_the_previous_generation_are_kept(index_settings, fake_embeddings, document) -> None:
    names = []
    for n in range(4):
        changed = document.model_copy(update={"units": document.units[: len(document.units) - n]})
        ingest(index_settings, fake_embeddings, [changed])
        names.append(UnitIndex(index_settings.store, index_settings.embedding, fake_embeddings).generation)
    index = UnitIndex(index_settings.store, index_settings.embedding, fake_embeddings)
    ours = {c.name for c in index.client.list_collections() if c.name.startswith(index_settings.collection + "__")}
    assert len(set(names)) == 4 and ours == set(names[-2:])
