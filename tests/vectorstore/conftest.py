"""Fixtures for the vector store tests: a counting fake embedder, settings on a temporary index, the real embedder."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from langchain_core.embeddings import Embeddings

from resolution_qa.settings import Settings


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


@pytest.fixture
def index_settings(tmp_path: Path) -> Settings:
    """Settings on a fresh temporary index, for tests with the fake embedder."""
    return Settings(index_dir=tmp_path / "index", backend="extractive")


@pytest.fixture(scope="session")
def real_embeddings(models_dir: Path) -> Embeddings:
    """The fetched EmbeddingGemma, loaded once per session (slow tests only; never from a hub)."""
    from resolution_qa.settings import DEFAULT_EMBEDDING_MODEL
    from vectorstore import load_embeddings

    # Built explicitly: session fixtures run before the per-test environment isolation.
    settings = Settings(_env_file=None, models_dir=models_dir, embedding_model=DEFAULT_EMBEDDING_MODEL)
    return load_embeddings(settings)
