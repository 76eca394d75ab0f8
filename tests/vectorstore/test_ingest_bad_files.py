"""Ingesting bad files into a real Chroma index (temporary path, fake embedder): refused in one line, index unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

from resolution_qa.core.errors import InputFileError
from resolution_qa.core.settings import Settings
from resolution_qa.ingest.parser import BUNDLED_PATH
from resolution_qa.vectorstore import UnitIndex, ingest
from tests.support import run_cli

BUNDLED = BUNDLED_PATH.read_bytes()
FIXTURE = Path(__file__).parents[1] / "fixtures" / "A_RES_75_999.en.txt"


def snapshot(settings: Settings, embeddings) -> tuple:
    """Everything a reader sees: build info, passage count, and every stored unit with its text."""
    index = UnitIndex(settings.store, settings.embedding, embeddings)
    units = sorted((d.symbol, u.id, u.text, u.source or "") for d in index.documents() for u in d.units)
    return index.info(), index.count(), units


def bad_files(tmp_path: Path) -> dict[str, Path]:
    made = {
        "empty": b"",
        "binary": bytes(range(256)) * 40,
        "latin-1": BUNDLED.decode().encode("latin-1", errors="replace"),
        "cut-mid-character": BUNDLED[: BUNDLED.index("é".encode()) + 1],
        "no-paragraph": b"75/1. Title\n\nThe General Assembly,\n",
        "pdf": b"%PDF-1.4\n",
    }
    paths = {}
    for name, content in made.items():
        paths[name] = tmp_path / f"{name}.txt"
        paths[name].write_bytes(content)
    big = tmp_path / "50mb.txt"
    with big.open("wb") as f:
        f.truncate(50_000_000)  # sparse: the size check must refuse it before reading a byte
    paths["50mb"] = big
    return paths


@pytest.fixture
def indexed(index_settings: Settings, fake_embeddings) -> tuple:
    ingest(index_settings, fake_embeddings, paths=[FIXTURE])
    return snapshot(index_settings, fake_embeddings)


@pytest.mark.parametrize("name", ["empty", "binary", "latin-1", "cut-mid-character", "no-paragraph", "pdf", "50mb"])
def test_a_bad_file_leaves_the_index_as_it_was(name: str, tmp_path: Path, index_settings: Settings, fake_embeddings,
                                               indexed: tuple) -> None:
    before_embedded = fake_embeddings.documents_embedded
    path = bad_files(tmp_path)[name]
    with pytest.raises(InputFileError) as info:
        ingest(index_settings, fake_embeddings, paths=[FIXTURE, path])  # the good file too: all or nothing
    assert "\n" not in str(info.value) and str(path) in str(info.value)
    assert fake_embeddings.documents_embedded == before_embedded  # refused before anything was embedded
    assert snapshot(index_settings, fake_embeddings) == indexed


def test_duplicates_and_missing_footnotes_are_indexed_whole(tmp_path: Path, index_settings: Settings,
                                                             fake_embeddings) -> None:
    """Warn and go on: every paragraph, the repeated ones included, is in the index with its text."""
    path = tmp_path / "dup.txt"
    path.write_text("75/1. Titre\n\nL'Assemblée générale,\n\nRappelant ses résolutions¹,\n\n"
                    "1. *Décide* de rester saisie² ;\n\n1. *Prie* le Secrétaire général ;\n\n"
                    "1. *Invite* les États ;\n\n¹ Résolution 70/1.\n", encoding="utf-8")
    ingest(index_settings, fake_embeddings, paths=[path])
    _, _, units = snapshot(index_settings, fake_embeddings)
    assert [(uid, text) for _, uid, text, _ in units if uid.startswith("OP")] == [
        ("OP1", "Décide de rester saisie ;"), ("OP1b", "Prie le Secrétaire général ;"), ("OP1c", "Invite les États ;")]


@pytest.mark.server
def test_cli_ingest_of_a_bad_file_is_one_line_and_loads_no_model(tmp_path: Path) -> None:
    """`resolution-qa ingest` parses every file before the embedding model loads (a real subprocess)."""
    paths = bad_files(tmp_path)
    for name in ("binary", "50mb"):
        result = run_cli("ingest", str(paths[name]), timeout=120)
        assert result.returncode == 2, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and str(paths[name]) in lines[0], result.stderr
        assert "Traceback" not in result.stderr


@pytest.mark.server
def test_cli_ingest_warns_about_duplicates(tmp_path: Path) -> None:
    path = tmp_path / "dup.txt"
    path.write_text("75/1. Titre\n\nL'Assemblée générale,\n\nRappelant,\n\n1. *Décide* A ;\n\n1. *Prie* B ;\n",
                    encoding="utf-8")
    # An empty models folder: the warning comes out before the (missing) model is asked for.
    result = run_cli("ingest", str(path), timeout=120, env={**_env(tmp_path)})
    assert f"warning: {path}: paragraph OP1 appears twice; the second one is kept as OP1b" in result.stderr
    assert result.returncode == 2 and "resolution-qa models fetch" in result.stderr.splitlines()[-1]


def _env(tmp_path: Path) -> dict[str, str]:
    import os

    return {**os.environ, "RESOLUTION_QA_MODELS_DIR": str(tmp_path / "no-models"),
            "RESOLUTION_QA_INDEX_DIR": str(tmp_path / "index")}
