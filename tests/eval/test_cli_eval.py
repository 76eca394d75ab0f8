"""`resolution-qa eval` as a user runs it: a retrieval-only run end to end, and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.server  # the command in a subprocess


def test_bm25_run_end_to_end_and_resume(cli, tiny_dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = ("eval", "--dataset", str(tiny_dataset), "--systems", "bm25", "--backend", "none", "--out", str(out))
    result = cli(*args)
    assert result.returncode == 0, result.stderr
    assert "retrieval bm25" in result.stdout
    for name in ("report.json", "report.md", "report.html", "predictions.jsonl", "run.json"):
        assert (out / name).is_file(), name
    lines = (out / "predictions.jsonl").read_text().splitlines()
    assert len(lines) == 4 and {json.loads(line)["system"] for line in lines} == {"bm25"}
    report = json.loads((out / "report.json").read_text())
    assert report["n_items"] == 4 and report["retrieval"]["bm25"]["overall"]["n"] == 3

    again = cli(*args)
    assert again.returncode == 2 and "pass --resume" in again.stderr and len(again.stderr.strip().splitlines()) == 1
    resumed = cli(*args, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert len((out / "predictions.jsonl").read_text().splitlines()) == 4


def test_bad_dataset_line_is_one_line_error_with_line_number(cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "lang": "fr"}\n', encoding="utf-8")
    result = cli("eval", "--dataset", str(bad), "--systems", "bm25", "--backend", "none", "--out", str(tmp_path / "o"))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {bad}:1: missing field")


def test_unknown_system_or_backend(cli, tiny_dataset: Path) -> None:
    result = cli("eval", "--dataset", str(tiny_dataset), "--systems", "ours,tfidf")
    assert result.returncode == 2 and "unknown system 'tfidf'" in result.stderr
    result = cli("eval", "--dataset", str(tiny_dataset), "--backend", "gpt5")
    assert result.returncode == 2 and "unknown backend 'gpt5'" in result.stderr
    result = cli("eval", "--dataset", str(tiny_dataset), "--systems", "none", "--backend", "none")
    assert result.returncode == 2 and "nothing to evaluate" in result.stderr
