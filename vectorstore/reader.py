"""One generation as a reader sees it: its collection, how it was built, its passages' metadata and documents."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from resolution_qa.ingest.units import Document

from .generations import Generations
from .records import IndexInfo, documents_of

if TYPE_CHECKING:
    from chromadb.api.models.Collection import Collection

_READ_PAGE = 5000  # passages read per get(): well under SQLite's limit on query variables


class GenerationReader:
    """The generation `name` of a store (None: there is no index), its collection fetched once."""

    def __init__(self, generations: Generations, name: str | None) -> None:
        self.generations = generations
        self.name = name
        self._handle: Collection | None = None

    def reading(self, doing: str) -> AbstractContextManager[None]:
        """Errors while `doing` something with this generation; its deletion is a GenerationGoneError."""
        return self.generations.reading(self.name, doing)

    def collection(self) -> Collection | None:
        """The collection of this generation, or None when there is no index."""
        if self.name is None:
            return None
        if self._handle is None:
            handle = self.generations.get(self.name)
            if handle is None:
                raise self.generations.gone(self.name)
            self._handle = handle
        return self._handle

    def info(self) -> IndexInfo | None:
        """How this generation was built, or None when there is none."""
        collection = self.collection()
        return IndexInfo.of((collection.metadata or {}) if collection is not None else {})

    def count(self) -> int:
        collection = self.collection()
        if collection is None:
            return 0
        with self.reading("counting passages"):
            return collection.count()

    def records(self) -> dict[str, dict[str, Any]]:
        """The metadata of every stored passage, by passage id."""
        collection = self.collection()
        if collection is None:
            return {}
        existing: dict[str, dict[str, Any]] = {}
        with self.reading("reading the indexed passages"):
            # In pages: one get() of a 100k-passage collection exceeds SQLite's variable limit.
            for offset in range(0, collection.count(), _READ_PAGE):
                got = collection.get(include=["metadatas"], limit=_READ_PAGE, offset=offset)
                existing.update(
                    (pid, dict(meta or {})) for pid, meta in zip(got["ids"], got["metadatas"] or [], strict=True)
                )
        return existing

    def documents(self) -> list[Document]:
        """The documents of this generation, rebuilt from the stored metadata (no source file needed)."""
        return documents_of(self.records().values())
