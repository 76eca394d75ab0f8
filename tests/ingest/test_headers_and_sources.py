"""Symbol and language from each header form; the corpus fixtures; folders expanded into their files."""

from __future__ import annotations

from pathlib import Path

import pytest

from resolution_qa.core.errors import InputFileError
from resolution_qa.ingest import expand_sources, parse_file, parse_text

CORPUS = Path(__file__).parent.parent / "fixtures" / "corpus"

BODY_FR = (
    "L'Assemblée générale,\n\n*Rappelant* ses résolutions,\n\n1. *Décide* de rester saisie de la question.\n\n"
    "*46e séance plénière*\n"
)
BODY_EN = (
    "The General Assembly,\n\n*Recalling* its resolutions,\n\n1. *Decides* to remain seized of the matter.\n\n"
    "*46th plenary meeting*\n"
)


@pytest.mark.parametrize(
    ("header", "body", "symbol", "lang", "title"),
    [
        ("Résolution adoptée par l'Assemblée générale le 16 décembre 2020\n\n75/158. Traite des femmes",
         BODY_FR, "A/RES/75/158", "fr", "Traite des femmes"),
        ("Resolution adopted by the General Assembly on 16 December 2020\n\n75/999. Rural women",
         BODY_EN, "A/RES/75/999", "en", "Rural women"),
        # The printed symbol line alone (no numbered title line): symbol known, title unknown.
        ("United Nations A/RES/76/12\n\nResolution adopted by the General Assembly on 6 December 2021",
         BODY_EN, "A/RES/76/12", "en", ""),
        ("Nations Unies A/RES/76/12*\n\nRésolution adoptée par l’Assemblée générale le 6 décembre 2021",
         BODY_FR, "A/RES/76/12", "fr", ""),
        # Both lines, as in the official texts.
        ("A/RES/75/901\n\nResolution adopted by the General Assembly\n\n75/901. Coral reefs",
         BODY_EN, "A/RES/75/901", "en", "Coral reefs"),
    ],
)
def test_symbol_and_language_from_the_header(header: str, body: str, symbol: str, lang: str, title: str) -> None:
    doc = parse_text(f"{header}\n\n{body}", name="t.txt")
    assert (doc.symbol, doc.lang, doc.title) == (symbol, lang, title)
    assert {u.doc for u in doc.units} == {symbol} and {u.lang for u in doc.units} == {lang}
    assert doc.warnings == ()


def test_the_adoption_line_decides_the_language_over_the_opening_line() -> None:
    # An English text whose opening line was left in French by a converter is still English.
    doc = parse_text("Resolution adopted by the General Assembly\n\n75/5. Title\n\n" + BODY_FR, name="t.txt")
    assert doc.lang == "en"


def test_conflicting_symbol_lines_warn_and_keep_the_printed_symbol() -> None:
    doc = parse_text("A/RES/75/901\n\n75/900. Coral reefs\n\n" + BODY_EN, name="t.txt")
    assert doc.symbol == "A/RES/75/901" and doc.title == "Coral reefs"
    assert any("A/RES/75/901" in w and "A/RES/75/900" in w for w in doc.warnings)


@pytest.mark.parametrize("header", ["Seventy-fifth session\n\nAgenda item 28", "", "A/75/471\n\nA/RES/75"])
def test_no_symbol_is_a_one_line_error_saying_what_line_is_expected(header: str) -> None:
    with pytest.raises(InputFileError) as info:
        parse_text(f"{header}\n\n{BODY_EN}", name="doc.txt")
    message = str(info.value)
    assert "\n" not in message and message.startswith("doc.txt: no document symbol")
    assert '"75/158. Title"' in message and '"A/RES/75/158"' in message


def test_a_symbol_after_the_opening_line_is_not_the_documents() -> None:
    text = "Agenda item 5\n\nThe General Assembly,\n\n*Recalling* A/RES/70/1 and 70/1. Transforming our world,\n"
    with pytest.raises(InputFileError, match="no document symbol"):
        parse_text(text, name="t.txt")


def test_corpus_fixtures() -> None:
    reefs, roads = (parse_file(p) for p in sorted(CORPUS.glob("*.txt")))
    assert (reefs.symbol, reefs.lang) == ("A/RES/75/901", "en")
    assert (roads.symbol, roads.lang) == ("A/RES/75/902", "fr")
    for doc in (reefs, roads):
        assert [u.id for u in doc.units] == ["header", "PP1", "PP2", "PP3", "OP1", "OP2", "OP3", "OP4",
                                             "fn1", "fn2", "fn3"]
        assert doc.warnings == ()
    assert reefs.title == "Protection of coral reefs for sustainable livelihoods (test fixture)"
    op2 = reefs.get("OP2")
    assert op2.text.endswith("with the help of the scientific community;") and op2.footnotes == ("fn3",)
    assert "45th plenary meeting 21 December 2020" in reefs.get("header").text
    assert roads.get("OP2").phrase == "Engage" and roads.get("fn3").source == "Voir A/74/304."
    assert "47e séance plénière 22 décembre 2020" in roads.get("header").text


def test_a_folder_stands_for_its_txt_files_sorted(tmp_path: Path) -> None:
    folder = tmp_path / "res"
    folder.mkdir()
    for name in ("b.txt", "a.txt", "notes.md"):
        (folder / name).write_text("x", encoding="utf-8")
    (folder / "sub").mkdir()
    (folder / "sub" / "c.txt").write_text("x", encoding="utf-8")
    single = tmp_path / "z.txt"
    assert expand_sources([single, folder]) == [single, folder / "a.txt", folder / "b.txt"]
    # a file named directly and through its folder is kept once, where it first appears
    assert expand_sources([folder / "b.txt", str(folder)]) == [folder / "b.txt", folder / "a.txt"]
    assert expand_sources([tmp_path / "missing.txt"]) == [tmp_path / "missing.txt"]  # parsing reports it


def test_an_empty_folder_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.md").write_text("x", encoding="utf-8")
    with pytest.raises(InputFileError) as info:
        expand_sources([tmp_path / "empty"])
    assert "empty: folder holds no .txt, .pdf or .docx resolution files" in str(info.value) and "\n" not in str(info.value)
