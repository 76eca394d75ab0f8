"""PDFs in the UN layout parse into the same units as the .txt: ids, texts, footnote links, sources, phrases."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pdfplumber
import pytest

from resolution_qa.ingest import BUNDLED_PATH, Document, merge_versions, parse_file, parse_text
from resolution_qa.ingest.layout import keep_hyphen
from resolution_qa.ingest.pdf import parse_pdf
from tests.ingest.un_layout import SMALL_EN, SMALL_FR, UnFiles, resolution_pdf, units_of

TXT = parse_text(BUNDLED_PATH.read_text(encoding="utf-8"), name=str(BUNDLED_PATH))


def read(path: Path):
    return parse_pdf(path.read_bytes(), str(path), bounded=False)  # in this process: the bounded child is below


def test_the_fixture_is_laid_out_as_the_un_publishes_it(un_files: UnFiles) -> None:
    """What makes the test below hard is really in the file: a naive extraction shows it."""
    stats = un_files.stats
    assert stats.pages >= 10 and stats.split_paragraphs >= 5 and stats.continued_footnotes >= 2
    assert stats.hyphenated >= 10 and stats.compound_breaks >= 1
    with pdfplumber.open(un_files.pdf) as pdf:
        first, second, third = (pdf.pages[i].extract_text() for i in range(3))
        assert (pdf.pages[0].width, pdf.pages[0].height) == pytest.approx((595.27, 841.89), abs=0.5)  # A4
    assert first.startswith("Nations Unies A/RES/75/158") and "Distr. générale" in first and "20-17349 (F)" in first
    assert second.startswith("A/RES/75/158 Traite des femmes") and f"2/{stats.pages} 20-17349" in second
    assert third.startswith("Traite des femmes et des filles A/RES/75/158") and f"20-17349 3/{stats.pages}" in third
    assert "organisée1 et" in first  # the marker, naively, is a plain digit glued to its word


def test_the_bundled_resolution_as_a_pdf_gives_the_units_of_its_text(un_pdf: Document) -> None:
    doc = un_pdf
    assert (doc.symbol, doc.lang, doc.title) == (TXT.symbol, TXT.lang, TXT.title)
    assert len(doc.units) == 125 and doc.warnings == ()
    assert list(units_of(doc)) == list(units_of(TXT))  # every id, text, footnote link, source and phrase


def test_no_page_furniture_enters_a_unit(un_pdf: Document) -> None:
    doc = un_pdf
    furniture = re.compile(r"20-17349|2017349|\b\d{1,2}/13\b|A/RES/75/158|Nations Unies A/|Distr\.|Merci de recycler")
    assert [u.id for u in doc.units if furniture.search(u.text)] == []
    assert doc.get("fn32").text == TXT.get("fn32").text  # a footnote continued on the next page, whole
    assert doc.get("OP14").footnotes == ("fn31",)  # a marker glued to its word, linked


def test_footnotes_are_found_by_their_size_when_there_is_no_rule(tmp_path: Path) -> None:
    path = tmp_path / "no-rule.pdf"
    resolution_pdf(BUNDLED_PATH.read_text(encoding="utf-8"), path, rule=False)
    assert list(units_of(read(path))) == list(units_of(TXT))


def test_the_english_pdf_beside_the_french_one_is_its_english_version(un_files: UnFiles) -> None:
    fr, en = read(un_files.small_fr), read(un_files.small_en)
    assert (fr.symbol, fr.lang, en.symbol, en.lang) == ("A/RES/75/904", "fr", "A/RES/75/904", "en")
    assert list(units_of(fr)) == list(units_of(parse_text(SMALL_FR)))
    assert list(units_of(en)) == list(units_of(parse_text(SMALL_EN)))
    (merged,) = merge_versions([fr, en])
    op1 = merged.get("OP1")
    assert op1.text.startswith("Engage les États Membres") and op1.footnotes == ("fn3",)
    assert op1.text_in("en").startswith("Calls upon Member States to develop gender-responsive national energy")
    assert merged.get("fn2").text_in("en") == "See World Health Organization, Household Fuels and Health, 2018."


def test_the_masthead_symbol_wins_over_a_title_line_that_disagrees(tmp_path: Path) -> None:
    path = tmp_path / "mismatch.pdf"
    resolution_pdf(SMALL_EN.replace("75/904. Access", "75/905. Access"), path, symbol="A/RES/75/904")
    doc = read(path)
    assert doc.symbol == "A/RES/75/904" and {u.doc for u in doc.units} == {"A/RES/75/904"}
    assert any("masthead says A/RES/75/904 but the title line says A/RES/75/905" in w for w in doc.warnings)


@pytest.mark.parametrize(
    ("head", "tail", "words", "kept"),
    [
        ("sous", "régionales", {"sous": 3, "régionales": 1}, True),  # two words the text uses: a compound
        ("organisa", "tions", {"organisations": 1}, False),  # the whole word is elsewhere
        ("traite", "ment", {"traite": 9}, False),  # "ment" is no word: a cut
        ("celles", "ci", {"celles": 1}, True),  # "celles-ci"
        ("COVID", "19", {}, True),
        ("vingt", "Sud", {}, True),
        ("état", "membre", {"état-membre": 1, "étatmembre": 1}, True),  # written with its hyphen elsewhere
    ],
)
def test_a_hyphen_at_a_line_end(head: str, tail: str, words: dict[str, int], kept: bool) -> None:
    assert keep_hyphen(head, tail, Counter(words)) is kept


@pytest.mark.server  # the reading runs in a child process with time and memory limits
def test_parse_file_reads_a_pdf_in_its_bounded_child(un_files: UnFiles, tmp_path: Path) -> None:
    doc = parse_file(un_files.pdf)
    assert list(units_of(doc)) == list(units_of(TXT))
    named_txt = tmp_path / "really-a-pdf.txt"  # the format is told by the first bytes, not the name
    named_txt.write_bytes(un_files.small_en.read_bytes())
    assert parse_file(named_txt).lang == "en"
