"""The generation pointer: which collection readers use, switched for all of them in one metadata write."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from typing import TYPE_CHECKING, Any

from resolution_qa.core.errors import IndexUnavailableError
from resolution_qa.core.settings import StoreSettings

from .client import store_errors

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection

#: Metadata keys of the pointer collection (named settings.collection): the generation readers use, and the one
#: before it (kept for readers still on it).
_ACTIVE = "rqa_active"
_PREVIOUS = "rqa_previous"
_FORMAT = "rqa_format"
POINTER_FORMAT = "2"


class GenerationGoneError(IndexUnavailableError):
    """The generation a reader was on has been removed by later ingests."""


def active_in(pointer_meta: dict[str, Any]) -> str | None:
    """The generation a pointer's metadata names; None when it names none (no index, or the older format)."""
    value = pointer_meta.get(_ACTIVE)
    return str(value) if value else None


class Generations:
    """The collections `<collection>__<generation>` of one store, and the pointer collection `<collection>`
    whose metadata names the one readers use."""

    def __init__(self, client: ClientAPI, store: StoreSettings) -> None:
        self.client = client
        self.store = store
        self.name = store.collection

    def errors(self, doing: str) -> AbstractContextManager[None]:
        """Chroma's errors while `doing` something, as one clear IndexUnavailableError."""
        return store_errors(self.store, doing)

    def get(self, name: str) -> Collection | None:
        """The collection `name`, or None when there is none."""
        from chromadb.errors import NotFoundError

        with self.errors("reading the index"):
            try:
                return self.client.get_collection(name, embedding_function=None)
            except NotFoundError:
                return None

    def pointer(self) -> tuple[Collection | None, dict[str, Any]]:
        """The pointer collection (None when there is no index) and its metadata."""
        pointer = self.get(self.name)
        return pointer, dict(pointer.metadata or {}) if pointer is not None else {}

    def active(self) -> str | None:
        """The generation the pointer names now; None when there is no index (or one in an older format)."""
        return active_in(self.pointer()[1])

    def gone(self, generation: str | None) -> GenerationGoneError:
        return GenerationGoneError(
            f"the index generation {generation} was replaced by later ingests while it was being read; "
            "open the index again (the chat app and the CLI do this by themselves)"
        )

    @contextmanager
    def reading(self, generation: str | None, doing: str) -> Iterator[None]:
        """Errors while reading `generation`; its deletion under the reader is a GenerationGoneError."""
        from chromadb.errors import NotFoundError

        try:
            with self.errors(doing):
                yield
        except IndexUnavailableError as exc:
            if isinstance(exc.__cause__, NotFoundError):  # our generation was deleted under us
                raise self.gone(generation) from exc
            raise

    def new_name(self) -> str:
        """A name for a new generation, later than every earlier one."""
        return f"{self.name}__{time.strftime('%Y%m%dT%H%M%S')}{uuid.uuid4().hex[:8]}"

    def flip(self, expected_active: str | None, generation: str) -> None:
        """Point readers at `generation` with one metadata write, unless another ingest moved the pointer meanwhile."""
        meta = {_ACTIVE: generation, _PREVIOUS: expected_active or "", _FORMAT: POINTER_FORMAT}
        pointer, pointer_meta = self.pointer()
        if active_in(pointer_meta) != expected_active:
            self.drop(generation)
            raise IndexUnavailableError(
                "another ingest changed the index while this one ran; the index holds its result: run "
                "`resolution-qa ingest` again to index these files"
            )
        with self.errors("switching readers to the new index generation"):
            if pointer is None:
                self.client.create_collection(self.name, embedding_function=None, metadata=meta)
            else:
                pointer.modify(metadata=meta)  # one transaction: readers see the old name or the new one

    def remove_old(self, keep: set[str | None]) -> None:
        """Delete the generations before the previous one and the leftovers of failed or killed ingests."""
        pattern = re.compile(re.escape(self.name) + r"__\d{8}T\d{6}[0-9a-f]{8}")
        try:
            names = [c if isinstance(c, str) else c.name for c in self.client.list_collections()]
        except Exception:  # cleanup is best effort: the next successful ingest tries again
            return
        for name in names:
            if pattern.fullmatch(name) and name not in keep:
                self.drop(name)
        pointer = self.get(self.name)
        try:
            if pointer is not None and pointer.count():  # records of the old in-place format
                pointer.delete(ids=pointer.get(include=[])["ids"])
        except Exception:
            pass

    def drop(self, name: str) -> None:
        with suppress(Exception):  # already gone, or the store is failing: the next ingest removes it
            self.client.delete_collection(name)
