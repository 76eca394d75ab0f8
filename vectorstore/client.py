"""The Chroma client: the embedded store in a folder, or Chroma's own server when a URL is set."""

from __future__ import annotations

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


def _embedded_client(settings: StoreSettings) -> ClientAPI:
    import chromadb

    path = settings.index_dir
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise IndexUnavailableError(
            f"cannot open the vector index at {path}: {_one_line(exc)}; set RESOLUTION_QA_INDEX_DIR to a folder "
            "you can write"
        ) from exc
    try:
        return chromadb.PersistentClient(path=str(path), settings=_telemetry_off())
    except Exception as exc:  # sqlite "file is not a database", "malformed", rust bindings errors
        forget(path)
        raise IndexCorruptedError(_corrupted(path, f"cannot open the vector index at {path}", exc)) from exc


def _corrupted(path: Path, what: str, exc: BaseException) -> str:
    return (
        f"{what}: {_one_line(exc)}; the folder looks damaged: run `resolution-qa ingest --rebuild` "
        "(it moves the folder aside, deleting nothing, and builds a new index)"
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


def _from_store(exc: Exception) -> bool:
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
