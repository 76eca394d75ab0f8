"""Data safety of the index, in the embedded store and on a real Chroma server: a killed or failing ingest leaves
the previous index as it was, readers during an ingest see the old index or the new one (never a mix), a damaged
store is a one-line error that `ingest --rebuild` recovers from."""

from __future__ import annotations

import json
import math
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from resolution_qa.core.errors import IndexCorruptedError, IndexUnavailableError
from resolution_qa.core.settings import Settings
from resolution_qa.ingest import BUNDLED_PATH, Document, parse_file, parse_text
from resolution_qa.vectorstore import FollowingRetriever, UnitRetriever, ingest, open_retriever
from resolution_qa.vectorstore.client import forget
from resolution_qa.vectorstore.generations import GenerationGoneError
from resolution_qa.vectorstore.index import UnitIndex
from resolution_qa.vectorstore.passages import Window, passages
from resolution_qa.vectorstore.sync import GenerationWriter
from tests.fakes import BagOfWordsEmbeddings
from tests.support import run_cli

HERE = Path(__file__).parent
CHILD = HERE / "killable_ingest.py"


@pytest.fixture
def versions(tmp_path: Path) -> tuple[Path, Path]:
    """The bundled resolution, and a revision of it in which most units changed."""
    text = BUNDLED_PATH.read_text(encoding="utf-8")
    old, new = tmp_path / "v1.txt", tmp_path / "v2.txt"
    old.write_text(text, encoding="utf-8")
    new.write_text(text.replace("traite", "traite (révisée)"), encoding="utf-8")
    return old, new


def changed_units(old: Path, new: Path) -> int:
    """Units with a passage to embed again (a footnote's passage also changes with the paragraph citing it)."""
    before = {p.id: p.hash for p in passages(parse_file(old), Window(size=2000))}
    return len({p.unit.key for p in passages(parse_file(new), Window(size=2000)) if before.get(p.id) != p.hash})


def generations(settings: Settings) -> set[str]:
    index = UnitIndex(settings.store, settings.embedding, BagOfWordsEmbeddings.small())
    pattern = re.compile(re.escape(settings.collection) + r"__\d{8}T\d{6}[0-9a-f]{8}")
    return {c.name for c in index.client.list_collections() if pattern.fullmatch(c.name)}


def stored(settings: Settings) -> dict:
    """Everything readers can see: the pointer, and every record of the active generation with its vector."""
    index = UnitIndex(settings.store, settings.embedding, BagOfWordsEmbeddings.small())
    pointer = index.client.get_collection(settings.collection, embedding_function=None)
    got = index.client.get_collection(index.generation, embedding_function=None).get(
        include=["metadatas", "documents", "embeddings"]
    )
    rows = zip(got["ids"], got["metadatas"], got["documents"], got["embeddings"], strict=True)
    return {
        "pointer": dict(pointer.metadata or {}),
        "records": {pid: (json.dumps(meta, sort_keys=True), text, tuple(map(float, vector))) for pid, meta, text, vector in rows},
    }


def start_child(settings: Settings, document: Path, pause: str, *, step_s: float = 0.0) -> subprocess.Popen[str]:
    spec = {
        "settings": {
            "index_dir": str(settings.index_dir),
            "chroma_url": settings.chroma_url,
            "collection": settings.collection,
            "embedding_batch_size": 4,
        },
        "document": str(document),
        "pause": pause,
        "step_s": step_s,
        "write_batch": 10,
    }
    return subprocess.Popen(
        [sys.executable, str(CHILD), json.dumps(spec)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def wait_for_line(child: subprocess.Popen[str], prefix: str, timeout: float = 120.0) -> str:
    """The first stdout line of `child` starting with `prefix` (bounded in time)."""
    found: list[str] = []

    def read() -> None:
        for line in child.stdout:  # type: ignore[union-attr]
            if line.startswith(prefix):
                found.append(line.strip())
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout)
    if not found:
        child.kill()
        raise AssertionError(f"the child never printed {prefix!r}; stderr: {child.stderr.read()[-2000:]}")  # type: ignore[union-attr]
    return found[0]


@pytest.mark.server  # subprocesses: about 5-15 s each on a loaded 2-core machine
@pytest.mark.parametrize("point", ["embedding", "writing", "flip"])
def test_a_killed_ingest_leaves_the_previous_index_as_it_was(index_settings, versions, point) -> None:
    old, new = versions
    ingest(index_settings, BagOfWordsEmbeddings.small(), [parse_file(old)])
    before, first = stored(index_settings), generations(index_settings)

    child = start_child(index_settings, new, point)
    wait_for_line(child, f"AT {point}")
    child.send_signal(signal.SIGKILL)
    assert child.wait(timeout=30) == -signal.SIGKILL

    assert stored(index_settings) == before  # ids, hashes, texts, metadata and vectors, and the pointer
    leftovers = generations(index_settings) - first
    assert len(leftovers) == (0 if point == "embedding" else 1)  # the unfinished generation, never read
    fake = BagOfWordsEmbeddings.small()
    retriever = open_retriever(index_settings, fake, documents=[parse_file(old)])  # nothing to change
    assert fake.documents_embedded == 0
    assert retriever.search("paragraphe 27").hits[0].unit.text == parse_file(old).get("OP27").text
    assert "révisée" not in " ".join(h.unit.text for h in retriever.search("la traite des personnes").hits)

    report = ingest(index_settings, fake, [parse_file(new)])
    changed = changed_units(old, new)
    assert changed > 60 and (report.updated, report.added, report.removed, report.unchanged) == (changed, 0, 0, 125 - changed)
    assert generations(index_settings) == first | {UnitIndex(index_settings.store, index_settings.embedding, fake).generation}  # leftover removed
    assert "révisée" in retriever.search("paragraphe 27").hits[0].unit.text  # the reader followed


@pytest.mark.server  # subprocesses: about 5-15 s each on a loaded 2-core machine
def test_an_ingest_killed_after_the_flip_has_published_the_new_index(index_settings, versions) -> None:
    old, new = versions
    ingest(index_settings, BagOfWordsEmbeddings.small(), [parse_file(old)])
    child = start_child(index_settings, new, "flipped")
    wait_for_line(child, "AT flipped")
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    fake = BagOfWordsEmbeddings.small()
    report = ingest(index_settings, fake, [parse_file(new)])
    assert (report.embedded, report.unchanged) == (0, 125)  # the new generation was complete
    assert len(generations(index_settings)) == 2  # it and the previous one, for readers still on it


class WriteFails(Exception):
    pass


@pytest.mark.parametrize("rebuild", [False, True])
def test_a_write_failing_midway_leaves_the_index_untouched_and_no_leftover(
    index_settings, versions, monkeypatch, rebuild
) -> None:
    old, new = versions
    ingest(index_settings, BagOfWordsEmbeddings.small(), [parse_file(old)])
    before, first = stored(index_settings), generations(index_settings)
    write = GenerationWriter._write_batch
    calls: list[int] = []

    def failing(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise WriteFails("disk full")
        return write(self, *args, **kwargs)

    monkeypatch.setattr(GenerationWriter, "_write_batch", failing)
    monkeypatch.setattr(GenerationWriter, "write_batch", 20)
    with pytest.raises(WriteFails):
        ingest(index_settings, BagOfWordsEmbeddings.small(), [parse_file(new)], rebuild=rebuild)
    assert len(calls) == 3  # two batches were written into the new generation before the failure
    assert stored(index_settings) == before
    assert generations(index_settings) == first  # the partial generation was removed at once


# --- readers during an ingest ------------------------------------------------------------------------------


def _cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True)) / (math.hypot(*a) * math.hypot(*b))


class Version:
    """What a search must return when it reads one version of the document: its units, and its dense scores."""

    def __init__(self, document: Document) -> None:
        self.units = {u.key: u for u in document.units}
        self.passages = passages(document, Window(size=2000))
        self.fake = BagOfWordsEmbeddings.small()

    def agrees(self, question: str, result) -> bool:
        query = self.fake.embed_query(question)
        for hit in result.hits:
            if self.units.get(hit.unit.key) != hit.unit:
                return False
            if hit.dense is not None:
                best = max(_cosine(query, self.fake._vector(p.text)) for p in self.passages if p.unit.key == hit.unit.key)
                if abs(best - hit.dense) > 1e-4:
                    return False
        return True


QUESTIONS = ["la traite des femmes et des filles", "paragraphe 27", "victimes de la traite", "note 17", "OP5"]


@pytest.mark.server  # subprocesses: about 5-15 s each on a loaded 2-core machine
def test_readers_during_an_ingest_see_the_old_or_the_new_index_never_a_mix(index_settings, versions) -> None:
    old, new = versions
    old_doc, new_doc = parse_file(old), parse_file(new)
    ingest(index_settings, BagOfWordsEmbeddings.small(), [old_doc])
    old_version, new_version = Version(old_doc), Version(new_doc)
    seen: dict[str, list[str]] = {"following": [], "pinned": []}
    errors: list[BaseException] = []
    stop = threading.Event()

    def reader(kind: str) -> None:
        fake = BagOfWordsEmbeddings.small()
        index = UnitIndex(index_settings.store, index_settings.embedding, fake)
        retriever_class = FollowingRetriever if kind == "following" else UnitRetriever
        retriever = retriever_class(index=index, embeddings=fake, documents=index.documents(), k=5, lexical_weight=0.05)
        n = 0
        try:
            while not stop.is_set():
                question = QUESTIONS[n % len(QUESTIONS)]
                result = retriever.search(question)
                in_old, in_new = old_version.agrees(question, result), new_version.agrees(question, result)
                seen[kind].append("old" if in_old and not in_new else "new" if in_new and not in_old else
                                  "both" if in_old else "MIXED")
                n += 1
        except BaseException as exc:  # recorded: the test fails on any reader error
            errors.append(exc)

    readers = [threading.Thread(target=reader, args=(kind,)) for kind in ("following", "following", "pinned")]
    for thread in readers:
        thread.start()
    child = start_child(index_settings, new, "none", step_s=0.05)
    try:
        done = wait_for_line(child, "DONE", timeout=240)
        time.sleep(1.0)  # let the readers search the new generation too
    finally:
        stop.set()
        for thread in readers:
            thread.join(60)
        child.kill()
        child.wait(30)
    assert json.loads(done.removeprefix("DONE "))["updated"] == changed_units(old, new)
    assert not errors, errors
    assert "MIXED" not in seen["following"] + seen["pinned"]
    assert {"old", "new"} <= set(seen["following"])  # they searched during the ingest and followed it
    assert set(seen["pinned"]) <= {"old", "both"}  # a plain retriever keeps reading the generation it opened


# --- a damaged store ------------------------------------------------------------------------------------------------


def _garbage(folder: Path) -> None:
    (folder / "chroma.sqlite3").write_bytes(b"not a database, " * 4096)


def _truncated(folder: Path) -> None:
    db = folder / "chroma.sqlite3"
    db.write_bytes(db.read_bytes()[: db.stat().st_size // 2])


@pytest.mark.parametrize("damage", [_garbage, _truncated], ids=["garbage", "truncated"])
def test_a_damaged_store_is_a_clear_error_and_rebuild_moves_it_aside(tmp_path, document, damage) -> None:
    settings = Settings(index_dir=tmp_path / "index")
    fake = BagOfWordsEmbeddings.small()
    ingest(settings, fake, [document])
    forget(settings.index_dir)  # as in a new process: nothing of the store is cached
    damage(settings.index_dir)
    damaged = (settings.index_dir / "chroma.sqlite3").read_bytes()

    with pytest.raises(IndexCorruptedError) as error:
        open_retriever(settings, fake, documents=[document])
    message = str(error.value)
    assert "\n" not in message and str(settings.index_dir) in message and "resolution-qa ingest --rebuild" in message
    with pytest.raises(IndexCorruptedError):
        ingest(settings, fake, [document])  # without --rebuild nothing is moved
    assert not list(tmp_path.glob("index.broken-*"))

    report = ingest(settings, fake, [document], rebuild=True)
    [moved] = tmp_path.glob("index.broken-*")
    assert report.rebuilt and str(moved) in (report.reason or "")
    assert (moved / "chroma.sqlite3").read_bytes() == damaged  # kept as it was, not deleted
    assert open_retriever(settings, fake, documents=[document]).search("par. 27").hits[0].unit.id == "OP27"


def _big_document(paragraphs: int) -> Document:
    lines = [f"{n}. *Prie* les États de tenir le registre numéro {n} des phares {n * 7919 % 1000}." for n in range(1, paragraphs + 1)]
    text = (
        "Seventy-sixth session\nAgenda item 5\n\nResolution adopted by the General Assembly on 1 January 2021\n\n"
        "76/1. Testing storage\n\nThe General Assembly,\n\nRecalling its resolution 1/1,\n\n"
        + "\n\n".join(lines) + "\n\n*1st plenary meeting*\n*1 January 2021*\n"
    )
    return parse_text(text, name="big")


def test_missing_vector_files_are_a_clear_error_and_rebuild_recovers(tmp_path) -> None:
    # Above 1000 records Chroma moves vectors from its log into HNSW files; losing those loses the vectors.
    settings = Settings(index_dir=tmp_path / "index", dense_candidates=50)
    big, fake = _big_document(1100), BagOfWordsEmbeddings.small()
    first = ingest(settings, fake, [big])
    assert first.embedded > 1000
    forget(settings.index_dir)
    segments = [p for p in settings.index_dir.iterdir() if p.is_dir()]
    assert segments
    for folder in segments:
        shutil.rmtree(folder)

    index = UnitIndex(settings.store, settings.embedding, fake)
    with pytest.raises(IndexUnavailableError, match=r"damaged .*resolution-qa ingest --rebuild"):
        index.dense(fake.embed_query("registre numéro 5"), limit=settings.dense_candidates)
    report = ingest(settings, fake, [big], rebuild=True)
    assert report.rebuilt and report.embedded == first.embedded
    scores = UnitIndex(settings.store, settings.embedding, fake).dense(fake.embed_query("registre numéro 5"), limit=settings.dense_candidates)
    assert len(scores) == 50


# --- the real command line ------------------------------------------------------------------------------------------

def cli(*args: str) -> subprocess.CompletedProcess[str]:
    """`resolution-qa ARGS` in a subprocess, with the tests' fake embedder instead of the model."""
    return run_cli(*args, fake_embedder=True, timeout=300)


@pytest.mark.server  # subprocesses: about 5-15 s each on a loaded 2-core machine
def test_cli_damaged_store_then_ingest_rebuild_recovers(tmp_path) -> None:
    index_dir = tmp_path / "index"  # RESOLUTION_QA_INDEX_DIR, set for every test
    assert cli("ingest").returncode == 0
    _garbage(index_dir)

    failed = cli("search", "par. 27")
    assert failed.returncode == 2 and failed.stdout == ""
    [line] = failed.stderr.strip().splitlines()
    assert line.startswith("error: ") and "resolution-qa ingest --rebuild" in line

    rebuilt = cli("ingest", "--rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    [moved] = tmp_path.glob("index.broken-*")
    assert f"moved to {moved}" in rebuilt.stdout and "125 added" in rebuilt.stdout
    found = cli("search", "par. 27", "--format", "json")
    assert found.returncode == 0 and json.loads(found.stdout)["results"][0]["id"] == "OP27"


def test_a_reader_left_two_ingests_behind(index_settings, document) -> None:
    fake = BagOfWordsEmbeddings.small()
    ingest(index_settings, fake, [document])
    index = UnitIndex(index_settings.store, index_settings.embedding, fake)
    pinned = UnitRetriever(index=index, embeddings=fake, documents=index.documents())
    following = open_retriever(index_settings, fake, documents=[document])
    for n in (1, 2):  # two ingests: the generation both readers opened is no longer kept
        ingest(index_settings, fake, [document.model_copy(update={"units": document.units[:-n]})])
    with pytest.raises(GenerationGoneError, match="open the index again"):
        pinned.search("la traite des femmes")
    assert following.search("la traite des femmes").hits
    assert following.documents[0].units == document.units[:-2]  # it follows whole generations
