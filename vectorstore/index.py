"""The index of unit passages: a facade over its generations (generations.py), the one it reads (reader.py),
sync (sync.py), dense search (dense.py) and damage detection (damage.py)."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import TYPE_CHECKING

from langchain_core.embeddings import Embeddings

from resolution_qa.core.errors import IndexUnavailableError
from resolution_qa.core.settings import EmbeddingSettings, StoreSettings
from resolution_qa.ingest.units import Document

from .client import make_client
from .damage import vector_files_missing
from .dense import DenseSearch
from .embeddings import FALLBACK_WINDOW_CHARS, token_counter
from .generations import Generations
from .passages import Window
from .reader import GenerationReader
from .records import IndexInfo, expected_info
from .sync import Progress, Sync, SyncReport

if TYPE_CHECKING:
    from chromadb.api import ClientAPI


def window_of(embeddings: Embeddings) -> Window:
    counter = token_counter(embeddings)
    if counter is None:
        return Window(size=FALLBACK_WINDOW_CHARS)
    size, count = counter
    return Window(size=size, length=count)


class UnitIndex:
    """The passages of the ingested documents: generations of Chroma collections behind a pointer.

    An ingest that changes anything writes a complete new collection `<collection>__<generation>` (copying the
    vectors of unchanged passages, never embedding them again), then flips the pointer, the metadata of the
    small collection `<collection>`, with one call. A reader resolves the pointer once and stays on that
    generation (`pinned()` gives a copy on a newer one), so it sees the old index or the new one, never a mix.
    A failed or killed ingest leaves only an unused collection, which the next successful ingest removes; the previous generation is kept
    for readers still on it. The same in the embedded store and on a Chroma server.
    """

    def __init__(
        self,
        store: StoreSettings,
        embedding: EmbeddingSettings,
        embeddings: Embeddings,
        *,
        client: ClientAPI | None = None,
    ) -> None:
        self.store_settings = store
        self.embedding_settings = embedding
        self.embeddings = embeddings
        self.client = client if client is not None else make_client(store)
        self.generations = Generations(self.client, store)
        self.name = store.collection
        self.window = window_of(embeddings)
        self._files_missing: tuple[str | None, bool] | None = None  # (generation, its vector folder is gone)
        self._reader: GenerationReader | None = None  # the generation this index reads, once resolved
        self._search: DenseSearch | None = None  # dense search in it, opened once

    # --- the generation this index reads ---------------------------------------------------------------------
    def active(self) -> str | None:
        """The generation the pointer names now; None when there is no index (or one in an older format)."""
        return self.generations.active()

    @property
    def generation(self) -> str | None:
        """The collection this index reads: the active one when first asked, until sync() (see pinned())."""
        return self._read().name

    def pinned(self, generation: str) -> UnitIndex:
        """A copy of this index that reads `generation` (same client and embeddings); this one is unchanged."""
        other = copy.copy(self)
        other._pin(generation)
        return other

    def _pin(self, generation: str | None) -> GenerationReader:
        self._reader = GenerationReader(self.generations, generation)
        self._search = None
        return self._reader

    def _read(self) -> GenerationReader:
        return self._reader if self._reader is not None else self._pin(self.active())

    # --- what it holds ------------------------------------------------------------------------------------
    def expected_info(self, sources: Sequence[str] = ()) -> IndexInfo:
        return expected_info(self.embeddings, sources)

    def info(self) -> IndexInfo | None:
        """How the generation this index reads was built, or None when there is none."""
        return self._read().info()

    def count(self) -> int:
        return self._read().count()

    def documents(self) -> list[Document]:
        """The indexed documents, rebuilt from the stored metadata (no source file needed)."""
        return self._read().documents()

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
        sync = Sync(self.generations, self.embeddings, self.embedding_settings, self.window, pin=self._pin)
        return sync.run(documents, sources=sources, rebuild=rebuild, progress=progress)

    # --- reading -------------------------------------------------------------------------------------------
    def dense(self, vector: list[float], *, limit: int, docs: Sequence[str] | None = None) -> dict[str, float]:
        """Cosine similarity to a query vector of the best-matching units ("doc#id"): the best of their passages.

        At most `limit` passages are fetched (the retriever asks for settings.dense_candidates); `docs` keeps
        only the units of those document symbols.
        """
        reader = self._read()
        # Checked before the first use of a generation: searching recreates an empty vector folder.
        if self._files_missing is None or self._files_missing[0] != reader.name:
            self._files_missing = (reader.name, vector_files_missing(self.store_settings, reader.name))
        n = reader.count()
        if n == 0:
            raise IndexUnavailableError("the vector index is empty; run `resolution-qa ingest`")
        if self._search is None:
            self._search = DenseSearch(reader, self.embeddings, self.store_settings)
        return self._search.scores(vector, limit=min(n, limit), docs=docs, files_missing=self._files_missing[1])
