"""Bad resolution files: refused with one line before anything is read in full, or parsed with warnings; nothing lost."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from resolution_qa.core.errors import InputFileError
from resolution_qa.ingest import parse_file, parse_text
from resolution_qa.ingest.parser import BUNDLED_PATH, MAX_FILE_BYTES

BUNDLED = BUNDLED_PATH.read_bytes()


def refused(path: Path) -> str:
    with pytest.raises(InputFileError) as info:
        parse_file(path)
    message = str(info.value)
    assert "\n" not in message and str(path) in message
    return message


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "file is empty"),
        (b" \n\t\n", "file is empty"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "is a PDF that looks truncated"),  # PDFs: tests/ingest/test_pdf_bad.py
        (b"PK\x03\x04\x14\x00\x06\x00", "is a damaged zip or Word file"),
        (BUNDLED[:20000] + b"\x00" + BUNDLED[20000:], "looks binary"),  # NUL far from the start
        (BUNDLED.decode().encode("latin-1", errors="replace"), "not valid UTF-8"),
        (BUNDLED[: BUNDLED.index("é".encode()) + 1], "ends in the middle of a UTF-8 character"),
        (b"Just a note about trafficking.\n\nNo resolution here.", "does not look like a General Assembly resolution"),
        (b"75/1. Title\n\nThe General Assembly,\n\n\xc2\xb9 Only a footnote.", "no preambular or operative paragraphs"),
    ],
    ids=["empty", "whitespace", "pdf", "zip", "nul-late", "latin-1", "cut-mid-character", "no-opening", "no-paragraph"],
)
def test_bad_files_are_refused_with_one_line(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    assert expected in refused(path)


def test_a_50_mb_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    with path.open("wb") as f:  # written at test time, never committed: 50 MB of resolution text
        for _ in range(50_000_000 // len(BUNDLED) + 1):
            f.write(BUNDLED)
    assert path.stat().st_size > 50_000_000
    started = time.perf_counter()
    message = refused(path)
    assert time.perf_counter() - started < 0.5  # a stat, not a read
    assert "too large" in message and f"limit {MAX_FILE_BYTES // 1_000_000} MB" in message


def test_a_file_at_the_size_limit_parses_quickly(tmp_path: Path) -> None:
    text = BUNDLED.decode()
    body = text[text.index("\n1. ") :]
    path = tmp_path / "long.txt"
    path.write_text(text + body * ((MAX_FILE_BYTES - len(BUNDLED)) // len(body.encode())), encoding="utf-8")
    assert MAX_FILE_BYTES * 0.9 < path.stat().st_size <= MAX_FILE_BYTES
    started = time.perf_counter()
    doc = parse_file(path)
    assert time.perf_counter() - started < 30  # measured 1.5 s on a loaded 2-core machine
    ids = [u.id for u in doc.units]
    assert len(ids) == len(set(ids))  # repeated paragraph numbers get OP1b, OP1c, ... never the same id
    assert any("appears twice" in w for w in doc.warnings)


def test_a_truncated_file_keeps_every_paragraph_it_has(tmp_path: Path) -> None:
    """Cut between characters: the paragraphs before the cut are all there, with their text; a cut
    inside a paragraph keeps its first part, and the missing closing line is reported as a warning."""
    full = parse_file()
    text = BUNDLED.decode()
    cut = text.index("\n28. ")  # cut right before paragraph 28
    path = tmp_path / "cut.txt"
    path.write_text(text[:cut], encoding="utf-8")
    doc = parse_file(path)
    assert doc.symbol == full.symbol
    assert any("may be truncated" in w for w in doc.warnings)  # no closing line: the cut is reported
    kept = {u.id for u in doc.units if u.kind == "operative"}
    assert kept == {f"OP{n}" for n in range(1, 28)}
    for unit in doc.units:
        if unit.kind in ("preambular", "operative"):
            assert unit.text == full.get(unit.id).text, unit.id


def test_duplicates_and_a_missing_footnote_warn_and_keep_everything() -> None:
    text = ("75/1. Titre\n\nL'Assemblée générale,\n\nRappelant ses résolutions¹,\n\n"
            "1. *Décide* A² ;\n\n1. *Prie* B ;\n\n1. *Invite* C ;\n\n2. *Demande* D.\n\n¹ Résolution 70/1.\n")
    doc = parse_text(text, name="t.txt")
    assert [u.id for u in doc.units] == ["header", "PP1", "OP1", "OP1b", "OP1c", "OP2", "fn1"]
    assert [doc.get(i).text for i in ("OP1", "OP1b", "OP1c", "OP2")] == ["Décide A ;", "Prie B ;", "Invite C ;", "Demande D."]
    assert sum("OP1 appears twice" in w for w in doc.warnings) == 2
    assert any("marker for fn2 but no such footnote" in w for w in doc.warnings)
    assert all(w.startswith("t.txt: ") and "\n" not in w for w in doc.warnings)


WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyzéè", min_size=1, max_size=8)


@pytest.mark.property
@settings(max_examples=1500, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 6), st.lists(WORD, min_size=1, max_size=6)), min_size=1, max_size=12))
def test_any_paragraph_numbering_gives_unique_ids_and_loses_no_word(paragraphs: list[tuple[int, list[str]]]) -> None:
    """Repeated, missing and out-of-order paragraph numbers: unique ids, every word kept, one warning per repeat."""
    lines = ["75/7. Titre", "", "L'Assemblée générale,", "", "Rappelant le texte,", ""]
    for number, words in paragraphs:
        lines += [f"{number}. *Prie* {' '.join(words)} ;", ""]
    doc = parse_text("\n".join(lines))
    operative = doc.of_kind("operative")
    ids = [u.id for u in doc.units]
    assert len(ids) == len(set(ids))
    assert [u.number for u in operative] == [n for n, _ in paragraphs]
    assert [re.findall(r"\w+", u.text) for u in operative] == [["Prie", *words] for _, words in paragraphs]
    repeats = len(paragraphs) - len({n for n, _ in paragraphs})
    assert sum("appears twice" in w for w in doc.warnings) == repeats
