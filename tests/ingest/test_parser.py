"""The parser on the bundled A/RES/75/158 and on an English resolution-shaped fixture."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from resolution_qa.core.errors import InputFileError
from resolution_qa.ingest import Document, parse_file, parse_text
from resolution_qa.ingest.parser import BUNDLED_PATH, clean

FIXTURES = Path(__file__).parent.parent / "fixtures"
SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹"


def test_counts_and_order(document: Document) -> None:
    assert document.symbol == "A/RES/75/158"
    assert document.lang == "fr"
    assert document.title == "Traite des femmes et des filles"
    assert (document.count("header"), document.count("preambular"), document.count("operative"),
            document.count("footnote")) == (1, 38, 52, 34)
    ids = [u.id for u in document.units]
    assert ids == ["header"] + [f"PP{i}" for i in range(1, 39)] + [f"OP{i}" for i in range(1, 53)] + [
        f"fn{i}" for i in range(1, 35)
    ]
    assert document.warnings == ()


# Each paragraph that a page break cuts: (unit, words before the break, words after it).
PAGE_BREAKS = [
    ("PP2", "et la Convention pour la", "répression de la traite des êtres humains"),
    ("PP9", "à la traite des", "êtres humains, et prenant note avec satisfaction"),
    ("PP32", "qui y est associée", "et de leur religion, ainsi que de leurs origines"),
    ("OP1", "les activités menées", "par les organismes des Nations Unies pour lutter"),
    ("OP15", "notamment en renforçant", "économique et en encourageant une meilleure représentation"),
    ("OP20", "des programmes de sensibilisation", "les plus exposés au risque d'en être victimes"),
    ("OP25", "notamment en", "développant leurs échanges d'informations"),
    ("OP30", "l'exploitation", "sexuelle et le travail forcé, à faire largement connaître"),
    ("OP38", "victimes", "potentielles un gîte et des services d'assistance téléphonique"),
    ("OP52", "judiciaires dans la lutte contre la", "traite des êtres humains, prévoyant une action judiciaire"),
]


@pytest.mark.parametrize(("uid", "before", "after"), PAGE_BREAKS)
def test_page_break_continuations_are_joined(document: Document, uid: str, before: str, after: str) -> None:
    unit = document.get(uid)
    assert unit is not None
    assert len(unit.raw.split("\n\n")) == 2, f"{uid} should be made of two pieces"
    assert after in unit.text
    assert unit.text.index(after) > unit.text.index(before.split()[-1])


def test_every_continuation_in_the_file_is_joined(document: Document) -> None:
    """No unit text starts in lower case: every continuation went to its paragraph."""
    for unit in document.units:
        first = next(ch for ch in unit.text if ch.isalpha())
        assert not first.islower(), unit.id
    assert sum(len(u.raw.split("\n\n")) - 1 for u in document.units if u.kind != "header") == len(PAGE_BREAKS)


def test_closing_lines_go_to_the_header(document: Document) -> None:
    header = document.get("header")
    assert header is not None
    assert "46e séance plénière 16 décembre 2020" in header.text
    assert "A/75/471, par. 80" in header.text
    last = document.get("OP52")
    assert last is not None and last.text.endswith("pandémie de COVID-19.")
    assert "séance" not in last.text


def test_footnote_references(document: Document) -> None:
    assert document.get("PP2").footnotes == tuple(f"fn{i}" for i in range(1, 9))
    assert document.get("OP1").footnotes == ("fn17",)
    assert document.get("OP5").footnotes == tuple(f"fn{i}" for i in range(19, 30))
    assert document.get("OP50").footnotes == ("fn33", "fn34")
    assert [u.id for u in document.referring_to("fn17")] == ["OP1"]
    # every footnote is referred to by exactly one unit
    for fn in document.of_kind("footnote"):
        assert len(document.referring_to(fn.id)) == 1, fn.id


def test_ibid_resolution_keeps_the_raw_text(document: Document) -> None:
    fn2 = document.get("fn2")
    assert fn2.text == "Ibid., vol. 2237, n° 39574."
    assert fn2.source == "Nations Unies, Recueil des Traités, vol. 2237, n° 39574."
    # a run of Ibid. (fn20 .. fn29) all resolve to the work named in fn20
    for n in range(21, 30):
        assert document.get(f"fn{n}").source.startswith("Nations Unies, Recueil des Traités, vol."), n
    assert document.get("fn21").source == "Nations Unies, Recueil des Traités, vol. 39, n° 612."
    # a bare Ibid. repeats the whole previous reference
    assert document.get("fn34").text == "Ibid."
    assert document.get("fn34").source == document.get("fn33").source == "Voir résolution 2200 A (XXI), annexe."
    # a footnote that is not Ibid. is its own source
    assert document.get("fn17").source == "A/75/289."


def test_markup_removed_and_operative_phrase_kept(document: Document) -> None:
    for unit in document.units:
        assert "*" not in unit.text, unit.id
        assert "](#)" not in unit.text and "^" not in unit.text, unit.id
        assert not any(ch in SUPERSCRIPTS for ch in unit.text), unit.id
    op27 = document.get("OP27")
    assert op27.phrase == "Engage instamment"
    assert op27.text.startswith("Engage instamment les gouvernements")
    assert not re.match(r"^\d", op27.text)
    assert document.get("OP19").phrase == "Engage instamment de même"
    assert document.get("fn30").text == "Résolution 64/293."
    assert "1er juillet 2002" in document.get("PP16").text
    assert all(u.phrase for u in document.of_kind("operative"))


def test_labels_and_citations(document: Document) -> None:
    assert document.get("OP27").citation("fr") == "A/RES/75/158, par. 27"
    assert document.get("OP27").citation("en") == "A/RES/75/158, para. 27"
    assert document.get("PP3").label("fr") == "3e alinéa du préambule"
    assert document.get("PP1").label("fr") == "1er alinéa du préambule"
    assert document.get("PP3").label("en") == "3rd preambular paragraph"
    assert document.get("PP11").label("en") == "11th preambular paragraph"
    assert document.get("PP22").label("en") == "22nd preambular paragraph"
    assert document.get("fn17").label("fr") == "note 17"
    assert document.get("fn17").label("en") == "footnote 17"
    assert document.neighbour("OP27", 1).id == "OP28"
    assert document.neighbour("OP52", 1) is None


def test_english_fixture_parses_the_same_way() -> None:
    doc = parse_file(FIXTURES / "A_RES_75_999.en.txt")
    assert doc.symbol == "A/RES/75/999"
    assert doc.lang == "en"
    assert doc.title.startswith("Improvement of the situation of women and girls in rural areas")
    assert [u.id for u in doc.units] == ["header", "PP1", "PP2", "PP3", "OP1", "OP2", "OP3"] + [
        f"fn{i}" for i in range(1, 7)
    ]
    pp2 = doc.get("PP2")
    assert pp2.phrase == "Reaffirming"
    assert pp2.text.endswith("including the strategic objectives concerning rural women,")
    assert pp2.footnotes == ("fn2", "fn3", "fn4")
    assert "1st level" in doc.get("PP3").text
    op2 = doc.get("OP2")
    assert op2.phrase == "Urges"
    assert "(a) To design and revise laws" in op2.text and "(b) To invest" in op2.text
    op3 = doc.get("OP3")
    assert op3.text.endswith("on women and girls in rural areas.")
    assert op3.footnotes == ("fn6",)
    assert doc.get("fn3").source == "United Nations, Treaty Series, vol. 2131, No. 20378."
    assert doc.get("fn6").source == "A/75/189."
    assert doc.get("OP1").citation("en") == "A/RES/75/999, para. 1"
    assert "46th plenary meeting 16 December 2020" in doc.get("header").text
    assert doc.warnings == ()


def test_missing_footnote_and_duplicate_paragraph_warn_and_go_on() -> None:
    text = (
        "75/1. Titre\n\nL'Assemblée générale,\n\nRappelant ses résolutions¹,\n\n"
        "1. *Décide* de rester saisie de la question² ;\n\n1. *Prie* le Secrétaire général ;\n\n"
        "¹ Résolution 70/1.\n"
    )
    doc = parse_text(text, name="t.txt")
    assert [u.id for u in doc.units] == ["header", "PP1", "OP1", "OP1b", "fn1"]
    assert any("fn2" in w for w in doc.warnings)
    assert any("OP1 appears twice" in w for w in doc.warnings)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "file is empty"),
        (b"   \n\n  ", "file is empty"),
        (b"\x00\x01\x02binary", "looks binary"),
        ("Résolution".encode("latin-1"), "not valid UTF-8"),
        (b"Some text\n\nwith no resolution in it.", "does not look like a General Assembly resolution"),
        (b"The General Assembly,\n\n\xc2\xb9 Just a footnote.", "no preambular or operative paragraphs"),
    ],
)
def test_bad_files_get_one_line_errors(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(InputFileError) as info:
        parse_file(path)
    text = str(info.value)
    assert message in text and str(path) in text and "\n" not in text


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="file not found"):
        parse_file(tmp_path / "nope.txt")


def test_clean_handles_markup() -> None:
    assert clean("*Prend note* du rapport¹⁷ [A/75/169](#), 46^e séance, 1^{er} juillet") == (
        "Prend note du rapport A/75/169, 46e séance, 1er juillet"
    )


def test_bundled_copy_matches_the_package_data() -> None:
    assert BUNDLED_PATH.is_file()
    assert BUNDLED_PATH.read_text(encoding="utf-8").count("Engage instamment") >= 5
