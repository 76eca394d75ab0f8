"""A retriever for long-running readers (the chat app): it follows each new index generation as a whole."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from pydantic import PrivateAttr

from resolution_qa.core.errors import IndexUnavailableError

from .generations import GenerationGoneError
from .retriever import UnitRetriever
from .types import RetrievalResult


class FollowingRetriever(UnitRetriever):
    """A UnitRetriever that, before each search, moves on to the generation the last ingest published.

    When another process ingested, the index and the documents (units, BM25) are switched together, from the
    new generation's own records. Only the check and the switch hold the lock: each search runs, in parallel
    with the others, on a snapshot of one generation (the old index or the new one, never a mix); a replaced
    generation stays readable until the ingest after next.
    """

    _lock: threading.RLock = PrivateAttr(default_factory=threading.RLock)
    _snapshot: UnitRetriever | None = PrivateAttr(default=None)

    def search(self, query: str, k: int | None = None, docs: Sequence[str] | None = None) -> RetrievalResult:
        try:
            return UnitRetriever.search(self._current(), query, k=k, docs=docs)
        except GenerationGoneError:
            # Two ingests finished between our check and our query: follow again, once.
            return UnitRetriever.search(self._current(), query, k=k, docs=docs)

    def _current(self) -> UnitRetriever:
        with self._lock:
            self.follow()
            if self._snapshot is None:
                self._snapshot = self.model_copy()  # shallow: shares the index, units and BM25 of this generation
            return self._snapshot

    def follow(self) -> bool:
        """Switch to the newest generation if there is one; True when it switched."""
        with self._lock:
            latest = self.index.active()
            if latest is None or latest == self.index.generation:
                return False
            index = self.index.pinned(latest)  # a new object: searches in flight keep the old one
            documents = index.documents()
            if not documents:
                raise IndexUnavailableError("the vector index is empty; run `resolution-qa ingest`")
            self.index, self.documents = index, documents
            self.model_post_init(None)  # new unit table and BM25 for the new documents
            self._snapshot = None
            return True
