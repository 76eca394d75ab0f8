"""Word files (.docx) with real footnotes parse into the same units as the .txt."""

from __future__ import annotations

import zipfile
from pathlib import Path

from resolution_qa.ingest import BUNDLED_PATH, parse_file, parse_text
from resolution_qa.ingest.word import docx_text
from tests.ingest.un_layout import UnFiles, units_of

TXT = parse_text(BUNDLED_PATH.read_text(encoding="utf-8"), name=str(BUNDLED_PATH))


def test_the_fixture_has_real_footnotes_and_its_masthead_in_a_header(un_files: UnFiles) -> None:
    with zipfile.ZipFile(un_files.docx) as archive:
        document = archive.read("word/document.xml").decode()
        footnotes = archive.read("word/footnotes.xml").decode()
        headers = "".join(archive.read(n).decode() for n in archive.namelist() if n.startswith("word/header"))
    assert document.count("<w:footnoteReference") == 34 and 'w:id="103"' in document  # ids are not numbers
    assert footnotes.count("<w:footnote ") == 36  # two separators, 34 notes
    assert "A/RES/75/158" in headers and "A/RES/75/158" not in document


def test_the_bundled_resolution_as_a_docx_gives_the_units_of_its_text(un_files: UnFiles) -> None:
    doc = parse_file(un_files.docx)  # no child process for Word: the zip is checked before it is opened
    assert (doc.symbol, doc.lang, doc.title) == (TXT.symbol, TXT.lang, TXT.title)
    assert len(doc.units) == 125 and doc.warnings == ()
    assert list(units_of(doc)) == list(units_of(TXT))


def test_the_masthead_in_the_header_gives_symbol_and_language(un_files: UnFiles) -> None:
    text, masthead = docx_text(un_files.docx.read_bytes(), "x.docx")
    assert (masthead.symbol, masthead.lang) == ("A/RES/75/158", "fr")
    assert text.startswith("Soixante-quinzième session")  # headers and footers never enter
    assert "Distr." not in text and "20-17349" not in text


def test_a_docx_named_txt_is_still_read_as_word(un_files: UnFiles, tmp_path: Path) -> None:
    renamed = tmp_path / "A_RES_75_158.txt"
    renamed.write_bytes(un_files.docx.read_bytes())
    assert len(parse_file(renamed).units) == 125
