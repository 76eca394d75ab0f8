"""Fixtures of the vector store tests: the counting fake embedder, settings on a temporary index (the embedded
store, and a real Chroma server), the session's Chroma server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from resolution_qa.core.settings import Settings
from tests.fakes import BagOfWordsEmbeddings
from tests.support import ChromaServer, isolated_settings


@pytest.fixture
def fake_embeddings() -> BagOfWordsEmbeddings:
    return BagOfWordsEmbeddings.small()


@pytest.fixture(params=["embedded", pytest.param("server", marks=pytest.mark.server)])
def index_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings on a fresh temporary index, for tests with the fake embedder: once in the embedded store, once
    on the session's real Chroma server (a collection name of its own, so tests never see each other's data;
    those runs are marked server)."""
    if request.param == "server":
        url = request.getfixturevalue("chroma_server")
        return Settings(
            index_dir=tmp_path / "index", backend="extractive", chroma_url=url, collection=f"t{uuid.uuid4().hex[:16]}"
        )
    return Settings(index_dir=tmp_path / "index", backend="extractive")


@pytest.fixture(scope="module", params=["embedded", pytest.param("server", marks=pytest.mark.server)])
def module_index_settings(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """As index_settings, but one per test module and mode: for a read-only index a module builds once."""
    folder = tmp_path_factory.mktemp("module-index")
    if request.param == "server":
        url = request.getfixturevalue("chroma_server")
        return isolated_settings(index_dir=folder / "index", backend="extractive", chroma_url=url,
                                 collection=f"t{uuid.uuid4().hex[:16]}")
    return isolated_settings(index_dir=folder / "index", backend="extractive")


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a real Chroma server (`chroma run`) shared by the session's server-mode tests."""
    folder = tmp_path_factory.mktemp("chroma-server")
    server = ChromaServer(folder / "data", folder / "server.log").start()
    yield server.url
    server.stop()
