"""`resolution-qa parse` keeps its JSONL contract and fails with one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support import FIXTURES

pytestmark = pytest.mark.server  # the command in a subprocess


def test_parse_bundled_jsonl_contract(cli) -> None:
    result = cli("parse", "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 1 + 38 + 52 + 34
    assert all(set(r) == {"id", "kind", "number", "text", "footnotes", "source"} for r in rows)
    by_id = {r["id"]: r for r in rows}
    assert by_id["header"]["number"] is None and by_id["header"]["kind"] == "header"
    assert by_id["OP27"]["kind"] == "operative" and by_id["OP27"]["number"] == 27
    assert by_id["PP2"]["footnotes"][:2] == ["fn1", "fn2"]
    assert by_id["fn2"]["source"].startswith("Nations Unies, Recueil des Traités, vol. 2237")
    assert by_id["OP27"]["source"] is None
    assert [r["id"] for r in rows][:3] == ["header", "PP1", "PP2"]


def test_parse_english_fixture(cli) -> None:
    result = cli("parse", str(FIXTURES / "A_RES_75_999.en.txt"), "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    ids = [json.loads(line)["id"] for line in result.stdout.splitlines()]
    assert ids[:7] == ["header", "PP1", "PP2", "PP3", "OP1", "OP2", "OP3"]


def test_parse_bad_file_one_line_error(cli, tmp_path: Path) -> None:
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("Résolution adoptée".encode("latin-1"))
    result = cli("parse", str(bad), "--format", "jsonl")
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(bad) in lines[0] and "UTF-8" in lines[0]
    missing = cli("parse", str(tmp_path / "missing.txt"))
    assert missing.returncode == 2 and "file not found" in missing.stderr


def test_parse_a_folder_tags_each_unit_with_its_document(cli) -> None:
    result = cli("parse", str(FIXTURES / "corpus"), "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["doc"] for r in rows] == ["A/RES/75/901"] * 11 + ["A/RES/75/902"] * 11
    assert all(set(r) == {"doc", "id", "kind", "number", "text", "footnotes", "source"} for r in rows)


# --- resolutions as the UN publishes them: PDF and Word ---------------------------------------------------------


@pytest.fixture(scope="module")
def un_files(tmp_path_factory: pytest.TempPathFactory):
    """The bundled resolution as a UN-layout PDF and .docx, A/RES/75/904 as French and English PDFs."""
    from tests.ingest.un_layout import shared_files

    return shared_files(tmp_path_factory)


def test_parse_a_pdf_and_a_docx_prints_the_units_of_the_text(cli, un_files) -> None:
    expected = cli("parse", "--format", "jsonl")
    for path in (un_files.pdf, un_files.docx):
        result = cli("parse", str(path), "--format", "jsonl")
        assert result.returncode == 0 and result.stderr == "", result.stderr
        assert result.stdout == expected.stdout  # 125 rows: ids, texts, footnote links, sources


def test_parse_a_folder_picks_up_pdfs_one_per_language(cli, un_files) -> None:
    result = cli("parse", str(un_files.small_fr.parent), "--format", "json")
    assert result.returncode == 0, result.stderr
    docs = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(d["symbol"], d["lang"]) for d in docs] == [("A/RES/75/904", "en"), ("A/RES/75/904", "fr")]


def test_parse_a_bad_pdf_is_one_line(cli, un_files, tmp_path: Path) -> None:
    cut = tmp_path / "cut.pdf"
    cut.write_bytes(un_files.pdf.read_bytes()[:30000])
    result = cli("parse", str(cut))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        f"error: {cut}: is a PDF that looks truncated (no %%EOF end marker); download it again"]


def test_ingest_pdfs_then_search_finds_their_paragraphs(cli_main, model_loads, un_files) -> None:
    """Into the test's own index (tests/conftest.py), with the fake embedder: the French PDF of A/RES/75/158, and
    A/RES/75/904's French and English PDFs as one document with an English version."""
    code, out, err = cli_main("ingest", str(un_files.pdf), str(un_files.small_fr.parent), "--format", "json")
    assert code == 0, err
    report = json.loads(out)
    assert sorted(report["documents"]) == ["A/RES/75/158", "A/RES/75/904"] and report["added"] == 125 + 10
    code, out, err = cli_main("search", "traite des femmes et des filles victimes", "--doc", "A/RES/75/158",
                              "--format", "json")
    assert code == 0, err
    hits = json.loads(out)["results"]
    assert hits and all(h["id"] != "header" or "20-17349" not in h["text"] for h in hits)
    code, out, err = cli_main("search", "Que dit le paragraphe 2 ?", "--doc", "A/RES/75/904", "--format", "json")
    assert code == 0, err
    top = json.loads(out)["results"][0]  # an explicit reference comes first (cli/index_cmd.py)
    # the folder's files by name: the English PDF first, so it is the document and the French its version
    assert (top["doc"], top["id"]) == ("A/RES/75/904", "OP2") and "microfinance mechanisms" in top["text"]
