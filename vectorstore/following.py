"""A retriever for long-running readers (the chat app): it follows each new index generation as a whole."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from pydantic import PrivateAttr

from resolution_qa.errors import IndexUnavailableError

from .index import GenerationGoneError
from .retriever import UnitRetriever
from .types import RetrievalResult


class FollowingRetriever(UnitRetriever):
    """A UnitRetriever that, before each search, moves on to the generation the last ingest published.

    When another process ingested, the index and the documents (units, BM25) are switched together, from the
    new generation's own records, so one search reads one generation: the old index or the new one, never a
    mix. Searches are serialised so no search sees a half-made switch.
    """

    _lock: threading.RLock = PrivateAttr(default_factory=threading.RLock)

    def search(self, query: str, k: int | None = None, docs: Sequence[str] | None = None) -> RetrievalResult:
        with self._lock:
            try:
                self.follow()
                return super().search(query, k=k, docs=docs)
            except GenerationGoneError:
                # Two ingests finished between our check and our query: follow again, once.
                self.follow()
                return super().search(query, k=k, docs=docs)

    def follow(self) -> bool:
        """Switch to the newest generation if there is one; True when it switched."""
        with self._lock:
            if not self.index.refresh():
                return False
            documents = self.index.documents()
            if not documents:
                raise IndexUnavailableError("the vector index is empty; run `resolution-qa ingest`")
            self.documents = documents
            self.model_post_init(None)  # rebuilds the unit table and BM25 from the new documents
            return True
