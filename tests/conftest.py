"""Fixtures shared by the whole suite: isolated settings, the bundled document, embedders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ingest import Document, parse_file
from resolution_qa.settings import Settings

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
