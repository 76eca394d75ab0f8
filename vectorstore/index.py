"""The Chroma collections of unit passages: idempotent sync by content hash into generations, dense search."""

from __future__ import annotations

import copy
import json
import re
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager, suppress

from langchain_core.embeddings import Embeddings
from pydantic import BaseModel, ConfigDict

from resolution_qa.core.errors import IndexCorruptedError, IndexUnavailableError, InputFileError
from resolution_qa.core.settings import Settings
from resolution_qa.ingest.parser import PARSER_VERSION
from resolution_qa.ingest.units import Document, Unit

from .client import make_client, store_errors
from .embeddings import FALLBACK_WINDOW_CHARS, embed_in_length_order, fingerprint, token_counter
from .passages import PASSAGE_VERSION, Passage, Window, passages

#: Progress callback: (passages embedded so far, passages to embed).
Progress = Callable[[int, int], None]

_SPACE = "cosine"
_READ_PAGE = 5000  # passages read per get(): well under SQLite's limit on query variables


class IndexInfo(BaseModel):
    """What a collection records about how it was built; a difference means its vectors must not be mixed."""

    model_config = ConfigDict(frozen=True)

    embedding: str
    parser_version: str
    passage_version: str
    sources: tuple[str, ...] = ()  # the files the documents came from ("<bundled>" for the bundled one)

    def mismatch(self, other: IndexInfo) -> str | None:
        """Why an index built as `self` cannot serve `other`, or None."""
        for field, what in (
            ("embedding", "embedding model"),
            ("parser_version", "parser version"),
            ("passage_version", "passage format"),
        ):
            old, new = getattr(self, field), getattr(other, field)
            if old != new:
                return f"{what} changed ({old} -> {new})"
        return None


class SyncReport(BaseModel):
    """What one ingest changed, counted in units (a long unit may have several passages)."""

    model_config = ConfigDict(frozen=True)

    documents: tuple[str, ...]
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    embedded: int = 0  # passages embedded (0 when nothing changed)
    rebuilt: bool = False
    reason: str | None = None  # why the index was rebuilt
    seconds: float = 0.0

    def summary(self) -> str:
        text = (
            f"{', '.join(self.documents)}: {self.added} added, {self.updated} updated, {self.removed} removed, "
            f"{self.unchanged} unchanged; {self.embedded} passages embedded in {self.seconds:.1f} s"
        )
        return text + (f"; rebuilt: {self.reason}" if self.rebuilt else "")


def window_of(embeddings: Embeddings) -> Window:
    counter = token_counter(embeddings)
    if counter is None:
        return Window(size=FALLBACK_WINDOW_CHARS)
    size, count = counter
    return Window(size=size, length=count)


def _metadata(passage: Passage, order: int, document: Document, source: str) -> dict[str, str | int]:
    unit = passage.unit
    meta: dict[str, str | int] = {
        "doc": unit.doc,
        "unit_id": unit.id,
        "kind": unit.kind,
        "footnotes": ",".join(unit.footnotes),
        "lang": unit.lang,
        "part": passage.part,
        "order": order,
        "hash": passage.hash,
        "unit": unit.model_dump_json(),
        "doc_title": document.title,
        "doc_lang": document.lang,
        "source": source,
    }
    if unit.number is not None:
        meta["number"] = unit.number  # Chroma metadata cannot hold None
    return meta


class GenerationGoneError(IndexUnavailableError):
    """The generation a reader was on has been removed by later ingests."""


#: Metadata keys of the pointer collection (named settings.collection): the generation readers use, and the one
#: before it (kept for readers still on it).
_ACTIVE = "rqa_active"
_PREVIOUS = "rqa_previous"
_FORMAT = "rqa_format"
POINTER_FORMAT = "2"


def _info_metadata(info: IndexInfo) -> dict[str, str]:
    return {
        "rqa_embedding": info.embedding,
        "rqa_parser_version": info.parser_version,
        "rqa_passage_version": info.passage_version,
        "rqa_sources": json.dumps(list(info.sources)),
    }


class UnitIndex:
    """The passages of the ingested documents: generations of Chroma collections behind a pointer.

    An ingest that changes anything writes a complete new collection `<collection>__<generation>` (copying the
    vectors of unchanged passages, never embedding them again), then flips the pointer, the metadata of the
    small collection `<collection>`, with one call. A reader resolves the pointer once and stays on that
    generation (`pinned()` gives a copy on a newer one), so it sees the old index or the new one, never a mix.
    A failed or killed ingest leaves only an unused collection, which the next successful ingest removes; the previous generation is kept
    for readers still on it. The same in the embedded store and on a Chroma server.
    """

    #: Most records per Chroma write (Chroma caps it at client.get_max_batch_size()).
    write_batch = 1000

    def __init__(self, settings: Settings, embeddings: Embeddings, *, client=None) -> None:
        self.settings = settings
        self.embeddings = embeddings
        self.client = client if client is not None else make_client(settings)
        self.name = settings.collection
        self.window = window_of(embeddings)
        self._store = None
        self._files_missing: tuple[str | None, bool] | None = None  # (generation, its vector folder is gone)
        self._generation: str | None = None  # the collection this index reads
        self._resolved = False
        self._handle = None  # its chromadb Collection, fetched once

    def _errors(self, doing: str):
        return store_errors(self.settings, doing)

    # --- the pointer and the generation this index reads -------------------------------------------------------
    def _get(self, name: str):
        """The collection `name`, or None when there is none."""
        from chromadb.errors import NotFoundError

        with self._errors("reading the index"):
            try:
                return self.client.get_collection(name, embedding_function=None)
            except NotFoundError:
                return None

    def active(self) -> str | None:
        """The generation the pointer names now; None when there is no index (or one in an older format)."""
        pointer = self._get(self.name)
        value = (pointer.metadata or {}).get(_ACTIVE) if pointer is not None else None
        return str(value) if value else None

    @property
    def generation(self) -> str | None:
        """The collection this index reads: the active one when first asked, until sync() (see pinned())."""
        if not self._resolved:
            self._pin(self.active())
        return self._generation

    def pinned(self, generation: str) -> UnitIndex:
        """A copy of this index that reads `generation` (same client and embeddings); this one is unchanged."""
        other = copy.copy(self)
        other._pin(generation)
        return other

    def _pin(self, generation: str | None) -> None:
        self._generation, self._resolved = generation, True
        self._handle = None
        self._store = None

    def _gone(self) -> GenerationGoneError:
        return GenerationGoneError(
            f"the index generation {self._generation} was replaced by later ingests while it was being read; "
            "open the index again (the chat app and the CLI do this by themselves)"
        )

    def _damaged(self, what: str) -> IndexUnavailableError:
        if self.settings.chroma_url:
            return IndexUnavailableError(
                f"the index {self._generation} on the Chroma server at {self.settings.chroma_url} is damaged ({what}); "
                "run `resolution-qa ingest --rebuild`"
            )
        return IndexCorruptedError(
            f"the vector index at {self.settings.index_dir} is damaged ({what}); its vector files are missing or "
            "broken: run `resolution-qa ingest --rebuild`"
        )

    def _collection(self):
        """The collection this index reads, or None when there is no index."""
        name = self.generation
        if name is None:
            return None
        if self._handle is None:
            handle = self._get(name)
            if handle is None:
                raise self._gone()
            self._handle = handle
        return self._handle

    @contextmanager
    def _reading(self, doing: str) -> Iterator[None]:
        from chromadb.errors import NotFoundError

        try:
            with self._errors(doing):
                yield
        except IndexUnavailableError as exc:
            if isinstance(exc.__cause__, NotFoundError):  # our generation was deleted under us
                raise self._gone() from exc
            raise

    # --- what the collection records ---------------------------------------------------------------
    def expected_info(self, sources: Sequence[str] = ()) -> IndexInfo:
        return IndexInfo(
            embedding=fingerprint(self.embeddings),
            parser_version=PARSER_VERSION,
            passage_version=PASSAGE_VERSION,
            sources=tuple(sources),
        )

    def info(self) -> IndexInfo | None:
        """How the generation this index reads was built, or None when there is none."""
        collection = self._collection()
        meta = (collection.metadata or {}) if collection is not None else {}
        if "rqa_embedding" not in meta:
            return None
        return IndexInfo(
            embedding=str(meta["rqa_embedding"]),
            parser_version=str(meta.get("rqa_parser_version", "")),
            passage_version=str(meta.get("rqa_passage_version", "")),
            sources=tuple(json.loads(str(meta.get("rqa_sources", "[]")))),
        )

    def count(self) -> int:
        collection = self._collection()
        if collection is None:
            return 0
        with self._reading("counting passages"):
            return collection.count()

    # --- ingest ------------------------------------------------------------------------------------------
    def sync(
        self,
        documents: Sequence[Document],
        *,
        sources: Sequence[str] | None = None,
        rebuild: bool = False,
        progress: Progress | None = None,
    ) -> SyncReport:
        """Make the index hold exactly these documents' passages, as one new generation (or change nothing).

        Unchanged passages are not embedded again; a changed unit is re-embedded alone; an index built by another
        model, parser or passage format is rebuilt. Everything is embedded and written into a new collection
        before the pointer flips, so a failure, or a kill, leaves the existing index as it was. Afterwards this
        index reads the generation it wrote.
        """
        started = time.perf_counter()
        symbols = [d.symbol for d in documents]
        if len(set(symbols)) != len(symbols):
            raise InputFileError(
                f"two documents have the same symbol ({', '.join(symbols)}); ingest each resolution once"
            )
        src = list(sources) if sources is not None else [""] * len(documents)
        wanted: list[tuple[Passage, dict[str, str | int]]] = []
        for document, source in zip(documents, src, strict=True):
            order = {u.id: i for i, u in enumerate(document.units)}
            wanted += [(p, _metadata(p, order[p.unit.id], document, source)) for p in passages(document, self.window)]

        expected = self.expected_info([s for s in src if s])
        pointer = self._get(self.name)
        pointer_meta = dict(pointer.metadata or {}) if pointer is not None else {}
        active = str(pointer_meta[_ACTIVE]) if pointer_meta.get(_ACTIVE) else None
        self._pin(active)
        reason, current = self._rebuild_reason(rebuild, pointer, pointer_meta, expected)
        existing = {} if reason else self._existing()

        to_embed = [(p, m) for p, m in wanted if existing.get(p.id, {}).get("hash") != p.hash]
        vectors = self._embed([p.text for p, _ in to_embed], progress)  # may fail: nothing written yet
        to_update = [
            (p, m) for p, m in wanted if p.id in existing and existing[p.id].get("hash") == p.hash
            and any(existing[p.id].get(key) != value for key, value in m.items())
        ]
        wanted_ids = {p.id for p, _ in wanted}
        stale = [pid for pid in existing if pid not in wanted_ids]

        if reason is not None or to_embed or to_update or stale or current != expected:
            fresh = {p.id: v for (p, _), v in zip(to_embed, vectors, strict=True)}
            generation = self._build(expected, wanted, fresh)
            self._flip(active, generation)
            self._remove_old(keep={generation, active})
        # else: nothing changed, nothing is written (and another ingest's unfinished generation is left alone)

        existing_units = {str(m.get("doc")) + "#" + str(m.get("unit_id")) for m in existing.values()}
        changed_units = {p.unit.key for p, _ in to_embed + to_update}
        wanted_units = {p.unit.key for p, _ in wanted}
        added = len(wanted_units - existing_units)
        updated = len(changed_units & existing_units)
        return SyncReport(
            documents=tuple(symbols),
            added=added,
            updated=updated,
            removed=len(existing_units - wanted_units),
            unchanged=len(wanted_units) - added - updated,
            embedded=len(to_embed),
            rebuilt=reason is not None,
            reason=reason,
            seconds=round(time.perf_counter() - started, 3),
        )

    def _rebuild_reason(
        self, rebuild: bool, pointer, pointer_meta: dict, expected: IndexInfo
    ) -> tuple[str | None, IndexInfo | None]:
        """(why everything must be embedded again or None, how the active generation was built)."""
        if pointer is not None and not pointer_meta.get(_ACTIVE):
            if "rqa_embedding" in pointer_meta:
                return "requested" if rebuild else "older index format (written in place)", None
            with self._errors("reading the index"):
                foreign = pointer.count() > 0
            if foreign:
                return "requested" if rebuild else "the collection was not built by resolution-qa", None
        try:
            current = self.info()
        except GenerationGoneError:
            return "requested" if rebuild else "the index pointer names a collection that no longer exists", None
        if rebuild:
            return "requested", current
        if current is None:
            return ("the collection was not built by resolution-qa" if self.generation else None), None
        return current.mismatch(expected), current

    def _existing(self) -> dict[str, dict]:
        collection = self._collection()
        if collection is None:
            return {}
        existing: dict[str, dict] = {}
        with self._reading("reading the indexed passages"):
            # In pages: one get() of a 100k-passage collection exceeds SQLite's variable limit.
            for offset in range(0, collection.count(), _READ_PAGE):
                got = collection.get(include=["metadatas"], limit=_READ_PAGE, offset=offset)
                existing.update((pid, dict(meta or {})) for pid, meta in zip(got["ids"], got["metadatas"] or [], strict=True))
        return existing

    def _embed(self, texts: list[str], progress: Progress | None) -> list[list[float]]:
        return embed_in_length_order(self.embeddings, texts, self.settings.embedding_batch_size, progress)

    def _build(self, info: IndexInfo, wanted: list[tuple[Passage, dict]], fresh: dict[str, list[float]]) -> str:
        """Write every wanted passage into a new collection (fresh vectors, else copied ones); its name."""
        name = f"{self.name}__{time.strftime('%Y%m%dT%H%M%S')}{uuid.uuid4().hex[:8]}"
        # Copies come from the generation being replaced; a rebuild embeds everything and copies nothing.
        source = self._collection() if any(p.id not in fresh for p, _ in wanted) else None
        try:
            with self._errors("writing a new index generation"):
                collection = self.client.create_collection(
                    name, embedding_function=None, configuration={"hnsw": {"space": _SPACE}},
                    metadata=_info_metadata(info),
                )
                step = max(1, min(self.client.get_max_batch_size(), self.write_batch))
                for start in range(0, len(wanted), step):
                    chunk = wanted[start : start + step]
                    copied = self._vectors(source, [p.id for p, _ in chunk if p.id not in fresh])
                    self._write_batch(
                        collection,
                        [p.id for p, _ in chunk],
                        [fresh[p.id] if p.id in fresh else copied[p.id] for p, _ in chunk],
                        [p.text for p, _ in chunk],
                        [m for _, m in chunk],
                    )
                written = collection.count()
            if written != len(wanted):
                raise IndexUnavailableError(
                    f"the new index generation {name} holds {written} passages instead of {len(wanted)}; "
                    "run `resolution-qa ingest --rebuild`"
                )
        except BaseException:
            self._drop(name)  # best effort; a kill leaves it for the next ingest to remove
            raise
        return name

    def _vectors(self, source, ids: list[str]) -> dict[str, list[float]]:
        """The stored vectors of these passages in the generation being replaced."""
        if not ids:
            return {}
        if source is None:
            raise IndexUnavailableError("no index to copy unchanged passages from; run `resolution-qa ingest --rebuild`")
        with self._reading("copying the vectors of unchanged passages"):
            got = source.get(ids=ids, include=["embeddings"])
        found = {pid: [float(x) for x in vector] for pid, vector in zip(got["ids"], got["embeddings"], strict=True)}
        if len(found) != len(set(ids)):
            raise IndexUnavailableError(
                f"{len(set(ids)) - len(found)} passages vanished from the index while it was being copied; "
                "run `resolution-qa ingest` again"
            )
        return found

    def _write_batch(self, collection, ids: list[str], vectors: list[list[float]], texts: list[str], metadatas) -> None:
        collection.add(ids=ids, embeddings=vectors, documents=texts, metadatas=metadatas)

    def _flip(self, expected_active: str | None, generation: str) -> None:
        """Point readers at `generation` with one metadata write, unless another ingest moved the pointer meanwhile."""
        meta = {_ACTIVE: generation, _PREVIOUS: expected_active or "", _FORMAT: POINTER_FORMAT}
        pointer = self._get(self.name)
        now = (pointer.metadata or {}).get(_ACTIVE) if pointer is not None else None
        if (str(now) if now else None) != expected_active:
            self._drop(generation)
            raise IndexUnavailableError(
                "another ingest changed the index while this one ran; the index holds its result: run "
                "`resolution-qa ingest` again to index these files"
            )
        with self._errors("switching readers to the new index generation"):
            if pointer is None:
                self.client.create_collection(self.name, embedding_function=None, metadata=meta)
            else:
                pointer.modify(metadata=meta)  # one transaction: readers see the old name or the new one
        self._pin(generation)

    def _remove_old(self, keep: set[str | None]) -> None:
        """Delete the generations before the previous one and the leftovers of failed or killed ingests."""
        pattern = re.compile(re.escape(self.name) + r"__\d{8}T\d{6}[0-9a-f]{8}")
        try:
            names = [c if isinstance(c, str) else c.name for c in self.client.list_collections()]
        except Exception:  # cleanup is best effort: the next successful ingest tries again
            return
        for name in names:
            if pattern.fullmatch(name) and name not in keep:
                self._drop(name)
        pointer = self._get(self.name)
        try:
            if pointer is not None and pointer.count():  # records of the old in-place format
                pointer.delete(ids=pointer.get(include=[])["ids"])
        except Exception:
            pass

    def _drop(self, name: str) -> None:
        with suppress(Exception):  # already gone, or the store is failing: the next ingest removes it
            self.client.delete_collection(name)

    # --- reading -------------------------------------------------------------------------------------------
    def documents(self) -> list[Document]:
        """The indexed documents, rebuilt from the stored metadata (no source file needed)."""
        by_doc: dict[str, list[tuple[int, Unit]]] = {}
        heads: dict[str, tuple[str, str]] = {}
        for meta in self._existing().values():
            if int(meta.get("part", 0)) != 0:
                continue
            unit = Unit.model_validate_json(str(meta["unit"]))
            by_doc.setdefault(unit.doc, []).append((int(meta.get("order", 0)), unit))
            heads[unit.doc] = (str(meta.get("doc_title", "")), str(meta.get("doc_lang", unit.lang)))
        return [
            Document(
                symbol=symbol,
                lang=heads[symbol][1],  # type: ignore[arg-type]
                title=heads[symbol][0],
                units=tuple(u for _, u in sorted(units, key=lambda pair: pair[0])),
            )
            for symbol, units in by_doc.items()
        ]

    @property
    def store(self):  # -> langchain_chroma.Chroma
        """The generation through LangChain's Chroma (our embeddings, never Chroma's default function)."""
        if self._store is None:
            from langchain_chroma import Chroma

            name = self.generation
            if name is None:
                raise IndexUnavailableError("the vector index is empty; run `resolution-qa ingest`")
            with self._reading("opening the index"):
                self._store = Chroma(
                    client=self.client,
                    collection_name=name,
                    embedding_function=self.embeddings,
                    create_collection_if_not_exists=False,
                )
        return self._store

    def _vector_files_missing(self) -> bool:
        """Embedded store only: Chroma records a vector folder for this generation that is not on disk."""
        if self.settings.chroma_url or self.generation is None:
            return False
        database = self.settings.index_dir / "chroma.sqlite3"
        try:
            with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as connection:
                rows = connection.execute(
                    "SELECT s.id FROM segments s JOIN collections c ON s.collection = c.id "
                    "WHERE c.name = ? AND s.scope = 'VECTOR'",
                    (self.generation,),
                ).fetchall()
        except sqlite3.Error:
            return True  # the catalogue itself cannot be read
        return any(not (self.settings.index_dir / str(segment)).is_dir() for (segment,) in rows)

    def dense(
        self, vector: list[float], *, docs: Sequence[str] | None = None, limit: int | None = None
    ) -> dict[str, float]:
        """Cosine similarity to a query vector of the best-matching units ("doc#id"): the best of their passages.

        At most `limit` passages are fetched (default settings.dense_candidates); `docs` keeps only the units
        of those document symbols.
        """
        # Checked before the first use of a generation: searching recreates an empty vector folder.
        if self._files_missing is None or self._files_missing[0] != self.generation:
            self._files_missing = (self.generation, self._vector_files_missing())
        n = self.count()
        if n == 0:
            raise IndexUnavailableError("the vector index is empty; run `resolution-qa ingest`")
        limit = min(n, limit or self.settings.dense_candidates)
        where = None
        if docs:
            where = {"doc": docs[0]} if len(docs) == 1 else {"doc": {"$in": list(docs)}}
        scores: dict[str, float] = {}
        store = self.store
        with self._reading("searching the index"):
            found = store.similarity_search_by_vector_with_relevance_scores(vector, k=limit, filter=where)
            # Chroma answers from whatever vector files it finds: missing ones give fewer results, not an error.
            # Approximate search may also return fewer than asked in a large index, so a short answer is only
            # damage when the collection's vector folder is gone or less than half of it came back.
            expected = limit if where is None or len(found) >= limit else min(
                limit, len(self._collection().get(where=where, include=[])["ids"])
            )
            # (Measured: 118 of 200 at 100k near-duplicate passages; 5 of 50 with the vector folder deleted.)
            if len(found) < expected and (self._files_missing[1] or 2 * len(found) < expected):
                raise self._damaged(f"a search returned {len(found)} of the {limit} passages asked for")
        for doc, distance in found:
            key = f"{doc.metadata['doc']}#{doc.metadata['unit_id']}"
            scores[key] = max(scores.get(key, -1.0), 1.0 - float(distance))  # cosine distance -> similarity
        return scores
