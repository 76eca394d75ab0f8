"""The Chroma collection of unit passages: idempotent sync by content hash, version checks, dense search."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence

from langchain_core.embeddings import Embeddings
from pydantic import BaseModel, ConfigDict

from ingest.parser import PARSER_VERSION
from ingest.units import Document, Unit
from resolution_qa.errors import IndexUnavailableError, InputFileError
from resolution_qa.settings import Settings

from .client import make_client
from .embeddings import FALLBACK_WINDOW_CHARS, fingerprint, token_counter
from .passages import PASSAGE_VERSION, Passage, Window, passages

#: Progress callback: (passages embedded so far, passages to embed).
Progress = Callable[[int, int], None]

_SPACE = "cosine"


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


class UnitIndex:
    """One Chroma collection holding the passages of the ingested documents."""

    def __init__(self, settings: Settings, embeddings: Embeddings, *, client=None) -> None:
        self.settings = settings
        self.embeddings = embeddings
        self.client = client if client is not None else make_client(settings)
        self.name = settings.collection
        self.window = window_of(embeddings)
        self._store = None

    # --- what the collection records ---------------------------------------------------------------
    def expected_info(self, sources: Sequence[str] = ()) -> IndexInfo:
        return IndexInfo(
            embedding=fingerprint(self.embeddings),
            parser_version=PARSER_VERSION,
            passage_version=PASSAGE_VERSION,
            sources=tuple(sources),
        )

    def _collection(self):
        try:
            return self.client.get_collection(self.name, embedding_function=None)
        except Exception:  # chromadb raises NotFoundError or ValueError depending on version
            return None

    def info(self) -> IndexInfo | None:
        """How the existing collection was built, or None when there is none (or it was not built by us)."""
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
        return collection.count() if collection is not None else 0

    # --- ingest ------------------------------------------------------------------------------------------
    def sync(
        self,
        documents: Sequence[Document],
        *,
        sources: Sequence[str] | None = None,
        rebuild: bool = False,
        progress: Progress | None = None,
    ) -> SyncReport:
        """Make the collection hold exactly these documents' passages.

        Unchanged passages are not embedded again; a changed unit is re-embedded alone; a collection built
        by another model, parser or passage format is rebuilt. Everything is embedded before anything is
        written, so a failure leaves the existing index as it was.
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
        current = self.info()
        reason = "requested" if rebuild else (current.mismatch(expected) if current is not None else None)
        if current is None and self.count() > 0:
            reason = "the collection was not built by resolution-qa"
        existing = {} if reason else self._existing()

        to_embed = [(p, m) for p, m in wanted if existing.get(p.id, {}).get("hash") != p.hash]
        vectors = self._embed([p.text for p, _ in to_embed], progress)  # may fail: nothing written yet
        to_update = [
            (p, m) for p, m in wanted if p.id in existing and existing[p.id].get("hash") == p.hash
            and any(existing[p.id].get(key) != value for key, value in m.items())
        ]
        wanted_ids = {p.id for p, _ in wanted}
        stale = [pid for pid in existing if pid not in wanted_ids]

        collection = self._write(expected, reason, to_embed, vectors, to_update, stale)
        self._store = None

        existing_units = {str(m.get("doc")) + "#" + str(m.get("unit_id")) for m in existing.values()}
        changed_units = {p.unit.key for p, _ in to_embed + to_update}
        wanted_units = {p.unit.key for p, _ in wanted}
        added = len(wanted_units - existing_units)
        updated = len(changed_units & existing_units)
        report = SyncReport(
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
        assert collection.count() == len(wanted), "index out of step with its documents"
        return report

    def _existing(self) -> dict[str, dict]:
        collection = self._collection()
        if collection is None:
            return {}
        got = collection.get(include=["metadatas"])
        return {pid: dict(meta or {}) for pid, meta in zip(got["ids"], got["metadatas"] or [], strict=True)}

    def _embed(self, texts: list[str], progress: Progress | None) -> list[list[float]]:
        vectors: list[list[float]] = []
        batch = self.settings.embedding_batch_size
        if progress is not None:
            progress(0, len(texts))
        for start in range(0, len(texts), batch):
            vectors += self.embeddings.embed_documents(texts[start : start + batch])
            if progress is not None:
                progress(len(vectors), len(texts))
        return vectors

    def _write(self, info: IndexInfo, reason, to_embed, vectors, to_update, stale):
        metadata = {
            "rqa_embedding": info.embedding,
            "rqa_parser_version": info.parser_version,
            "rqa_passage_version": info.passage_version,
            "rqa_sources": json.dumps(list(info.sources)),
        }
        try:
            collection = self._collection()
            if reason is not None and collection is not None:
                self.client.delete_collection(self.name)
                collection = None
            if collection is None:
                collection = self.client.create_collection(
                    self.name, embedding_function=None, configuration={"hnsw": {"space": _SPACE}}, metadata=metadata
                )
            elif (collection.metadata or {}) != {**(collection.metadata or {}), **metadata}:
                collection.modify(metadata={**(collection.metadata or {}), **metadata})
            # Chroma caps one write at max_batch_size records.
            step = max(1, min(self.client.get_max_batch_size(), 1000))
            for start in range(0, len(to_embed), step):
                chunk = to_embed[start : start + step]
                collection.upsert(
                    ids=[p.id for p, _ in chunk],
                    embeddings=vectors[start : start + step],
                    documents=[p.text for p, _ in chunk],
                    metadatas=[m for _, m in chunk],
                )
            if to_update:
                collection.update(ids=[p.id for p, _ in to_update], metadatas=[m for _, m in to_update])
            if stale:
                collection.delete(ids=stale)
            return collection
        except Exception as exc:
            if "chromadb" not in type(exc).__module__:
                raise
            raise IndexUnavailableError(f"writing the vector index {self.name!r} failed: {exc}") from exc

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
        """The collection through LangChain's Chroma (our embeddings, never Chroma's default function)."""
        if self._store is None:
            from langchain_chroma import Chroma

            self._store = Chroma(
                client=self.client,
                collection_name=self.name,
                embedding_function=self.embeddings,
                create_collection_if_not_exists=False,
            )
        return self._store

    def dense(
        self, vector: list[float], *, docs: Sequence[str] | None = None, limit: int | None = None
    ) -> dict[str, float]:
        """Cosine similarity to a query vector of the best-matching units ("doc#id"): the best of their passages.

        At most `limit` passages are fetched (default settings.dense_candidates); `docs` keeps only the units
        of those document symbols.
        """
        n = self.count()
        if n == 0:
            raise IndexUnavailableError("the vector index is empty; run `resolution-qa ingest`")
        limit = min(n, limit or self.settings.dense_candidates)
        where = None
        if docs:
            where = {"doc": docs[0]} if len(docs) == 1 else {"doc": {"$in": list(docs)}}
        scores: dict[str, float] = {}
        found = self.store.similarity_search_by_vector_with_relevance_scores(vector, k=limit, filter=where)
        for doc, distance in found:
            key = f"{doc.metadata['doc']}#{doc.metadata['unit_id']}"
            scores[key] = max(scores.get(key, -1.0), 1.0 - float(distance))  # cosine distance -> similarity
        return scores
