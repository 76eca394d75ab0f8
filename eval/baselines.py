"""Retrieval systems compared side by side: ours, dense-only, BM25-only and a naive LangChain chunk pipeline."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np
from langchain_core.embeddings import Embeddings
from pydantic import BaseModel, ConfigDict, Field

from resolution_qa.ingest.units import Document

if TYPE_CHECKING:
    from resolution_qa.assistant.assistant import Retriever

SYSTEMS: tuple[str, ...] = ("ours", "dense", "bm25", "naive")
NAIVE_CHUNK_SIZE = 1000
NAIVE_CHUNK_OVERLAP = 200

_SUPERSCRIPT = "⁰¹²³⁴⁵⁶⁷⁸⁹"
_FOOTNOTE_LINE = re.compile(rf"^([{_SUPERSCRIPT}]+)\s")
_OPERATIVE_NUMBER = re.compile(r"^\d{1,3}\.\s+")


class SystemHits(BaseModel):
    """One system's answer to one query: ranked slots of unit ids, best first."""

    model_config = ConfigDict(frozen=True)

    ranking: list[list[str]]
    context: list[str] = Field(default_factory=list)  # what the assistant would be given (ours only)
    best_dense: float | None = None
    seconds: float | None = None  # the ranking call alone, when the system makes more than one call


@runtime_checkable
class RetrievalSystem(Protocol):
    """Anything that ranks the units of the resolution for a query."""

    name: str

    def search(self, query: str, k: int) -> SystemHits: ...


def _unit_matrix(embeddings: Embeddings, texts: Sequence[str]) -> np.ndarray:
    matrix = np.asarray(embeddings.embed_documents(list(texts)), dtype=np.float32)
    return matrix / np.clip(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12, None)


class DenseOnly:
    """One vector per unit (its clean text), cosine similarity, nothing else."""

    name = "dense"

    def __init__(self, document: Document, embeddings: Embeddings) -> None:
        self._ids = [u.id for u in document.units]
        self._embeddings = embeddings
        self._matrix = _unit_matrix(embeddings, [u.text for u in document.units])

    def search(self, query: str, k: int) -> SystemHits:
        q = np.asarray(self._embeddings.embed_query(query), dtype=np.float32)
        sims = self._matrix @ (q / max(float(np.linalg.norm(q)), 1e-12))
        order = np.argsort(-sims)[:k]
        return SystemHits(ranking=[[self._ids[i]] for i in order], best_dense=float(sims.max()))


class BM25Only:
    """Plain BM25 (bm25s, lower-cased words, French and English stop words, no stemming) over unit texts."""

    name = "bm25"

    def __init__(self, document: Document) -> None:
        import bm25s
        from bm25s.stopwords import STOPWORDS_EN, STOPWORDS_FRENCH

        self._bm25s = bm25s
        self._stopwords = sorted(set(STOPWORDS_FRENCH) | set(STOPWORDS_EN))
        self._ids = [u.id for u in document.units]
        self._index = bm25s.BM25()
        self._index.index(self._tokenize([u.text for u in document.units]), show_progress=False)

    def _tokenize(self, texts: list[str]) -> list[list[str]]:
        return self._bm25s.tokenize(texts, stopwords=self._stopwords, return_ids=False, show_progress=False)

    def search(self, query: str, k: int) -> SystemHits:
        tokens = self._tokenize([query])
        if not tokens[0]:
            return SystemHits(ranking=[])
        docs, scores = self._index.retrieve(tokens, k=min(k, len(self._ids)), show_progress=False)
        # BM25 still returns k documents when no word matches; a zero score is not a retrieval.
        ranking = [[self._ids[int(d)]] for d, s in zip(docs[0], scores[0], strict=True) if s > 0]
        return SystemHits(ranking=ranking)


def unit_spans(text: str, document: Document) -> list[tuple[int, int, str]]:
    """Character spans (start, end, unit id) of the file's blocks, each assigned to its unit.

    A block is a run of non-blank lines, as the parser reads them; page-break pieces of one paragraph
    are separate blocks of the same unit.
    """
    owner: dict[str, str] = {}
    for unit in document.units:
        if unit.kind != "footnote":
            for piece in unit.raw.split("\n\n"):
                owner.setdefault(piece, unit.id)
    spans: list[tuple[int, int, str]] = []
    lines: list[str] = []
    start = end = 0
    offset = 0

    def close() -> None:
        block = " ".join(lines)
        m = _FOOTNOTE_LINE.match(block)
        if m:
            uid: str | None = f"fn{int(m.group(1).translate(str.maketrans(_SUPERSCRIPT, '0123456789')))}"
        else:
            # The parser keeps an operative paragraph's text without its "27. " number.
            uid = owner.get(block) or owner.get(_OPERATIVE_NUMBER.sub("", block, count=1))
        if uid is not None and document.get(uid) is not None:
            spans.append((start, end, uid))

    for raw_line in text.splitlines(keepends=True):
        stripped = raw_line.strip()
        if stripped:
            if not lines:
                start = offset + raw_line.index(stripped[0])
            lines.append(stripped)
            end = offset + len(raw_line.rstrip())
        elif lines:
            close()
            lines = []
        offset += len(raw_line)
    if lines:
        close()
    return spans


def overlapping_units(spans: Sequence[tuple[int, int, str]], start: int, end: int) -> list[str]:
    """Unit ids whose blocks overlap [start, end), in document order, each once."""
    found: list[str] = []
    for s, e, uid in spans:
        if s < end and start < e and uid not in found:
            found.append(uid)
    return found


class NaiveChunks:
    """The tutorial pipeline: RecursiveCharacterTextSplitter(1000, 200) over the raw file, an in-memory
    Chroma collection with the same embedder. Each chunk is scored as the units it overlaps."""

    name = "naive"

    def __init__(self, text: str, document: Document, embeddings: Embeddings) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings
        from langchain_chroma import Chroma
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        splitter = RecursiveCharacterTextSplitter(
            chunk_size=NAIVE_CHUNK_SIZE, chunk_overlap=NAIVE_CHUNK_OVERLAP, add_start_index=True
        )
        chunks = splitter.create_documents([text])
        spans = unit_spans(text, document)
        for chunk in chunks:
            start = chunk.metadata["start_index"]
            chunk.metadata["units"] = ",".join(overlapping_units(spans, start, start + len(chunk.page_content)))
        self.chunk_count = len(chunks)
        self.units_per_chunk = sum(len(c.metadata["units"].split(",")) for c in chunks) / max(len(chunks), 1)
        client = chromadb.EphemeralClient(settings=ChromaSettings(anonymized_telemetry=False))
        self._store = Chroma(
            collection_name=f"naive-{uuid.uuid4().hex[:12]}",
            embedding_function=embeddings,
            client=client,
            collection_metadata={"hnsw:space": "cosine"},
        )
        self._store.add_documents(chunks, ids=[f"chunk-{i}" for i in range(len(chunks))])

    def search(self, query: str, k: int) -> SystemHits:
        found = self._store.similarity_search_with_score(query, k=min(k, self.chunk_count))
        ranking = [[u for u in doc.metadata["units"].split(",") if u] for doc, _ in found]
        best = 1.0 - min(distance for _, distance in found) if found else None
        return SystemHits(ranking=ranking, best_dense=best)


class Ours:
    """The project's retriever. Ranking metrics use its ranked hits (explicit references included);
    the footnote/referrer expansions at the configured k are kept as the context."""

    name = "ours"

    def __init__(self, retriever: Retriever, *, with_context: bool = True) -> None:
        self._retriever = retriever
        self._with_context = with_context  # the context costs a second search

    def search(self, query: str, k: int) -> SystemHits:
        start = time.perf_counter()
        ranked = self._retriever.search(query, k=k)
        seconds = time.perf_counter() - start
        context = [h.unit.id for h in self._retriever.search(query).hits] if self._with_context else []
        return SystemHits(
            ranking=[[h.unit.id] for h in ranked.found],
            context=context,
            best_dense=ranked.best_dense,
            seconds=seconds,
        )
