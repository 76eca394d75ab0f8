"""Fixtures shared by the whole suite: isolated settings, the bundled document, embedders."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from resolution_qa.core.settings import Settings
from resolution_qa.ingest import Document, parse_file
from tests.fakes import BagOfWordsEmbeddings, FakeRetriever, scripted

FIXTURES = Path(__file__).parent / "fixtures"

# The real models live where `resolution-qa models fetch` put them; the README's test command
# fetches them first. Captured once, before any test monkeypatches the environment.
_MODELS_DIR = Settings().models_dir


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test sees the user's RESOLUTION_QA_* variables, .env file or index."""
    for name in list(os.environ):
        if name.startswith("RESOLUTION_QA_") or name == "OPENAI_API_KEY":
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RESOLUTION_QA_MODELS_DIR", str(_MODELS_DIR))
    monkeypatch.setenv("RESOLUTION_QA_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("ANONYMIZED_TELEMETRY", "False")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.chdir(tmp_path)  # so no stray .env is read


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings on a temporary index, the real models folder, and the extractive backend."""
    return Settings(index_dir=tmp_path / "index", models_dir=_MODELS_DIR, backend="extractive")


@pytest.fixture(scope="session")
def document() -> Document:
    """The bundled A/RES/75/158, parsed."""
    return parse_file()


@pytest.fixture(scope="session")
def models_dir() -> Path:
    return _MODELS_DIR


# --- the assistant on fakes (used by the assistant and web tests) ---------------------------------------------

@pytest.fixture
def retriever(document: Document) -> FakeRetriever:
    return FakeRetriever(document)


@pytest.fixture
def make_assistant(settings: Settings, retriever: FakeRetriever):
    """Build an Assistant on the fake retriever with a scripted chat model (or extractive when none)."""
    from resolution_qa.assistant import Assistant

    def build(*replies: Any, settings_update: dict | None = None, **model_kwargs: Any) -> Assistant:
        s = settings.model_copy(update={"refusal_threshold": 0.05, **(settings_update or {})})
        if not replies:
            return Assistant(s, backend="extractive", retriever=retriever)
        return Assistant(s, backend="llamacpp", retriever=retriever, chat_model=scripted(*replies, **model_kwargs))

    return build


@pytest.fixture
def chroma_retriever(settings: Settings, document: Document):
    """The real UnitRetriever on a Chroma index in tmp_path, with the bag-of-words embedder."""
    from resolution_qa.vectorstore import open_retriever

    return open_retriever(settings, BagOfWordsEmbeddings(), documents=[document])


@pytest.fixture
def make_model():
    """A scripted chat model: make_model("reply 1", "reply 2", delay=..., fail_after=...)."""
    return scripted


@pytest.fixture(scope="session")
def real_settings(tmp_path_factory: pytest.TempPathFactory, models_dir) -> Settings:
    """Settings for the slow tests: the real models, an index of their own."""
    return Settings(index_dir=tmp_path_factory.mktemp("real-index"), models_dir=models_dir, backend="extractive")


@pytest.fixture(scope="session")
def real_retriever(real_settings: Settings):
    """The real UnitRetriever with EmbeddingGemma, built once per session (~30 s on 2 cores)."""
    from resolution_qa.vectorstore import open_retriever

    return open_retriever(real_settings)


@pytest.fixture(scope="session")
def bow_embeddings() -> BagOfWordsEmbeddings:
    """The bag-of-words embedder, for module- or session-scoped indexes."""
    return BagOfWordsEmbeddings()
