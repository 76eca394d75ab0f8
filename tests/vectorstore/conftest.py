"""Fixtures for the vector store tests: a counting fake embedder, settings on a temporary index (embedded store
and a real Chroma server), the real embedder."""

from __future__ import annotations

import hashlib
import os
import re
import socket
import subprocess
import sys
import time
import unicodedata
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from langchain_core.embeddings import Embeddings

from resolution_qa.core.settings import Settings


class CountingEmbeddings(Embeddings):
    """A deterministic bag-of-words embedder that counts what it is asked to embed.

    Texts sharing words get similar vectors, so retrieval logic can be tested without a model.
    """

    def __init__(self, size: int = 64, model: str = "fake-bow") -> None:
        self.size = size
        self.model = model
        self.document_calls: list[list[str]] = []
        self.query_calls: list[str] = []

    @property
    def documents_embedded(self) -> int:
        return sum(len(batch) for batch in self.document_calls)

    def _vector(self, text: str) -> list[float]:
        vector = np.zeros(self.size)
        folded = unicodedata.normalize("NFKD", text.lower())
        for word in re.findall(r"\w{3,}", folded):
            bucket = int(hashlib.md5(word.encode()).hexdigest(), 16) % self.size
            vector[bucket] += 1.0
        norm = np.linalg.norm(vector)
        if norm == 0:
            vector[0] = 1.0
            norm = 1.0
        return (vector / norm).tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.document_calls.append(list(texts))
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        self.query_calls.append(text)
        return self._vector(text)


@pytest.fixture
def fake_embeddings() -> CountingEmbeddings:
    return CountingEmbeddings()


STORE_MODES = ["embedded", "server"]


@pytest.fixture(params=STORE_MODES)
def index_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings on a fresh temporary index, for tests with the fake embedder: once in the embedded store, once
    on the session's real Chroma server (a collection name of its own, so tests never see each other's data)."""
    if request.param == "server":
        url = request.getfixturevalue("chroma_server")
        return Settings(
            index_dir=tmp_path / "index", backend="extractive", chroma_url=url, collection=f"t{uuid.uuid4().hex[:16]}"
        )
    return Settings(index_dir=tmp_path / "index", backend="extractive")


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ChromaServer:
    """A real `chroma run` on a free loopback port, storing into `path`."""

    def __init__(self, path: Path, log: Path) -> None:
        self.path, self.log = path, log
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> ChromaServer:
        binary = Path(sys.executable).with_name("chroma")
        env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [str(binary), "run", "--path", str(self.path), "--host", "127.0.0.1", "--port", str(self.port)],
                stdout=out, stderr=subprocess.STDOUT, env=env,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if httpx.get(f"{self.url}/api/v2/heartbeat", timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        tail = self.log.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"`chroma run` did not answer on {self.url} within {timeout:.0f} s:\n{tail}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a real Chroma server (`chroma run`) shared by the session's server-mode tests."""
    folder = tmp_path_factory.mktemp("chroma-server")
    server = ChromaServer(folder / "data", folder / "server.log").start()
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def real_embeddings(models_dir: Path) -> Embeddings:
    """The fetched EmbeddingGemma, loaded once per session (slow tests only; never from a hub)."""
    from resolution_qa.core.settings import DEFAULT_EMBEDDING_MODEL
    from resolution_qa.vectorstore import load_embeddings

    # Built explicitly: session fixtures run before the per-test environment isolation.
    settings = Settings(_env_file=None, models_dir=models_dir, embedding_model=DEFAULT_EMBEDDING_MODEL)
    return load_embeddings(settings)
