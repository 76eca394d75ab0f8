"""`resolution-qa ingest` / `search`: JSON contracts, batch mode, one-line errors (fake embedder in-process; real model slow)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from resolution_qa.ingest import BUNDLED_PATH


@pytest.fixture
def loads(model_loads: list) -> list:
    """The embedding model replaced by the fake (tests/conftest.py); the list records each load."""
    return model_loads


@pytest.fixture
def run(cli_main, loads):
    """Run the CLI entry point in-process: (exit code, stdout, stderr)."""
    return cli_main


def test_ingest_twice_embeds_once(run) -> None:
    code, out, err = run("ingest", "--format", "json")
    assert code == 0, err
    first = json.loads(out)
    assert (first["added"], first["documents"]) == (125, ["A/RES/75/158"])
    code, out, _ = run("ingest")
    assert code == 0 and "0 added, 0 updated, 0 removed, 125 unchanged; 0 passages embedded" in out
    code, out, _ = run("ingest", "--rebuild", "--format", "json")
    assert json.loads(out)["rebuilt"] is True


def test_ingest_bad_file_is_a_one_line_error_and_keeps_the_index(run, tmp_path: Path, loads) -> None:
    assert run("ingest", str(BUNDLED_PATH))[0] == 0
    bad = tmp_path / "notes.txt"
    bad.write_text("rien à voir\n", encoding="utf-8")
    code, out, err = run("ingest", str(BUNDLED_PATH), str(bad))
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "notes.txt" in err and "General Assembly resolution" in err
    assert len(loads) == 1  # the bad file was found before any model was loaded
    code, out, _ = run("ingest", str(BUNDLED_PATH))
    assert "125 unchanged" in out  # the failed ingest changed nothing


def test_search_json_contract(run) -> None:
    code, out, err = run("search", "Que dit le paragraphe 27 ?", "--format", "json")
    assert code == 0, err
    results = json.loads(out)["results"]
    assert len(results) == 5 and all(set(r) == {"id", "score", "text"} for r in results)
    assert results[0]["id"] == "OP27" and results[0]["text"].startswith("Engage instamment les gouvernements")
    code, out, _ = run("search", "PP3", "--k", "2", "--format", "json")
    assert [r["id"] for r in json.loads(out)["results"]][:1] == ["PP3"] and len(json.loads(out)["results"]) == 2


def test_search_text_output_lists_ranked_and_linked_units(run) -> None:
    code, out, _ = run("search", "note 17", "--k", "1")
    lines = out.strip().splitlines()
    assert code == 0 and lines[0].split()[:2] == ["1.", "fn17"] and "referrer" in lines[1] and "OP1" in lines[1]


def test_search_batch_one_line_per_question_in_order_loading_once(run, tmp_path: Path, loads) -> None:
    batch = tmp_path / "questions.txt"
    batch.write_text("par. 27\nWhat does the third preambular paragraph say?\n\nparagraphe 99\nnote 17\n", encoding="utf-8")
    code, out, err = run("search", "--batch", str(batch), "--k", "3", "--format", "json")
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == 5
    assert [r["results"][0]["id"] if r["results"] else None for r in rows] == ["OP27", "PP3", None, None, "fn17"]
    assert all(len(r["results"]) == 3 for r in rows if r["results"])
    assert "empty" in rows[2]["error"] and "there is no paragraph 99" in rows[3]["error"]
    assert f"{batch}:4:" in err
    assert len(loads) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("search", "paragraphe 99", "--format", "json"), "A/RES/75/158 has 52 operative paragraphs; there is no paragraph 99"),
        (("search", "   "), "the question is empty"),
        (("search", "--batch", "missing.txt"), "missing.txt: file not found"),
    ],
)
def test_search_errors_are_one_line(run, args, message) -> None:
    code, out, err = run(*args)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]


def test_search_needs_a_question_or_a_batch(run) -> None:
    code, _, err = run("search")
    assert code == 2 and "QUESTION or --batch" in err


@pytest.mark.slow
@pytest.mark.server
def test_real_model_ingest_then_batch_search(cli, tmp_path: Path) -> None:
    """A fresh index of its own (RESOLUTION_QA_INDEX_DIR in tmp_path): the real model embeds every passage once."""
    first = cli("ingest", "--format", "json")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["embedded"] == 125
    again = cli("ingest", "--format", "json")
    assert json.loads(again.stdout)["embedded"] == 0
    batch = tmp_path / "q.txt"
    batch.write_text("A/RES/75/158, par. 27\nWhen was this resolution adopted?\nfn 17\n", encoding="utf-8")
    found = cli("search", "--batch", str(batch), "--format", "json")
    assert found.returncode == 0, found.stderr
    rows = [json.loads(line)["results"] for line in found.stdout.splitlines()]
    assert [r[0]["id"] for r in rows] == ["OP27", "header", "fn17"]
    assert all(len(r) == 5 and r[0]["score"] >= r[-1]["score"] for r in rows)
