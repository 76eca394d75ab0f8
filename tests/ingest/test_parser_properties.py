"""Property tests: generated resolutions parse into the units they were built from; no input crashes."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from resolution_qa.core.errors import InputFileError
from resolution_qa.ingest import parse_text
from resolution_qa.ingest.parser import clean

SUP = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyzéèàç", min_size=1, max_size=10)
PARTICIPLES = ["Rappelant", "Consciente", "Notant", "Réaffirmant", "Soulignant", "Préoccupée"]
VERBS = ["Prie", "Invite", "Engage instamment", "Demande", "Encourage", "Décide"]


@st.composite
def resolutions(draw: st.DrawFn) -> tuple[str, list[tuple[str, list[str]]], int]:
    """A resolution text, the expected (unit id, words) list, and its footnote count.

    Paragraphs may be cut by a page break (a footnote block, then the rest in lower case)."""
    n_pp = draw(st.integers(1, 6))
    n_op = draw(st.integers(1, 8))
    lines = ["Soixante-quinzième session", "", "75/42. Titre de test", "", "L'Assemblée générale,", ""]
    expected: list[tuple[str, list[str]]] = []
    footnotes: list[str] = []

    def paragraph(opening: str, uid: str, prefix: str, end: str) -> None:
        words = draw(st.lists(WORD, min_size=2, max_size=12))
        body = " ".join(words)
        marker = ""
        if draw(st.booleans()):
            footnotes.append(f"Source {len(footnotes) + 1}.")
            marker = str(len(footnotes)).translate(SUP)
        if draw(st.booleans()) and len(words) > 2:
            # page break: first half, a footnote block, then the lower-case rest
            cut = draw(st.integers(1, len(words) - 1))
            lines.extend([f"{prefix}{opening} {' '.join(words[:cut])}", ""])
            footnotes.append(f"Ibid., vol. {len(footnotes)}.")
            lines.extend([f"{str(len(footnotes)).translate(SUP)} {footnotes[-1]}", ""])
            lines.extend([f"{' '.join(words[cut:])}{marker}{end}", ""])
        else:
            lines.extend([f"{prefix}{opening} {body}{marker}{end}", ""])
        expected.append((uid, opening.split() + words))

    for i in range(1, n_pp + 1):
        paragraph(draw(st.sampled_from(PARTICIPLES)), f"PP{i}", "", ",")
    for i in range(1, n_op + 1):
        verb = draw(st.sampled_from(VERBS))
        paragraph(f"*{verb}*", f"OP{i}", f"{i}. ", " ;")
    lines.extend(["*46^e séance plénière", "16 décembre 2020*"])
    for n, note in enumerate(footnotes, start=1):
        lines.extend(["", f"{str(n).translate(SUP)} {note}"])
    return "\n".join(lines), expected, len(footnotes)


@pytest.mark.property
@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(resolutions())
def test_generated_resolutions_round_trip(case: tuple[str, list[tuple[str, list[str]]], int]) -> None:
    text, expected, n_footnotes = case
    doc = parse_text(text)
    ids = [u.id for u in doc.units]
    assert len(ids) == len(set(ids))
    assert ids == ["header"] + [uid for uid, _ in expected] + [f"fn{i}" for i in range(1, n_footnotes + 1)]
    for uid, words in expected:
        unit = doc.get(uid)
        assert unit is not None
        # no word lost, none added: the unit holds exactly the words it was built from
        assert re.findall(r"\w+", unit.text) == re.findall(r"\w+", " ".join(words)), (uid, unit.text)
    assert "46e séance plénière 16 décembre 2020" in doc.get("header").text


@pytest.mark.property
@settings(max_examples=2000, deadline=None)
@given(st.text(max_size=400))
def test_arbitrary_text_never_crashes(text: str) -> None:
    try:
        doc = parse_text(text)
    except InputFileError as exc:
        assert "\n" not in str(exc)
        return
    ids = [u.id for u in doc.units]
    assert len(ids) == len(set(ids))


@pytest.mark.property
@settings(max_examples=1000, deadline=None)
@given(st.text(max_size=200))
def test_clean_is_idempotent_and_flat(text: str) -> None:
    once = clean(text)
    assert clean(once) == once
    assert not re.search(r"\s{2,}", once)
