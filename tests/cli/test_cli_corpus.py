"""The command line over a corpus: `ingest DIR`, `documents`, `search --doc`, `ask --doc` (fake embedder in-process, real Chroma)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from resolution_qa.ingest import BUNDLED_PATH
from tests.support import CORPUS

SYMBOLS = ["A/RES/75/158", "A/RES/75/901", "A/RES/75/902"]


@pytest.fixture
def run(cli_main, model_loads):
    """The CLI entry point in-process on the fake embedder: (exit code, stdout, stderr)."""
    return cli_main


@pytest.fixture
def indexed(run) -> None:
    code, out, err = run("ingest", str(BUNDLED_PATH), str(CORPUS), "--format", "json")
    assert code == 0, err
    assert json.loads(out)["documents"] == SYMBOLS


def test_ingest_a_folder_then_list_the_documents(indexed, run) -> None:
    code, out, err = run("documents", "--format", "json")
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert [(r["symbol"], r["lang"], r["operative"]) for r in rows] == [
        ("A/RES/75/158", "fr", 52), ("A/RES/75/901", "en", 4), ("A/RES/75/902", "fr", 4)
    ]
    code, out, _ = run("documents")
    assert code == 0 and out.splitlines()[1].startswith("A/RES/75/901  (en) Protection of coral reefs")


def test_the_documents_setting_may_name_a_folder(run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESOLUTION_QA_DOCUMENTS", json.dumps([str(CORPUS)]))
    code, out, err = run("documents", "--format", "json")
    assert code == 0, err
    assert [json.loads(line)["symbol"] for line in out.splitlines()] == SYMBOLS[1:]


def test_ingest_an_empty_folder_is_a_one_line_error(run, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    code, out, err = run("ingest", str(tmp_path / "empty"))
    assert code == 2 and out == ""
    assert err.strip().splitlines() == [f"error: {tmp_path / 'empty'}: folder holds no .txt, .pdf or .docx resolution "
                                        "files; put the resolution's files in it or name the files"]


def test_search_with_a_document_filter(indexed, run) -> None:
    code, out, err = run("search", "par. 2", "--doc", "75/902", "--k", "2", "--format", "json")
    assert code == 0, err
    assert [(r["doc"], r["id"]) for r in json.loads(out)["results"]] == [("A/RES/75/902", "OP2"), ("A/RES/75/902", "fn3")]
    code, out, _ = run("search", "par. 2", "--k", "3")
    assert [line.split()[1] for line in out.splitlines()[:3]] == ["OP2"] * 3
    assert "A/RES/75/901, par. 2" in out or "A/RES/75/901, para. 2" in out
    code, out, err = run("search", "par. 2", "--doc", "A/RES/9/9")
    assert code == 2 and out == ""
    assert err.strip() == ("error: A/RES/9/9 is not in the index (indexed: A/RES/75/158, A/RES/75/901, A/RES/75/902); "
                           "pick one of those or ingest it first")


def test_ask_with_a_document_filter(indexed, run) -> None:
    code, out, err = run("ask", "Que dit le par. 2 ?", "--doc", "A/RES/75/902", "--backend", "extractive", "--format", "json")
    assert code == 0, err
    row = json.loads(out)
    assert [(c["doc"], c["id"], c["label"]) for c in row["citations"]] == [
        ("A/RES/75/902", "OP2", "A/RES/75/902, par. 2"), ("A/RES/75/902", "fn3", "A/RES/75/902, note 3")
    ]
    code, out, err = run("ask", "Que dit le par. 2 ?", "--doc", "75/1", "--backend", "extractive")
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "75/1 is not in the index (indexed: A/RES/75/158" in err
