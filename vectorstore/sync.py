"""Sync: diff the documents against the index, copy the vectors of unchanged passages, write a new generation."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from langchain_core.embeddings import Embeddings
from pydantic import BaseModel, ConfigDict

from resolution_qa.core.errors import IndexUnavailableError, InputFileError
from resolution_qa.core.settings import EmbeddingSettings
from resolution_qa.ingest.units import Document

from .embeddings import embed_in_length_order
from .generations import GenerationGoneError, Generations, active_in
from .lock import IngestLock
from .passages import Passage, Window, passages
from .reader import GenerationReader
from .records import IndexInfo, Record, expected_info, passage_record

if TYPE_CHECKING:
    from chromadb.api.collection_configuration import CreateCollectionConfiguration
    from chromadb.api.models.Collection import Collection
    from chromadb.api.types import Metadata, PyEmbedding

#: Progress callback: (passages embedded so far, passages to embed).
Progress = Callable[[int, int], None]

#: A passage to store, with its metadata.
Wanted = tuple[Passage, Record]


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


@dataclass(frozen=True)
class Plan:
    """What a sync must do: the passages wanted, and which of them are new or changed, against what is stored."""

    wanted: list[Wanted]
    existing: dict[str, dict[str, Any]]  # stored metadata by passage id; empty for a rebuild
    to_embed: list[Wanted]  # new passages, or passages whose text changed
    to_update: list[Wanted]  # same text, other metadata (order, title, source...)
    stale: list[str]  # stored passages no longer wanted

    @classmethod
    def of(cls, wanted: list[Wanted], existing: dict[str, dict[str, Any]]) -> Plan:
        to_embed = [(p, m) for p, m in wanted if existing.get(p.id, {}).get("hash") != p.hash]
        to_update = [
            (p, m)
            for p, m in wanted
            if p.id in existing
            and existing[p.id].get("hash") == p.hash
            and any(existing[p.id].get(key) != value for key, value in m.items())
        ]
        wanted_ids = {p.id for p, _ in wanted}
        stale = [pid for pid in existing if pid not in wanted_ids]
        return cls(wanted, existing, to_embed, to_update, stale)

    @property
    def changes(self) -> bool:
        return bool(self.to_embed or self.to_update or self.stale)

    def report(self, symbols: list[str], reason: str | None, started: float) -> SyncReport:
        existing_units = {str(m.get("doc")) + "#" + str(m.get("unit_id")) for m in self.existing.values()}
        changed_units = {p.unit.key for p, _ in self.to_embed + self.to_update}
        wanted_units = {p.unit.key for p, _ in self.wanted}
        added = len(wanted_units - existing_units)
        updated = len(changed_units & existing_units)
        return SyncReport(
            documents=tuple(symbols),
            added=added,
            updated=updated,
            removed=len(existing_units - wanted_units),
            unchanged=len(wanted_units) - added - updated,
            embedded=len(self.to_embed),
            rebuilt=reason is not None,
            reason=reason,
            seconds=round(time.perf_counter() - started, 3),
        )


@dataclass(frozen=True)
class Sync:
    """One ingest into a store: what it embeds with, where it writes, and how the index it runs for reads."""

    generations: Generations
    embeddings: Embeddings
    embedding: EmbeddingSettings
    window: Window
    pin: Callable[[str | None], GenerationReader]  # makes the index read a generation; its reader

    def run(
        self,
        documents: Sequence[Document],
        *,
        sources: Sequence[str] | None,
        rebuild: bool,
        progress: Progress | None,
    ) -> SyncReport:
        """Make the store hold exactly these documents' passages, as one new generation (or change nothing).

        Afterwards the index reads the generation the pointer names (the one written, if any).
        """
        started = time.perf_counter()
        symbols = _distinct_symbols(documents)
        src = list(sources) if sources is not None else [""] * len(documents)
        # Language versions of one resolution are one document from several files: the per-passage source
        # (informational) is then left empty; the index still records every file (for the next reload).
        per_document = src if len(src) == len(documents) else [""] * len(documents)
        wanted = _wanted(documents, per_document, self.window)
        expected = expected_info(self.embeddings, [s for s in src if s])
        state = self._state(wanted, expected, rebuild)
        if not state.writes(expected):
            # Nothing changed, nothing is written (another ingest's unfinished generation is left alone).
            return state.plan.report(symbols, state.reason, started)
        # One writer at a time (vectorstore/lock.py): a second ingest stops here, before embedding anything.
        with IngestLock(self.generations).held():
            state = self._state(wanted, expected, rebuild)  # again: an ingest may have finished in between
            if state.writes(expected):
                self._check_space(state.plan)
                embedded = self._embed([p.text for p, _ in state.plan.to_embed], progress)  # nothing written yet
                fresh = {p.id: v for (p, _), v in zip(state.plan.to_embed, embedded, strict=True)}
                self._publish(state.current, expected, wanted, fresh)
        return state.plan.report(symbols, state.reason, started)

    def _state(self, wanted: list[Wanted], expected: IndexInfo, rebuild: bool) -> _State:
        """The generation in use, why it must be rebuilt (if it must), and the plan against it."""
        pointer = self.generations.pointer()
        current = self.pin(active_in(pointer[1]))
        reason, built = _rebuild_reason(current, pointer, rebuild, expected)
        return _State(current, reason, built, Plan.of(wanted, {} if reason else current.records()))

    def _check_space(self, plan: Plan) -> None:
        """Embedded store: refuse at once, rather than after minutes of embedding, when the disk cannot hold the
        new generation. A lower bound (MIN_BYTES_PER_PASSAGE each, and TEXT_BYTES_FACTOR times their text): about
        70% of what was measured, so a disk it lets through may still fill up; that is then named too (client.py)."""
        store = self.generations.store
        if store.chroma_url:
            return
        text = sum(len(p.text.encode()) for p, _ in plan.wanted)
        needed = len(plan.wanted) * MIN_BYTES_PER_PASSAGE + TEXT_BYTES_FACTOR * text
        try:
            free = shutil.disk_usage(store.index_dir).free
        except OSError:
            return
        if free < needed:
            raise IndexUnavailableError(
                f"the disk holding the vector index at {store.index_dir} has too little space: {free / 1e6:.1f} MB free, and "
                f"this ingest writes at least {needed / 1e6:.1f} MB ({len(plan.wanted)} passages); free some space, "
                "then run it again (the index in use is unchanged)"
            )

    def _embed(self, texts: list[str], progress: Progress | None) -> list[list[float]]:
        return embed_in_length_order(self.embeddings, texts, self.embedding.embedding_batch_size, progress)

    def _publish(
        self, current: GenerationReader, info: IndexInfo, wanted: list[Wanted], fresh: dict[str, list[float]]
    ) -> None:
        """Write the new generation, flip the pointer to it, remove the generations no reader needs any more."""
        # Copies come from the generation being replaced; a rebuild embeds everything and copies nothing.
        source = current if any(p.id not in fresh for p, _ in wanted) else None
        generation = GenerationWriter(self.generations).write(info, wanted, fresh, source)
        self.generations.flip(current.name, generation)
        self.pin(generation)
        self.generations.remove_old(keep={generation, current.name})


#: Disk space a new generation takes at least: per passage (its vector in the catalogue's log and in HNSW, its
#: metadata rows), plus this many times its text (stored, and indexed for full-text search). Measured with the
#: bundled resolution (125 passages, 54 kB of text, 768-d vectors): 2.1-2.2 MB a generation, against 1.6 MB for
#: this bound.
MIN_BYTES_PER_PASSAGE = 4_000
TEXT_BYTES_FACTOR = 20


@dataclass(frozen=True)
class _State:
    """What an ingest found: the generation in use, why it must be rebuilt (or None), how it was built, the plan."""

    current: GenerationReader
    reason: str | None
    built: IndexInfo | None
    plan: Plan

    def writes(self, expected: IndexInfo) -> bool:
        return self.reason is not None or self.plan.changes or self.built != expected


def _distinct_symbols(documents: Sequence[Document]) -> list[str]:
    symbols = [d.symbol for d in documents]
    if len(set(symbols)) != len(symbols):
        raise InputFileError(f"two documents have the same symbol ({', '.join(symbols)}); ingest each resolution once")
    return symbols


def _wanted(documents: Sequence[Document], sources: list[str], window: Window) -> list[Wanted]:
    """Every passage of the documents, in order, with the metadata to store."""
    wanted: list[Wanted] = []
    for document, source in zip(documents, sources, strict=True):
        order = {u.id: i for i, u in enumerate(document.units)}
        wanted += [(p, passage_record(p, order[p.unit.id], document, source)) for p in passages(document, window)]
    return wanted


def _rebuild_reason(
    current: GenerationReader, pointer: tuple[Collection | None, dict[str, Any]], rebuild: bool, expected: IndexInfo
) -> tuple[str | None, IndexInfo | None]:
    """(why everything must be embedded again or None, how the active generation was built)."""
    pointer_collection, pointer_meta = pointer
    if pointer_collection is not None and not active_in(pointer_meta):
        if "rqa_embedding" in pointer_meta:
            return "requested" if rebuild else "older index format (written in place)", None
        with current.generations.errors("reading the index"):
            foreign = pointer_collection.count() > 0
        if foreign:
            return "requested" if rebuild else "the collection was not built by resolution-qa", None
    try:
        built = current.info()
    except GenerationGoneError:
        return "requested" if rebuild else "the index pointer names a collection that no longer exists", None
    if rebuild:
        return "requested", built
    if built is None:
        return ("the collection was not built by resolution-qa" if current.name else None), None
    return built.mismatch(expected), built


class GenerationWriter:
    """Writes every wanted passage into a new collection: fresh vectors, else those copied from the one replaced."""

    #: Most records per Chroma write (Chroma caps it at client.get_max_batch_size()).
    write_batch = 1000

    def __init__(self, generations: Generations) -> None:
        self.generations = generations
        self.client = generations.client

    def write(
        self, info: IndexInfo, wanted: list[Wanted], fresh: dict[str, list[float]], source: GenerationReader | None
    ) -> str:
        """The name of the new generation, complete; nothing is left of it if writing fails."""
        name = self.generations.new_name()
        configuration: CreateCollectionConfiguration = {"hnsw": {"space": "cosine"}}
        try:
            with self.generations.errors("writing a new index generation"):
                collection = self.client.create_collection(
                    name, embedding_function=None, configuration=configuration, metadata=info.metadata()
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
            self.generations.drop(name)  # best effort; a kill leaves it for the next ingest to remove
            raise
        return name

    def _vectors(self, source: GenerationReader | None, ids: list[str]) -> dict[str, list[float]]:
        """The stored vectors of these passages in the generation being replaced."""
        if not ids:
            return {}
        collection = source.collection() if source is not None else None
        if source is None or collection is None:
            raise IndexUnavailableError(
                "no index to copy unchanged passages from; run `resolution-qa ingest --rebuild`"
            )
        with source.reading("copying the vectors of unchanged passages"):
            got = collection.get(ids=ids, include=["embeddings"])
        vectors = got["embeddings"]  # None only if Chroma ignored include=["embeddings"]: then none came back
        pairs = zip(got["ids"], vectors, strict=True) if vectors is not None else ()
        found = {pid: [float(x) for x in vector] for pid, vector in pairs}
        if len(found) != len(set(ids)):
            raise IndexUnavailableError(
                f"{len(set(ids)) - len(found)} passages vanished from the index while it was being copied; "
                "run `resolution-qa ingest` again"
            )
        return found

    def _write_batch(
        self,
        collection: Collection,
        ids: list[str],
        vectors: list[PyEmbedding],
        texts: list[str],
        metadatas: list[Metadata],
    ) -> None:
        collection.add(ids=ids, embeddings=vectors, documents=texts, metadatas=metadatas)
