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
