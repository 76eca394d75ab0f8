"""`resolution-qa translate` and `resolution-qa show` in this process, with the fake model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support import run_cli_in_process

from .conftest import FakeGenerator


@pytest.fixture
def fake_model(monkeypatch: pytest.MonkeyPatch) -> FakeGenerator:
    from resolution_qa.cli import translate_cmd

    fake = FakeGenerator(lambda source, n: " " + source)
    monkeypatch.setattr(translate_cmd, "make_generator", lambda settings: fake)
    monkeypatch.setattr(translate_cmd, "_scorer", lambda settings: None)
    return fake


def test_translate_some_units_then_show_them(monkeypatch, capsys, tmp_path: Path, fake_model) -> None:
    out = tmp_path / "renderings.jsonl"
    report = tmp_path / "translation.md"
    code, stdout, stderr = run_cli_in_process(monkeypatch, capsys, "translate", "A/RES/75/158", "--units", "OP14,fn9",
                                              "--candidates", "1", "--out", str(out), "--report", str(report))
    assert code == 0, stderr
    assert "2 rendered, 0 kept" in stdout
    assert "flagged OP14" in stdout  # the fake echoes the French: French words are left
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == ["OP14", "fn9"]
    assert "## OP14" in report.read_text()
    code, stdout, _ = run_cli_in_process(monkeypatch, capsys, "translate", "A/RES/75/158", "--units", "OP14",
                                         "--out", str(out))
    assert "0 rendered, 1 kept" in stdout


def test_translate_unknown_symbol_or_unit_is_one_line(monkeypatch, capsys, tmp_path: Path, fake_model) -> None:
    code, _, stderr = run_cli_in_process(monkeypatch, capsys, "translate", "A/RES/1/1")
    assert code == 2 and stderr.startswith("error: no resolution A/RES/1/1") and len(stderr.splitlines()) == 1
    code, _, stderr = run_cli_in_process(monkeypatch, capsys, "translate", "--units", "OP999", "--out",
                                         str(tmp_path / "x.jsonl"))
    assert code == 2 and "no unit OP999" in stderr and len(stderr.splitlines()) == 1


def test_show_french_is_official(monkeypatch, capsys) -> None:
    code, stdout, _ = run_cli_in_process(monkeypatch, capsys, "show", "A/RES/75/158", "--format", "jsonl")
    rows = [json.loads(line) for line in stdout.splitlines()]
    assert code == 0
    assert rows[0]["id"] == "header"
    assert {r["status"] for r in rows} == {"official"}
    assert next(r for r in rows if r["id"] == "OP27")["label"] == "par. 27"


def test_show_english_says_unofficial(monkeypatch, capsys) -> None:
    from resolution_qa.translate.store import bundled_path

    code, stdout, stderr = run_cli_in_process(monkeypatch, capsys, "show", "A/RES/75/158", "--lang", "en")
    assert code == 0
    if bundled_path("A/RES/75/158", "en").is_file():
        assert "unofficial translation" in stdout
    else:
        assert "no en rendering yet" in stdout and "resolution-qa translate" in stderr
