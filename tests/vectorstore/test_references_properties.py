"""Property tests of the reference resolver: thousands of generated questions, no crash, the named unit or a clear range error."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from num2words import num2words

from resolution_qa.core.errors import ReferenceOutOfRangeError
from resolution_qa.core.refs import find_references
from resolution_qa.ingest import Document, parse_file
from resolution_qa.ingest.units import Kind
from resolution_qa.vectorstore.references import resolve

DOCUMENT: Document = parse_file()
MAXIMUM: dict[Kind, int] = {k: max(u.number or 0 for u in DOCUMENT.of_kind(k)) for k in ("preambular", "operative", "footnote")}
PREFIX = {"preambular": "PP", "operative": "OP", "footnote": "fn"}

# (kind, template): {n} a number in digits, {o} an ordinal (digits with suffix, or words).
CARDINAL: list[tuple[Kind, str]] = [
    ("operative", "paragraphe {n}"), ("operative", "paragraph {n}"), ("operative", "par. {n}"),
    ("operative", "para. {n}"), ("operative", "§ {n}"), ("operative", "OP{n}"), ("operative", "operative paragraph {n}"),
    ("operative", "paragraphe n° {n}"), ("operative", "paragraphe {n} du dispositif"),
    ("preambular", "alinéa {n}"), ("preambular", "preambular paragraph {n}"), ("preambular", "PP{n}"),
    ("preambular", "alinéa {n} du préambule"), ("preambular", "paragraphe {n} du préambule"),
    ("preambular", "paragraph {n} of the preamble"), ("preambular", "preambular para. {n}"),
    ("footnote", "note {n}"), ("footnote", "footnote {n}"), ("footnote", "note de bas de page {n}"), ("footnote", "fn {n}"),
]
ORDINAL: list[tuple[Kind, str]] = [
    ("operative", "{o} paragraphe"), ("operative", "{o} paragraph"), ("operative", "{o} operative paragraph"),
    ("preambular", "{o} alinéa"), ("preambular", "{o} preambular paragraph"), ("preambular", "{o} alinéa du préambule"),
    ("footnote", "{o} note"), ("footnote", "{o} footnote"),
]
# Words that start or end a question without naming anything ("x"-words cannot form a noun of the grammar).
BEFORE = ["", "Que dit le ", "What does the ", "Et le ", "Montre-moi le ", "Explain the ", "zyx qwk "]
AFTER = ["", " ?", " say?", " dit-il ?", " about victims?", " sur la traite ?", " qxz."]


@st.composite
def ordinals(draw: st.DrawFn, n: int) -> str:
    lang = draw(st.sampled_from(["fr", "en"]))
    style = draw(st.sampled_from(["words", "words-hyphen", "digits"]))
    if style == "digits":
        if lang == "en":
            suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
        else:
            suffix = draw(st.sampled_from(["er", "re", "ère"])) if n == 1 else draw(st.sampled_from(["e", "ème"]))
        return f"{n}{suffix}"
    words = num2words(n, lang=lang, to="ordinal")
    return words.replace("-", " ") if style == "words" and lang == "en" else words


@st.composite
def references(draw: st.DrawFn) -> tuple[str, Kind, int]:
    """A question naming one unit: (question, kind, number); numbers go past each kind's maximum."""
    if draw(st.booleans()):
        kind, template = draw(st.sampled_from(CARDINAL))
        n = draw(st.integers(1, 999))
        phrase = template.format(n=n)
    else:
        kind, template = draw(st.sampled_from(ORDINAL))
        n = draw(st.integers(1, 99))
        phrase = template.format(o=draw(ordinals(n)))
    if draw(st.booleans()):
        phrase = draw(st.sampled_from([str.lower, str.upper, str.title, str]))(phrase)
    return draw(st.sampled_from(BEFORE)) + phrase + draw(st.sampled_from(AFTER)), kind, n


@pytest.mark.property
@settings(max_examples=2000, deadline=None)
@given(references())
def test_a_named_unit_resolves_or_names_the_maximum(case: tuple[str, Kind, int]) -> None:
    question, kind, n = case
    found = find_references(question)
    assert [(r.kind, r.number) for r in found] == [(kind, n)], (question, found)
    ref = found[0]
    if n <= MAXIMUM[kind]:
        assert resolve(ref, DOCUMENT).id == f"{PREFIX[kind]}{n}"
    else:
        try:
            resolve(ref, DOCUMENT)
        except ReferenceOutOfRangeError as exc:
            assert (exc.kind, exc.number, exc.maximum) == (kind, n, MAXIMUM[kind])
            assert str(MAXIMUM[kind]) in str(exc) and "\n" not in str(exc)
        else:
            raise AssertionError(f"{question!r} resolved although {kind} {n} does not exist")


@pytest.mark.property
@settings(max_examples=2000, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_never_crashes(text: str) -> None:
    for ref in find_references(text):
        assert ref.kind in PREFIX or ref.kind == "header"
        assert ref.last or (ref.number is not None and ref.number >= 0)
        try:
            unit = resolve(ref, DOCUMENT)
        except ReferenceOutOfRangeError as exc:
            assert exc.maximum == MAXIMUM.get(exc.kind, exc.maximum)  # type: ignore[arg-type]
            continue
        assert unit.kind == ref.kind and (ref.last or unit.number == ref.number)


NOUNS = ["par.", "para.", "paragraphe", "paragraph", "§", "alinéa", "note", "footnote", "fn", "OP", "PP",
         "premier", "dernier", "last", "twenty-first", "vingt et unième", "3e", "21st", "du préambule", "A/RES/75/158,",
         "A/75/471,", "of the Convention", "et", "and", ",", "n°"]


@pytest.mark.property
@settings(max_examples=2000, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(NOUNS), st.integers(0, 1200).map(str), st.text(max_size=6)), max_size=14))
def test_reference_soup_never_crashes(parts: list[str]) -> None:
    """Nouns, numbers and symbols in any order: only ReferenceOutOfRangeError, with the right maximum."""
    test_arbitrary_text_never_crashes.hypothesis.inner_test(" ".join(parts))  # type: ignore[attr-defined]


def test_last_names_the_maximum() -> None:
    for question, kind in (("le dernier alinéa", "preambular"), ("the last paragraph", "operative"),
                           ("la dernière note", "footnote")):
        (ref,) = find_references(question)
        assert resolve(ref, DOCUMENT).id == f"{PREFIX[kind]}{MAXIMUM[kind]}"
