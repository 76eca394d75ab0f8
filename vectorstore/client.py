"""The Chroma client: the embedded store in a folder, or Chroma's own server when a URL is set."""

from __future__ import annotations

import atexit
import errno
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from resolution_qa.core.errors import IndexCorruptedError, IndexUnavailableError, ResolutionQAError
from resolution_qa.core.settings import StoreSettings

if TYPE_CHECKING:
    import chromadb.config
    from chromadb.api import ClientAPI

#: Attempts to reach a Chroma server, and the pauses between them: about 2 s in all when nobody listens.
CONNECT_TRIES = 3
CONNECT_BACKOFF_S = (0.5, 1.5)
#: Bounds on one request to a server: answering a heartbeat, and any call once connected (a hung server
#: must end in an error, not a frozen chat).
HEARTBEAT_TIMEOUT_S = 2.0
REQUEST_TIMEOUT_S = 60.0


def make_client(store: StoreSettings) -> ClientAPI:  # chromadb is imported lazily: it is slow to import
    """The Chroma client: a server when store.chroma_url is set, else the embedded store in index_dir.

    Raises IndexUnavailableError (server unreachable after CONNECT_TRIES, bad URL, unusable folder) or
    IndexCorruptedError (the embedded store exists but cannot be read).
    """
    if store.chroma_url:
        return _server_client(store)
    return _embedded_client(store)


def _telemetry_off() -> chromadb.config.Settings:
    import chromadb

    # A fresh object each time: HttpClient writes its host and port into the one it is given.
    return chromadb.config.Settings(anonymized_telemetry=False)


def _server_address(settings: StoreSettings) -> tuple[str, str, int, bool]:
    """(base URL, host, port, ssl) of settings.chroma_url."""
    url = urlparse(settings.chroma_url or "")
    if url.scheme not in ("http", "https") or not url.hostname:
        raise IndexUnavailableError(
            f"RESOLUTION_QA_CHROMA_URL={settings.chroma_url!r} is not an http(s) URL; use e.g. http://127.0.0.1:8000"
        )
    try:
        port = url.port or (443 if url.scheme == "https" else 8000)
    except ValueError:
        raise IndexUnavailableError(
            f"RESOLUTION_QA_CHROMA_URL={settings.chroma_url!r} has an invalid port; use e.g. http://127.0.0.1:8000"
        ) from None
    return f"{url.scheme}://{url.hostname}:{port}", url.hostname, port, url.scheme == "https"


def _server_client(settings: StoreSettings) -> ClientAPI:
    import chromadb
    import httpx

    base, host, port, ssl = _server_address(settings)
    last: Exception | None = None
    for attempt in range(CONNECT_TRIES):
        if attempt:
            time.sleep(CONNECT_BACKOFF_S[min(attempt, len(CONNECT_BACKOFF_S)) - 1])
        try:
            # The heartbeat has a timeout; HttpClient's own first request has none and could hang.
            httpx.get(f"{base}/api/v2/heartbeat", timeout=HEARTBEAT_TIMEOUT_S).raise_for_status()
            client = chromadb.HttpClient(host=host, port=port, ssl=ssl, settings=_telemetry_off())
        except Exception as exc:  # connection refused, timeout, HTTP error, chromadb's ValueError
            last = exc
            continue
        session = getattr(getattr(client, "_server", None), "_session", None)
        if isinstance(session, httpx.Client):
            session.timeout = httpx.Timeout(REQUEST_TIMEOUT_S)
        return client
    raise IndexUnavailableError(
        f"the Chroma server at {settings.chroma_url} is unreachable after {CONNECT_TRIES} tries "
        f"({_one_line(last)}); start it with `chroma run --path FOLDER --host {host} --port {port}`, "
        "or unset RESOLUTION_QA_CHROMA_URL to use the embedded index"
    )


#: Chroma's catalogue in an embedded index folder; each collection's vectors are in a folder named by a UUID.
CATALOGUE = "chroma.sqlite3"
_SEGMENT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _vector_folders(path: Path) -> bool:
    """Whether an embedded index folder holds vector folders: an index was written there."""
    try:
        return any(child.is_dir() and _SEGMENT.fullmatch(child.name) for child in path.iterdir())
    except OSError:
        return False


def _catalogue_lost(path: Path) -> str | None:
    """What is wrong with a folder whose catalogue is gone while its vectors are there, before Chroma opens it.

    SQLite takes an empty (0-byte) or missing file for a new database: Chroma would open it as an empty index and
    the next search would rebuild it from the bundled resolution alone, in silence. Never without --rebuild.
    """
    database = path / CATALOGUE
    try:
        size = database.stat().st_size
    except FileNotFoundError:
        return f"{CATALOGUE} is missing while the folder holds vector files" if _vector_folders(path) else None
    except OSError as exc:
        return f"{CATALOGUE} cannot be read ({_one_line(exc)})"
    return f"{CATALOGUE} is empty (0 bytes)" if size == 0 else None


def check_catalogue(settings: StoreSettings) -> None:
    """Embedded store: IndexCorruptedError when its catalogue is empty or missing beside vector files. A stat and a
    folder listing, no Chroma: commands call it before loading a model, so the error comes in a second."""
    if settings.chroma_url:
        return
    if (lost := _catalogue_lost(settings.index_dir)) is not None:
        raise IndexCorruptedError(_corrupted(settings.index_dir, f"the vector index at {settings.index_dir}", lost))


#: Largest read-only index opened from a temporary copy (bytes): Chroma writes to its folder whenever it opens one
#: ("attempt to write a readonly database"), so an index on a read-only mount is read from a copy (the bundled
#: resolution's index is 1.7 MB, copied in a few milliseconds); a larger one is refused with a read-only message.
READ_ONLY_COPY_LIMIT = 2_000_000_000
#: Where each read-only index of this process was copied (original folder -> copy), and the clients on copies.
_COPIES: dict[str, Path] = {}
_READ_ONLY_CLIENTS: dict[int, tuple[ClientAPI, Path]] = {}  # the client kept: its id is never reused


def is_read_only(path: Path) -> bool:
    """Whether the folder `path` exists and cannot be written (a read-only mount, or no write permission)."""
    try:
        if os.statvfs(path).f_flag & os.ST_RDONLY:
            return True
    except OSError:
        return False
    return path.is_dir() and not os.access(path, os.W_OK)


def read_only_source(client: ClientAPI) -> Path | None:
    """The read-only index folder a client reads from a copy of; None for a client on a writable store."""
    found = _READ_ONLY_CLIENTS.get(id(client))
    return found[1] if found is not None and found[0] is client else None


def read_only_message(path: Path, doing: str) -> str:
    return (
        f"the vector index at {path} is on a read-only file system: it can be searched but not changed ({doing}); "
        "copy the folder somewhere writable and set RESOLUTION_QA_INDEX_DIR to the copy, or remount it writable"
    )


def _read_only_copy(path: Path) -> Path:
    """A private writable copy of the read-only index folder `path` (made once per process, removed at exit)."""
    if (copy := _COPIES.get(str(path))) is not None and copy.is_dir():
        return copy
    try:
        size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    except OSError as exc:
        raise IndexUnavailableError(read_only_message(path, f"reading it failed: {_one_line(exc)}")) from exc
    if size > READ_ONLY_COPY_LIMIT:
        raise IndexUnavailableError(read_only_message(
            path, f"{size / 1e9:.1f} GB is too large to read from a temporary copy, and Chroma must write to open it"))
    folder = Path(tempfile.mkdtemp(prefix="resolution-qa-read-only-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    copy = folder / path.name
    try:
        shutil.copytree(path, copy, copy_function=shutil.copyfile)  # not its read-only permissions
        for item in [copy, *copy.rglob("*")]:
            item.chmod(0o700 if item.is_dir() else 0o600)
    except OSError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise IndexUnavailableError(read_only_message(path, f"a temporary copy failed: {_one_line(exc)}")) from exc
    _COPIES[str(path)] = copy
    return copy


def _embedded_client(settings: StoreSettings) -> ClientAPI:
    import chromadb

    path = settings.index_dir
    if is_read_only(path) and (path / CATALOGUE).is_file():
        check_catalogue(settings)
        copy = _read_only_copy(path)
        try:
            client = chromadb.PersistentClient(path=str(copy), settings=_telemetry_off())
        except Exception as exc:
            forget(copy)
            raise IndexCorruptedError(_corrupted(path, f"cannot open the vector index at {path}", exc)) from exc
        _READ_ONLY_CLIENTS[id(client)] = (client, path)
        return client
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        if disk_full(exc):
            raise IndexUnavailableError(_disk_full_message(settings, "creating the index folder")) from exc
        raise IndexUnavailableError(
            f"cannot open the vector index at {path}: {_one_line(exc)}; set RESOLUTION_QA_INDEX_DIR to a folder "
            "you can write"
        ) from exc
    check_catalogue(settings)
    try:
        return chromadb.PersistentClient(path=str(path), settings=_telemetry_off())
    except Exception as exc:  # sqlite "file is not a database", "malformed", rust bindings errors
        forget(path)
        if disk_full(exc):
            raise IndexUnavailableError(_disk_full_message(settings, "opening the index")) from exc
        if _read_only_error(exc) or is_read_only(path):  # not damage: `ingest --rebuild` could not help
            raise IndexUnavailableError(read_only_message(path, "opening it")) from exc
        raise IndexCorruptedError(_corrupted(path, f"cannot open the vector index at {path}", exc)) from exc


def _corrupted(path: Path, what: str, exc: BaseException | str) -> str:
    return (
        f"{what}: {exc if isinstance(exc, str) else _one_line(exc)}; the folder looks damaged: run "
        "`resolution-qa ingest --rebuild` (it moves the folder aside, deleting nothing, and builds a new index)"
    )


# SQLite's SQLITE_FULL (code 13) as Chroma's Rust layer words it, and the OS's ENOSPC / EDQUOT.
_DISK_FULL = re.compile(r"database or disk is full|no space left on device|disk quota exceeded|\(code: 13\)", re.I)


def disk_full(exc: BaseException) -> bool:
    """Whether an error, or one it was raised from, says the disk is full."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if _DISK_FULL.search(str(current)):
            return True
        current = current.__cause__ or current.__context__
    return False


#: Free bytes under which a failing write to the embedded store is put down to the disk being full: Chroma does not
#: always say so (measured: "Error in compaction: Failed to apply logs to the metadata segment" on a full tmpfs).
LOW_DISK_BYTES = 16_000_000


def _low_disk(settings: StoreSettings) -> bool:
    if settings.chroma_url:
        return False
    try:
        return shutil.disk_usage(settings.index_dir).free < LOW_DISK_BYTES
    except OSError:
        return False


def _disk_full_message(settings: StoreSettings, doing: str) -> str:
    if settings.chroma_url:
        return (
            f"the Chroma server at {settings.chroma_url} ran out of disk space while {doing}; free space on the "
            "server's disk, then run the command again (the index in use is unchanged)"
        )
    try:
        free = f", {shutil.disk_usage(settings.index_dir).free / 1e6:.1f} MB free"
    except OSError:
        free = ""
    return (
        f"the disk holding the vector index at {settings.index_dir} is full (while {doing}{free}); free some "
        "space, then run the command again (the index in use is unchanged: nothing was switched)"
    )


def _one_line(exc: BaseException | None) -> str:
    text = " ".join(str(exc).split()) if exc is not None else ""
    text = text or (type(exc).__name__ if exc is not None else "no answer")
    return text if len(text) <= 300 else text[:297] + "..."


def forget(path: Path) -> None:
    """Drop chromadb's in-process cache of the store at `path` (it keeps the sqlite file open and is reused
    by every later client of the same path, even after the folder was moved or failed to open)."""
    try:
        from chromadb.api.shared_system_client import SharedSystemClient

        system = SharedSystemClient._identifier_to_system.pop(str(path), None)
        SharedSystemClient._identifier_to_refcount.pop(str(path), None)
        if system is not None:
            system.stop()
    except Exception:  # best effort: a stale cache only matters if this process reopens the path
        pass


def move_aside(settings: StoreSettings) -> Path:
    """Rename the embedded index folder to `<index_dir>.broken-<timestamp>` (nothing is deleted); its new path."""
    path = settings.index_dir
    forget(path)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.broken-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.broken-{stamp}-{n}")
    try:
        path.rename(target)
    except OSError as exc:
        raise IndexUnavailableError(
            f"cannot move the damaged index {path} aside to {target}: {_one_line(exc)}; move or delete it yourself, "
            "then run `resolution-qa ingest`"
        ) from exc
    return target


#: SQLite's SQLITE_READONLY (code 8) as Chroma words it, and the OS's EROFS.
_READ_ONLY = re.compile(r"attempt to write a readonly database|read-only file system|\(code: 8\)", re.I)


def _read_only_error(exc: BaseException) -> bool:
    """Whether an error, or one it was raised from, says the store cannot be written."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if (isinstance(current, OSError) and current.errno == errno.EROFS) or _READ_ONLY.search(str(current)):
            return True
        current = current.__cause__ or current.__context__
    return False


def _from_store(exc: Exception) -> bool:
    if disk_full(exc) or _read_only_error(exc):
        return True
    module = type(exc).__module__ or ""
    if module.split(".")[0] in ("chromadb", "httpx", "httpcore", "chromadb_rust_bindings", "pyo3_runtime"):
        return True
    # chromadb reports a lost server as a plain ValueError ("Could not connect to a Chroma server").
    return isinstance(exc, (ConnectionError, TimeoutError)) or (isinstance(exc, ValueError) and "Chroma" in str(exc))


@contextmanager
def store_errors(settings: StoreSettings, doing: str) -> Iterator[None]:
    """Turn what Chroma raises while `doing` something into one clear IndexUnavailableError."""
    try:
        yield
    except ResolutionQAError:
        raise
    except Exception as exc:
        if not _from_store(exc):
            raise
        if disk_full(exc) or _low_disk(settings):  # not damage: `ingest --rebuild` would only fill the disk again
            raise IndexUnavailableError(_disk_full_message(settings, doing)) from exc
        if not settings.chroma_url and (_read_only_error(exc) or is_read_only(settings.index_dir)):
            raise IndexUnavailableError(read_only_message(settings.index_dir, doing)) from exc
        from chromadb.errors import ChromaError, InternalError

        refused = isinstance(exc, ChromaError) and not isinstance(exc, InternalError)  # a request, not the store
        if settings.chroma_url:
            if refused:
                raise IndexUnavailableError(
                    f"the Chroma server at {settings.chroma_url} refused {doing}: {_one_line(exc)}"
                ) from exc
            _, host, port, _ = _server_address(settings)
            raise IndexUnavailableError(
                f"the Chroma server at {settings.chroma_url} failed while {doing}: {_one_line(exc)}; check that it "
                f"runs (`chroma run --path FOLDER --host {host} --port {port}`), or unset RESOLUTION_QA_CHROMA_URL "
                "to use the embedded index"
            ) from exc
        if refused:
            raise IndexUnavailableError(
                f"the vector index at {settings.index_dir} refused {doing}: {_one_line(exc)}"
            ) from exc
        raise IndexCorruptedError(
            _corrupted(settings.index_dir, f"the vector index at {settings.index_dir} failed while {doing}", exc)
        ) from exc
