"""The Chroma client: the embedded store in a folder, or Chroma's own server when a URL is set."""

from __future__ import annotations

from urllib.parse import urlparse

from resolution_qa.errors import IndexUnavailableError
from resolution_qa.settings import Settings


def make_client(settings: Settings):  # -> chromadb.ClientAPI (chromadb is imported lazily: it is slow to import)
    """The Chroma client: a server when settings.chroma_url is set, else the embedded store in index_dir."""
    import chromadb

    client_settings = chromadb.config.Settings(anonymized_telemetry=False)
    try:
        if settings.chroma_url:
            url = urlparse(settings.chroma_url)
            if url.scheme not in ("http", "https") or not url.hostname:
                raise IndexUnavailableError(
                    f"RESOLUTION_QA_CHROMA_URL={settings.chroma_url!r} is not an http(s) URL; "
                    "use e.g. http://127.0.0.1:8000"
                )
            return chromadb.HttpClient(
                host=url.hostname,
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=client_settings,
            )
        settings.index_dir.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(settings.index_dir), settings=client_settings)
    except IndexUnavailableError:
        raise
    except Exception as exc:  # chromadb raises many types (ValueError, sqlite, rust bindings)
        where = settings.chroma_url or settings.index_dir
        raise IndexUnavailableError(
            f"cannot open the vector index at {where}: {exc}; check the path/URL, or delete the folder and "
            "run `resolution-qa ingest`"
        ) from exc
