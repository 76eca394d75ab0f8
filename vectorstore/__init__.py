"""Units -> Chroma and back: ingest the resolutions, then retrieve cited units for a question."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from langchain_core.embeddings import Embeddings

from resolution_qa.core.errors import IndexCorruptedError, IndexUnavailableError
from resolution_qa.core.refs import Reference, find_references
from resolution_qa.core.settings import Settings, StoreSettings
from resolution_qa.ingest import BUNDLED_PATH, Document, expand_sources, merge_versions, parse_file
from resolution_qa.ingest.sources import same_file_key

from .client import check_catalogue, make_client, move_aside
from .embeddings import load_embeddings
from .following import FollowingRetriever
from .index import UnitIndex
from .records import IndexInfo
from .references import resolve
from .retriever import UnitRetriever
from .sync import Progress, SyncReport
from .types import Hit, RetrievalResult

__all__ = [
    "BUNDLED_SOURCE",
    "FollowingRetriever",
    "Hit",
    "IndexInfo",
    "Reference",
    "RetrievalResult",
    "SyncReport",
    "UnitIndex",
    "UnitRetriever",
    "find_references",
    "ingest",
    "load_embeddings",
    "make_client",
    "open_retriever",
    "parse_sources",
    "resolve",
]

#: How the bundled A/RES/75/158 is recorded as a source (its path changes with the installation).
BUNDLED_SOURCE = "<bundled>"


def parse_sources(sources: Sequence[str | Path]) -> list[Document]:
    """Parse every source before anything is written (a bad file fails the whole ingest); language versions of
    one resolution (same symbol) become one document."""
    return merge_versions([parse_file(None if str(s) == BUNDLED_SOURCE else Path(s)) for s in sources])


def _source_names(paths: Sequence[Path]) -> list[str]:
    # realpath, not Path.resolve(): a symbolic-link loop must reach the reader's one-line error, not a RuntimeError.
    bundled = same_file_key(BUNDLED_PATH)
    return [key if (key := same_file_key(p)) != bundled else BUNDLED_SOURCE for p in expand_sources(paths)]


def ingest(
    settings: Settings,
    embeddings: Embeddings | None = None,
    documents: Sequence[Document] | None = None,
    rebuild: bool = False,
    *,
    paths: Sequence[Path] | None = None,
    progress: Progress | None = None,
) -> SyncReport:
    """Make the index hold exactly these documents (default: settings.documents, else the bundled resolution).

    `documents` are already parsed; otherwise `paths` (or settings.documents) are parsed first, all of them,
    so a bad file leaves the index untouched.
    """
    store, embedding = settings.store, settings.embedding
    if documents is not None:
        sources: list[str] | None = None
        docs = merge_versions(documents)
    else:
        sources = _source_names(list(paths or store.documents)) or [BUNDLED_SOURCE]
        docs = parse_sources(sources)
    embeddings = embeddings if embeddings is not None else load_embeddings(embedding)
    try:
        return UnitIndex(store, embedding, embeddings).sync(docs, sources=sources, rebuild=rebuild, progress=progress)
    except IndexCorruptedError:
        if not rebuild or store.chroma_url:
            raise
    # --rebuild on an embedded store that cannot be read: keep it aside (nothing is deleted), start afresh.
    moved = move_aside(store)
    report = UnitIndex(store, embedding, embeddings).sync(docs, sources=sources, rebuild=True, progress=progress)
    return report.model_copy(update={"reason": f"the index could not be read; the damaged folder was moved to {moved}"})


def _default_sources(store: StoreSettings, index: UnitIndex) -> list[str]:
    """store.documents; else what the last `resolution-qa ingest PATHS` indexed; else the bundled text."""
    if store.documents:
        return _source_names(store.documents)
    info = index.info()
    if info is not None and info.sources:
        missing = [s for s in info.sources if s != BUNDLED_SOURCE and not Path(s).is_file()]
        if missing:
            raise IndexUnavailableError(
                f"the index was built from {', '.join(missing)}, which no longer exists; run "
                "`resolution-qa ingest PATH...` with the files to index"
            )
        return list(info.sources)
    return [BUNDLED_SOURCE]


def open_retriever(
    settings: Settings,
    embeddings: Embeddings | None = None,
    *,
    documents: list[Document] | None = None,
    progress: Progress | None = None,
) -> UnitRetriever:
    """A retriever over an index brought up to date first (nothing is embedded when nothing changed).

    Documents: the given ones; else settings.documents; else those of the last `resolution-qa ingest PATHS`;
    else the bundled A/RES/75/158.
    """
    store, embedding, retrieval = settings.store, settings.embedding, settings.retrieval
    check_catalogue(store)  # a damaged store is reported before seconds of model loading, and never rebuilt here
    embeddings = embeddings if embeddings is not None else load_embeddings(embedding)
    index = UnitIndex(store, embedding, embeddings)
    if documents is not None:
        docs, sources = merge_versions(documents), None
    else:
        sources = _default_sources(store, index)
        docs = parse_sources(sources)
    index.sync(docs, sources=sources, progress=progress)
    # The chat app keeps this for hours while other processes may ingest: it follows each new generation whole.
    return FollowingRetriever(
        index=index,
        embeddings=embeddings,
        documents=docs,
        k=retrieval.k,
        lexical_weight=retrieval.lexical_weight,
        dense_candidates=retrieval.dense_candidates,
    )
