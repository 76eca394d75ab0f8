"""core/inputs.py: the one way a user's file is read (type, size, encoding) and a user's text checked; one line each."""

from __future__ import annotations

import errno
import os
import threading
import time
from pathlib import Path

import pytest

from resolution_qa.core.errors import DatasetError, InputFileError
from resolution_qa.core.inputs import (
    BATCH,
    MAX_INPUT_BYTES,
    RESOLUTION,
    InputKind,
    UndecodableTextError,
    check_text,
    json_line,
    read_bytes,
    read_document,
    read_text,
)

TEXT = "75/1. Titre\n\nL'Assemblée générale,\n\n1. Décide.\n"


def refused(path: Path | str, kind: InputKind = RESOLUTION) -> str:
    """The one-line message reading `path` fails with, within 5 s (a FIFO or /dev/zero must never block)."""
    outcome: list[BaseException | str] = []

    def read() -> None:
        try:
            read_text(path, kind)
            outcome.append("read")
        except BaseException as exc:  # noqa: BLE001 - the test names what it got
            outcome.append(exc)

    worker = threading.Thread(target=read, daemon=True)
    worker.start()
    worker.join(timeout=5)
    assert not worker.is_alive(), f"reading {path} blocked"
    [error] = outcome
    assert isinstance(error, kind.error), error
    message = str(error)
    assert "\n" not in message and str(path) in message
    return message


def test_utf8_with_or_without_a_byte_order_mark(tmp_path: Path) -> None:
    plain, bom = tmp_path / "plain.txt", tmp_path / "bom.txt"
    plain.write_text(TEXT, encoding="utf-8")
    bom.write_bytes(b"\xef\xbb\xbf" + TEXT.encode())
    assert read_text(plain) == read_text(bom) == TEXT


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "f.txt"
    os.mkfifo(fifo)
    assert "is a named pipe (FIFO), not a regular file" in refused(fifo)


def test_a_device_is_refused_without_reading_it() -> None:
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero here")
    started = time.perf_counter()
    assert "is a device, not a regular file" in refused("/dev/zero")
    assert time.perf_counter() - started < 1  # was: read until memory ran out (MemoryError)


def test_a_folder_a_missing_file_a_broken_link_and_a_link_loop(tmp_path: Path) -> None:
    assert "is a folder" in refused(tmp_path)
    assert "file not found" in refused(tmp_path / "nope.txt")
    (tmp_path / "dangling").symlink_to(tmp_path / "gone.txt")
    assert "broken symbolic link" in refused(tmp_path / "dangling")
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    assert "symbolic link loop" in refused(tmp_path / "a")
    (tmp_path / "plain.txt").write_text(TEXT, encoding="utf-8")
    assert "a part of the path is a file" in refused(tmp_path / "plain.txt" / "x")


def test_an_unreadable_file_is_named_as_such(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "secret.txt"
    path.write_text(TEXT, encoding="utf-8")
    real_open = os.open

    def denied(file: object, *args: object, **kwargs: object) -> int:
        if Path(str(file)) == path:
            raise PermissionError(errno.EACCES, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", denied)  # the tests run as root, where chmod 000 still reads
    assert "permission denied" in refused(path)


def test_the_size_limit_is_checked_before_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    huge = tmp_path / "huge.txt"
    with huge.open("wb") as f:
        f.truncate(MAX_INPUT_BYTES + 1)  # sparse: nothing written
    monkeypatch.setattr(os, "read", lambda *_: pytest.fail("read a file over the limit"))
    message = refused(huge)
    assert "too large for one resolution (limit 5 MB)" in message


def test_a_file_bigger_than_it_says_stops_at_the_limit() -> None:
    environ = Path("/proc/self/environ")
    if not environ.exists() or environ.stat().st_size != 0:
        pytest.skip("needs a /proc file that reports 0 bytes")
    small = InputKind(one="a test file", fix="-", too_large="-", limit=8)
    with pytest.raises(InputFileError, match="more than 8e-06 MB is too large"):
        read_bytes(environ, small)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (TEXT.encode("utf-16"), "is UTF-16 text; save it as UTF-8"),
        (TEXT.encode("utf-16-le"), "is UTF-16 text; save it as UTF-8"),  # no byte-order mark
        (TEXT.encode("utf-16-be"), "is UTF-16 text; save it as UTF-8"),
        (TEXT.encode("utf-32"), "is UTF-32 text; save it as UTF-8"),
        (b"%PDF-1.7\n", "is a PDF file, not text"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "is a PNG image file, not text"),
        (b"\x7fELF\x02\x01\x01" + bytes(100), "is a program (ELF) file, not text"),
        (b"GGUF\x03\x00\x00\x00" + bytes(40), "is a GGUF model file, not text"),
        (TEXT.encode() + b"\x00" + TEXT.encode(), "looks binary (contains NUL bytes)"),
        (bytes(range(1, 32)) * 50, "looks binary (control characters)"),
        ("Décidé".encode("latin-1"), "not valid UTF-8 (byte 1)"),
        ("Décidé".encode()[:-1], "ends in the middle of a UTF-8 character"),
        (b" \n\t ", "file is empty"),
    ],
    ids=["utf16-bom", "utf16le", "utf16be", "utf32", "pdf", "png", "elf", "gguf", "nul", "controls", "latin1",
         "cut", "blank"],
)
def test_encodings_and_binaries_are_named(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "input.txt"
    path.write_bytes(content)
    assert expected in refused(path)


def test_each_kind_words_its_own_messages(tmp_path: Path) -> None:
    kind = InputKind(one="a question set", fix="give JSONL", too_large="split it", error=DatasetError,
                     missing="dataset file not found", empty="no items", limit=10)
    assert refused(tmp_path / "x.jsonl", kind).endswith("dataset file not found")
    (tmp_path / "e.jsonl").write_text("\n\n")
    assert refused(tmp_path / "e.jsonl", kind).endswith("no items")
    (tmp_path / "big.jsonl").write_text("x" * 11)
    assert "too large for a question set" in refused(tmp_path / "big.jsonl", kind)
    (tmp_path / "b.jsonl").write_text("ok\n")
    assert read_text(tmp_path / "b.jsonl", BATCH) == "ok\n"


def test_undecodable_command_line_bytes_are_named() -> None:
    question = b"paragraphe 27 \xff".decode("utf-8", "surrogateescape")  # what Python makes of sys.argv
    with pytest.raises(UndecodableTextError) as info:
        check_text(question)
    assert str(info.value).startswith("the question is not valid UTF-8 (byte 0xFF at character 15)")
    with pytest.raises(UndecodableTextError, match="unpaired surrogate"):
        check_text("par. 27 \ud800")
    assert check_text("Que dit le par. 27 ? 😀") == "Que dit le par. 27 ? 😀"


def test_a_deeply_nested_json_line_is_a_bad_line_not_a_crash() -> None:
    started = time.perf_counter()
    with pytest.raises(ValueError, match="nested too deeply"):
        json_line("[" * 100_000 + "]" * 100_000)
    assert time.perf_counter() - started < 2
    with pytest.raises(ValueError, match=r"not valid JSON \(Expecting"):
        json_line("{oops")
    assert json_line('{"turns": ["q"]}') == {"turns": ["q"]}


# --- resolution files in the formats the UN publishes (read_document) ----------------------------------------------


@pytest.mark.parametrize(
    ("content", "format"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "pdf"),
        (b"\xef\xbb\xbf  %PDF-1.4\n", "pdf"),  # a few bytes before the header, as PDF readers accept
        (b"PK\x03\x04\x14\x00\x06\x00", "docx"),  # any zip: ingest/word.py checks it is a .docx
        (TEXT.encode(), "text"),
    ],
    ids=["pdf", "pdf-after-junk", "zip", "text"],
)
def test_read_document_names_the_format_from_the_first_bytes(tmp_path: Path, content: bytes, format: str) -> None:
    path = tmp_path / "resolution.txt"  # the name does not decide
    path.write_bytes(content)
    document = read_document(path)
    assert (document.format, document.data) == (format, content)
    assert document.text == (TEXT if format == "text" else "")


def test_read_document_keeps_every_other_check(tmp_path: Path) -> None:
    old = tmp_path / "old.doc"
    old.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
    with pytest.raises(InputFileError, match=r"old.doc: is an old Word \(.doc\) file; save it as .docx or PDF"):
        read_document(old)
    big = tmp_path / "big.pdf"
    with big.open("wb") as f:
        f.write(b"%PDF-1.7\n")
        f.truncate(MAX_INPUT_BYTES + 1)
    with pytest.raises(InputFileError, match="too large for one resolution"):
        read_document(big)
    image = tmp_path / "scan.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    with pytest.raises(InputFileError, match="is a PNG image file, not text; give the resolution as PDF, Word"):
        read_document(image)
    with pytest.raises(InputFileError, match="file not found"):
        read_document(tmp_path / "missing.pdf")


def test_a_batch_file_is_still_text_only(tmp_path: Path) -> None:
    path = tmp_path / "questions.pdf"
    path.write_bytes(b"%PDF-1.7\n")
    with pytest.raises(InputFileError, match="is a PDF file, not text; give a UTF-8 text file"):
        read_text(path, BATCH)
