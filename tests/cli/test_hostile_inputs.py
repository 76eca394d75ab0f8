"""Issue 13, hostile files and clients, one case per attack, through the command line in this process (fake
embedder): each gets one line on stderr and no traceback, and the index is as it was.

The web attacks (login guessing, fresh sessions to dodge the question limit) are in tests/web/test_security.py,
the two-process ingest race in tests/vectorstore/test_ingest_lock.py, a truncated GGUF in
tests/core/test_model_files.py; what was tried and measured: reports/reliability.md.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from resolution_qa.cli import ask_cmd
from resolution_qa.core.settings import Settings
from resolution_qa.ingest import BUNDLED_PATH, parse_text
from resolution_qa.ingest.parser import clean
from resolution_qa.vectorstore.index import UnitIndex
from resolution_qa.vectorstore.links import marker_context
from resolution_qa.vectorstore.sync import GenerationWriter, Sync
from tests.fakes import BagOfWordsEmbeddings, StreamingRecordingAssistant

TEXT = BUNDLED_PATH.read_text(encoding="utf-8")
HEAD = TEXT[: TEXT.index("L'Assemblée générale,")] + "L'Assemblée générale,\n\n"
Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run(cli_main: Run, model_loads: list) -> Run:
    return cli_main


def one_line(code: int, out: str, err: str, *expected: str) -> str:
    """The error: exit 2, one line on stderr (after any warnings), no traceback."""
    assert code == 2, (code, out, err)
    assert "Traceback" not in err + out
    lines = [line for line in err.strip().splitlines() if not line.startswith("warning: ")]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    for text in expected:
        assert text in lines[0], lines[0]
    return lines[0]


def state() -> tuple:
    """What readers of the test's index see: generation, info, count, and every unit's text."""
    settings = Settings()
    index = UnitIndex(settings.store, settings.embedding, BagOfWordsEmbeddings.small())
    units = sorted((d.symbol, u.id, u.text) for d in index.documents() for u in d.units)
    return index.generation, index.info(), index.count(), units


@pytest.fixture
def indexed(run: Run) -> tuple:
    code, _, err = run("ingest", str(BUNDLED_PATH))
    assert code == 0, err
    return state()


@pytest.fixture
def revised(tmp_path: Path) -> Path:
    path = tmp_path / "revised.txt"
    path.write_text(TEXT.replace("75/158. Traite", "75/906. Traite"), encoding="utf-8")
    return path


# --- 1. parsing time in hostile markup ----------------------------------------------------------------------


def _best_of(repeats: int, action: Callable[[], object]) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return min(times)


@pytest.mark.parametrize("unit", ["[", "^{", "[a](", "](", "^{{", "¹"], ids=["brackets", "carets", "open-links",
                                                                       "close-open", "brace-carets", "superscripts"])
def test_a_60k_paragraph_of_markup_parses_as_fast_as_a_normal_one(unit: str) -> None:
    """Was: 60,000 "[" took 30 s (3.5 s at 20k, 13 s at 40k: quadratic); now within a few times a normal
    paragraph of the same length. A ratio, so a loaded machine does not fail it."""
    size = 60_000
    hostile = HEAD + "1. Décide " + unit * (size // len(unit)) + " fin.\n"
    normal = HEAD + "1. Décide " + "mot " * (size // 4) + " fin.\n"
    assert abs(len(hostile) - len(normal)) < 10
    base = _best_of(3, lambda: parse_text(normal))
    slow = _best_of(3, lambda: parse_text(hostile))
    assert slow < 5 * base + 0.02, f"{unit!r}: {slow:.3f} s against {base:.3f} s for a normal paragraph"
    raw = unit * (size // len(unit))
    assert _best_of(3, lambda: clean(raw)) < 5 * _best_of(3, lambda: clean("mot " * (size // 4))) + 0.02


def test_footnote_context_in_hostile_markup_is_linear() -> None:
    """vectorstore/links.py strips links with the parser's own (linear) pattern; its copy took 29 s here."""
    hostile = parse_text(HEAD + "1. Décide " + "[" * 60_000 + " fin¹.\n\n¹ Note.\n")
    normal = parse_text(HEAD + "1. Décide " + "mot " * 15_000 + " fin¹.\n\n¹ Note.\n")
    unit, words = marker_context(hostile.get("fn1"), hostile)
    assert unit is not None and unit.id == "OP1" and words.endswith("fin")
    base = _best_of(3, lambda: marker_context(normal.get("fn1"), normal))
    assert _best_of(3, lambda: marker_context(hostile.get("fn1"), hostile)) < 5 * base + 0.02


# --- 2. files and text that used to print a traceback or hang ----------------------------------------------


def _fifo(tmp_path: Path) -> Path:
    path = tmp_path / "fifo.txt"
    os.mkfifo(path)
    return path


def _loop(tmp_path: Path) -> Path:
    (tmp_path / "loop-a.txt").symlink_to(tmp_path / "loop-b.txt")
    (tmp_path / "loop-b.txt").symlink_to(tmp_path / "loop-a.txt")
    return tmp_path / "loop-a.txt"


def _loop_in_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "a.txt").write_text(TEXT, encoding="utf-8")
    (folder / "b.txt").symlink_to(folder / "b.txt")
    return folder


def _utf16(tmp_path: Path) -> Path:
    path = tmp_path / "utf16.txt"
    path.write_bytes(TEXT.encode("utf-16"))
    return path


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda _: Path("/dev/zero"), "/dev/zero: is a device, not a regular file"),
        (_fifo, "is a named pipe (FIFO), not a regular file"),
        (_loop, "is a symbolic link loop"),
        (_loop_in_folder, "b.txt: is a symbolic link loop"),
        (_utf16, "is UTF-16 text; save it as UTF-8"),
    ],
    ids=["dev-zero", "fifo", "symlink-loop", "loop-in-a-folder", "utf-16"],
)
@pytest.mark.parametrize("command", ["parse", "ingest"])
def test_a_file_that_is_not_a_resolution_text_is_one_line(run: Run, indexed: tuple, model_loads: list,
                                                          tmp_path: Path, command: str, make, expected: str) -> None:
    """Was: /dev/zero read until memory ran out (MemoryError), a FIFO hung forever, a link loop raised
    RuntimeError from Path.resolve(), UTF-16 was called "binary (contains NUL bytes)"."""
    path = make(tmp_path)
    loaded = len(model_loads)
    started = time.perf_counter()
    one_line(*run(command, str(path)), expected)
    # A hang guard only (what failed was a FIFO read forever, /dev/zero until memory ran out): generous for a loaded machine.
    assert time.perf_counter() - started < 60
    assert len(model_loads) == loaded  # refused before any model loads
    assert state() == indexed


def test_a_batch_line_nested_100000_deep_is_one_bad_line(run: Run, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Was: RecursionError traceback (the line's id was read outside the per-line handler), the batch lost."""
    monkeypatch.setattr(ask_cmd, "build_assistant", StreamingRecordingAssistant)
    batch = tmp_path / "deep.jsonl"
    batch.write_text("[" * 100_000 + "]" * 100_000 + "\n" + json.dumps({"id": "ok", "turns": ["par. 27 ?"]}) + "\n",
                     encoding="utf-8")
    code, out, err = run("ask", "--batch", str(batch), "--format", "json")
    assert code == 0 and "Traceback" not in err
    bad, good = (json.loads(line) for line in out.splitlines())
    assert bad == {"line": 1, "error": "not valid JSON for this program (nested too deeply)"}
    assert good["id"] == "ok" and good["answer"] == "par. 27 ? #1"


def test_a_batch_file_with_a_byte_order_mark_keeps_its_first_line(run: Run, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Was: {"line": 1, "error": "not JSON (Unexpected UTF-8 BOM ...)"}."""
    monkeypatch.setattr(ask_cmd, "build_assistant", StreamingRecordingAssistant)
    batch = tmp_path / "bom.jsonl"
    batch.write_bytes(b"\xef\xbb\xbf" + json.dumps({"id": "first", "turns": ["par. 27 ?"]}).encode() + b"\n")
    code, out, err = run("ask", "--batch", str(batch), "--format", "json")
    assert code == 0 and json.loads(out)["id"] == "first" and "error" not in json.loads(out)


@pytest.mark.parametrize("command", ["ask", "search"])
def test_a_question_with_bytes_that_are_not_utf8_is_one_line(run: Run, indexed: tuple, command: str,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Was: TypeError from the tokenizer (Python hands such argv bytes over as lone surrogates)."""
    built: list[object] = []
    monkeypatch.setattr(ask_cmd, "build_assistant", lambda s: built.append(s) or StreamingRecordingAssistant(s))
    question = b"paragraphe 27 \xff".decode("utf-8", "surrogateescape")
    one_line(*run(command, question), "the question is not valid UTF-8 (byte 0xFF at character 15)")
    assert built == []  # refused before the assistant (and its models) were built
    assert state() == indexed


# --- 6. a damaged store, a full disk -------------------------------------------------------------------------


def test_an_emptied_catalogue_is_reported_never_rebuilt_in_silence(run: Run, indexed: tuple, model_loads: list) -> None:
    """Was: `search` rebuilt the index from the bundled resolution without a word (115 s with the real model);
    a corpus index would have come back holding one resolution."""
    folder = Settings().index_dir
    catalogue = folder / "chroma.sqlite3"
    catalogue.write_bytes(b"")
    listing, loaded = sorted(p.name for p in folder.iterdir()), len(model_loads)
    for args in (("search", "paragraphe 27"), ("ingest", str(BUNDLED_PATH)), ("documents",)):
        one_line(*run(*args), "chroma.sqlite3 is empty (0 bytes)", "run `resolution-qa ingest --rebuild`")
        assert catalogue.stat().st_size == 0 and sorted(p.name for p in folder.iterdir()) == listing
    assert len(model_loads) == loaded  # said before the embedding model loads (it took 13 s with the real one)
    code, out, err = run("ingest", "--rebuild")
    assert code == 0 and "the damaged folder was moved to" in out, err
    [kept] = folder.parent.glob("index.broken-*")
    assert (kept / "chroma.sqlite3").stat().st_size == 0  # nothing deleted
    assert state()[2:] == indexed[2:]


def test_a_full_disk_is_named_not_taken_for_damage(run: Run, indexed: tuple, revised: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Was: "(code: 13) database or disk is full; the folder looks damaged: run `resolution-qa ingest --rebuild`"
    (after 182 s of embedding with the real model); --rebuild would only fill the disk again."""

    def full(*_: object, **__: object) -> None:
        raise RuntimeError("Query error: Database error: error returned from database: (code: 13) database or disk "
                           "is full")

    monkeypatch.setattr(GenerationWriter, "_write_batch", full)
    line = one_line(*run("ingest", str(revised)), "is full (while writing a new index generation, ", "MB free); free")
    assert "damaged" not in line and "--rebuild" not in line
    assert state() == indexed


def test_a_write_failing_on_a_nearly_full_disk_is_put_down_to_the_disk(run: Run, indexed: tuple, revised: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A real full disk (a 5.8 MB tmpfs) made Chroma say only "Error in compaction: Failed to apply logs to the
    metadata segment", which was reported as damage; with under 16 MB free it is named as the disk being full."""
    from chromadb.errors import InternalError

    from resolution_qa.vectorstore import client

    def compaction(*_: object, **__: object) -> None:
        raise InternalError("Error in compaction: Failed to apply logs to the metadata segment")

    monkeypatch.setattr(GenerationWriter, "_write_batch", compaction)
    monkeypatch.setattr(client.shutil, "disk_usage", lambda _: shutil._ntuple_diskusage(10**9, 10**9 - 10**6, 10**6))
    monkeypatch.setattr(Sync, "_check_space", lambda *_: None)  # the write itself is what fails here
    line = one_line(*run("ingest", str(revised)), "is full (while writing a new index generation, 1.0 MB free)")
    assert "damaged" not in line
    assert state() == indexed


def test_too_little_free_space_is_refused_before_embedding(run: Run, indexed: tuple, revised: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "disk_usage", lambda _: shutil._ntuple_diskusage(10**9, 10**9 - 300_000, 300_000))
    monkeypatch.setattr(Sync, "_embed", lambda *_: pytest.fail("embedded for minutes before finding the disk full"))
    one_line(*run("ingest", str(revised)), "has too little space: 0.3 MB free, and this ingest writes at least")
    assert state() == indexed


def test_an_os_level_disk_full_error_is_named_too(run: Run, indexed: tuple, revised: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    def full(*_: object, **__: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(GenerationWriter, "_write_batch", full)
    one_line(*run("ingest", str(revised)), "is full")
    assert state() == indexed


# --- 7. weak messages ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("paragraphe -1", "has 52 operative paragraphs; there is no paragraph -1"),
        ("paragraphe 99999999999", "has 52 operative paragraphs; there is no paragraph 99999999999"),
        ("note 1234", "has 34 footnotes; there is no footnote 1234"),
        ("par. 3 de la résolution 75/999", "A/RES/75/999 is not in the index (indexed: A/RES/75/158)"),
    ],
    ids=["minus-one", "eleven-digits", "four-digit-note", "unindexed-resolution"],
)
def test_references_to_what_is_not_there_are_named(run: Run, indexed: tuple, question: str, expected: str) -> None:
    """Was: "paragraphe -1" answered par. 1, "paragraphe 99999999999" cited fn28/OP33, and "par. 3 de la
    résolution 75/999" quoted footnotes of 75/158."""
    one_line(*run("search", question), expected)
    assert state() == indexed


def test_paragraph_numbers_0_and_999_are_warned_about(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "numbers.txt"
    path.write_text(HEAD + "Rappelant,\n\n0. Décide de zéro ;\n\n1. Décide de un ;\n\n999. Décide enfin.\n\n"
                    "*46^e séance plénière*\n", encoding="utf-8")
    code, out, err = run("parse", str(path))
    assert code == 0 and "OP999" in out
    assert "a paragraph is numbered 0; operative paragraphs are numbered from 1" in err
    assert "paragraph 999 follows paragraph 1; paragraphs may be missing" in err


def test_20000_paragraphs_print_a_few_warnings_and_a_count(run: Run, tmp_path: Path) -> None:
    """Was: 19,001 warning lines."""
    path = tmp_path / "many.txt"
    body = "".join(f"{i % 999 + 1}. Décide du point {i} ;\n\n" for i in range(20_000))
    path.write_text(HEAD + "Rappelant,\n\n" + body + "*46^e séance plénière*\n", encoding="utf-8")
    code, out, err = run("parse", str(path), "--format", "jsonl")
    assert code == 0 and len(out.splitlines()) == 1 + 1 + 20_000
    lines = err.strip().splitlines()
    assert len(lines) == 11 and all(line.startswith("warning: ") for line in lines)
    assert lines[-1] == "warning: ... and 19,011 more warnings like these"


def test_a_second_ingest_says_another_is_running_before_loading_a_model(run: Run, indexed: tuple, revised: Path,
                                                                       model_loads: list) -> None:
    """Was: the second of two ingests embedded for minutes, then failed with "Collection [uuid] does not exist"
    or "another ingest changed the index while this one ran" (the real two-process race is in
    tests/vectorstore/test_ingest_lock.py)."""
    import socket

    settings = Settings()
    index = UnitIndex(settings.store, settings.embedding, BagOfWordsEmbeddings.small())
    now = time.time()
    index.client.create_collection(f"{settings.collection}-ingest-lock", embedding_function=None, metadata={
        "token": "other", "host": socket.gethostname(), "pid": os.getppid(), "since": now, "expires": now + 120})
    loaded = len(model_loads)
    one_line(*run("ingest", str(revised)), "another ingest is running on the index at",
             f"(process {os.getppid()} on {socket.gethostname()}, since ", "nothing was changed")
    assert len(model_loads) == loaded
    assert state() == indexed
