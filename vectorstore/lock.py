"""The ingest lock: one writer per index at a time, across processes and machines, kept in the store itself.

The lock is a small collection `<collection>-ingest-lock` whose metadata names its holder (a random token, host,
process id, when it was taken, when it expires). Creating a collection that exists fails in both the embedded
store (SQLite's unique constraint) and on a Chroma server, so taking the lock is one atomic call in both modes,
and no file is needed beside a server's store. The holder pushes the expiry forward while it works; a lock whose
holder died is taken over once it has expired, at once when the holder was a process of this machine that is gone
(`kill -9` mid-ingest must not block the next ingest for minutes).

Readers never take it. An ingest takes it only when it has something to write, so two ingests started together
give one result and one clear "another ingest is running" message, before the second embeds anything. The pointer
flip keeps its own check (generations.py), for a holder that lost its lock while stalled past the expiry.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

from resolution_qa.core.errors import IndexUnavailableError
from resolution_qa.core.settings import StoreSettings

from .generations import Generations

#: Seconds a lock lasts without being renewed; the holder renews it every LOCK_TTL_S / 4.
LOCK_TTL_S = 120.0


class IndexBusyError(IndexUnavailableError):
    """Another ingest is writing to this index."""


@dataclass(frozen=True)
class Holder:
    """Who holds an ingest lock, read from the lock collection's metadata."""

    token: str
    host: str
    pid: int
    since: float
    expires: float

    @classmethod
    def of(cls, meta: dict[str, Any]) -> Holder | None:
        try:
            return cls(str(meta["token"]), str(meta["host"]), int(meta["pid"]), float(meta["since"]),
                       float(meta["expires"]))
        except (KeyError, TypeError, ValueError):
            return None

    def metadata(self) -> dict[str, str | int | float]:
        return {"token": self.token, "host": self.host, "pid": self.pid, "since": self.since, "expires": self.expires}

    def gone(self, now: float) -> bool:
        """Whether the holder can no longer be working: expired, or a process of this machine that has exited."""
        if now > self.expires:
            return True
        if self.host != socket.gethostname() or self.pid == os.getpid():
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except OSError:  # EPERM: it exists, under another user
            return False
        return False


def raise_if_busy(store: StoreSettings) -> None:
    """IndexBusyError when a live ingest holds the store's lock: `resolution-qa ingest` asks before loading the
    embedding model (a minute on a loaded machine), rather than load it to find the index busy."""
    from .client import is_read_only, make_client, read_only_message

    if not store.chroma_url and is_read_only(store.index_dir):
        raise IndexUnavailableError(read_only_message(store.index_dir, "an ingest writes to it"))
    lock = IngestLock(Generations(make_client(store), store))
    with lock.generations.errors("reading the ingest lock"):
        holder = lock.holder()
    if holder is not None and not holder.gone(time.time()):
        raise IndexBusyError(lock._busy_message(holder))


def _exists_error(exc: BaseException) -> bool:
    return type(exc).__name__ == "UniqueConstraintError" or "already exists" in str(exc).lower()


class IngestLock:
    """The ingest lock of one store: `with IngestLock(generations).held(): ...` or IndexBusyError."""

    def __init__(self, generations: Generations, ttl_s: float = LOCK_TTL_S) -> None:
        self.generations = generations
        self.client = generations.client
        self.name = f"{generations.name}-ingest-lock"
        self.ttl_s = ttl_s
        self.token = uuid.uuid4().hex
        self._since = 0.0
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    # --- the record -----------------------------------------------------------------------------------------
    def _mine(self, now: float) -> Holder:
        return Holder(self.token, socket.gethostname(), os.getpid(), self._since or now, now + self.ttl_s)

    def _create(self) -> bool:
        """Create the lock collection naming us; False when it exists already (someone holds the lock)."""
        now = time.time()
        self._since = now
        try:
            self.client.create_collection(self.name, embedding_function=None, metadata=self._mine(now).metadata())
        except Exception as exc:
            if _exists_error(exc):
                return False
            raise
        return True

    def holder(self) -> Holder | None:
        """Who holds the lock now (None: nobody, or a record this program did not write)."""
        collection = self.generations.get(self.name)
        return Holder.of(dict(collection.metadata or {})) if collection is not None else None

    # --- taking and giving back --------------------------------------------------------------------------------
    def acquire(self) -> None:
        """Take the lock, or raise IndexBusyError naming who holds it (IndexUnavailableError: a read-only index)."""
        from .client import read_only_message, read_only_source

        if (source := read_only_source(self.client)) is not None:  # read from a copy: a write would be lost
            raise IndexUnavailableError(read_only_message(source, "updating it: an ingest, or documents that "
                                                                  "changed since it was built"))
        with self.generations.errors("taking the ingest lock"):
            if self._create():
                return self._start_renewing()
            holder = self.holder()
            if holder is None or holder.gone(time.time()):  # vanished, unreadable, expired, or its process died
                self.generations.drop(self.name)
                if self._create():
                    return self._start_renewing()
                holder = self.holder()
        raise IndexBusyError(self._busy_message(holder))

    def _busy_message(self, holder: Holder | None) -> str:
        where = self.generations.store.chroma_url or str(self.generations.store.index_dir)
        if holder is None:
            who = "another ingest is running on the index at " + where
        else:
            since = time.strftime("%H:%M:%S", time.localtime(holder.since))
            who = (f"another ingest is running on the index at {where} (process {holder.pid} on {holder.host}, "
                   f"since {since})")
        return f"{who}; wait for it to finish, then run this one again (nothing was changed)"

    def release(self) -> None:
        """Give the lock back (only if it is still ours: a lock taken over after expiring is left to its holder)."""
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join(timeout=5)
        with suppress(Exception):  # best effort: an unreleased lock expires, or its dead process is noticed
            holder = self.holder()
            if holder is not None and holder.token == self.token:
                self.generations.drop(self.name)

    @contextmanager
    def held(self) -> Iterator[None]:
        self.acquire()
        try:
            yield
        finally:
            self.release()

    # --- renewing --------------------------------------------------------------------------------------------
    def _start_renewing(self) -> None:
        self._stop.clear()
        self._renewer = threading.Thread(target=self._renew, name="ingest-lock", daemon=True)
        self._renewer.start()

    def _renew(self) -> None:
        while not self._stop.wait(self.ttl_s / 4):
            with suppress(Exception):  # a failing store fails the ingest itself; the lock just expires
                collection = self.generations.get(self.name)
                holder = Holder.of(dict(collection.metadata or {})) if collection is not None else None
                if collection is None or holder is None or holder.token != self.token:
                    return  # taken over after we stalled past the expiry: the flip's check will stop us
                collection.modify(metadata=self._mine(time.time()).metadata())
