"""Damage detection: whether a short search answer means a damaged store (reads Chroma's private SQLite schema)."""

from __future__ import annotations

import sqlite3
from contextlib import closing

from resolution_qa.core.errors import IndexCorruptedError, IndexUnavailableError
from resolution_qa.core.settings import StoreSettings


def vector_files_missing(store: StoreSettings, generation: str | None) -> bool:
    """Embedded store only: Chroma records a vector folder for this generation that is not on disk."""
    if store.chroma_url or generation is None:
        return False
    database = store.index_dir / "chroma.sqlite3"
    try:
        with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as connection:
            rows = connection.execute(
                "SELECT s.id FROM segments s JOIN collections c ON s.collection = c.id "
                "WHERE c.name = ? AND s.scope = 'VECTOR'",
                (generation,),
            ).fetchall()
    except sqlite3.Error:
        return True  # the catalogue itself cannot be read
    return any(not (store.index_dir / str(segment)).is_dir() for (segment,) in rows)


def short_answer_is_damage(found: int, expected: int, files_missing: bool) -> bool:
    """Whether a search that returned `found` of the `expected` passages shows a damaged store."""
    # Chroma answers from whatever vector files it finds: missing ones give fewer results, not an error.
    # Approximate search may also return fewer than asked in a large index, so a short answer is only
    # damage when the collection's vector folder is gone or less than half of it came back.
    # (Measured: 118 of 200 at 100k near-duplicate passages; 5 of 50 with the vector folder deleted.)
    return found < expected and (files_missing or 2 * found < expected)


def damaged(store: StoreSettings, generation: str | None, what: str) -> IndexUnavailableError:
    """The error for a damaged generation: rebuild it (a server's store is not ours to move aside)."""
    if store.chroma_url:
        return IndexUnavailableError(
            f"the index {generation} on the Chroma server at {store.chroma_url} is damaged ({what}); "
            "run `resolution-qa ingest --rebuild`"
        )
    return IndexCorruptedError(
        f"the vector index at {store.index_dir} is damaged ({what}); its vector files are missing or "
        "broken: run `resolution-qa ingest --rebuild`"
    )
