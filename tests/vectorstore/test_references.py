"""The explicit-reference resolver: French and English phrasings, other documents left out, out-of-range numbers."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from num2words import num2words

from resolution_qa.core.errors import ReferenceOutOfRangeError
from resolution_qa.core.refs import find_references
from resolution_qa.ingest import Document
from resolution_qa.vectorstore.references import resolve


def ids(question: str) -> list[str]:
    return [r.unit_id for r in find_references(question)]


@pytest.mark.parametrize(
    "question",
    [
        "Que dit le paragraphe 27 ?",
        "par. 27",
        "Summarize para 27",
        "What does paragraph 27 say?",
        "§ 27",
        "voir §27",
        "OP27",
        "What is OP 27 about?",
        "the operative paragraph 27",
        "le paragraphe 27 du dispositif",
        "A/RES/75/158, par. 27",
        "A/RES/75/158, para. 27",
        "Peux-tu me résumer le par. 27 ?",
        "the twenty-seventh operative paragraph",
        "le vingt-septième paragraphe du dispositif",
    ],
)
def test_operative_phrasings(question: str) -> None:
    assert ids(question) == ["OP27"]


@pytest.mark.parametrize(
    "question",
    [
        "PP3",
        "Que dit le 3e alinéa du préambule ?",
        "le troisième alinéa du préambule",
        "the third preambular paragraph",
        "What's in the 3rd preambular paragraph?",
        "preambular paragraph 3",
        "l'alinéa 3 du préambule",
        "le paragraphe 3 du préambule",
        "paragraph 3 of the preamble",
        "A/RES/75/158, 3e alinéa du préambule",
    ],
)
def test_preambular_phrasings(question: str) -> None:
    assert ids(question) == ["PP3"]


@pytest.mark.parametrize(
    "question",
    ["note 17", "Que dit la note de bas de page 17 ?", "footnote 17", "fn 17", "fn17", "A/RES/75/158, note 17"],
)
def test_footnote_phrasings(question: str) -> None:
    assert ids(question) == ["fn17"]


@pytest.mark.parametrize(
    "question",
    [
        "Sur la base du rapport A/75/471, par. 80",
        "Que dit la résolution 64/293 ?",
        "article 3 of the Convention",
        "Recueil des Traités, vol. 2237, n° 39574",
        "Supplément n° 7 (E/2018/27), chap. I, sect. A, par. 3",
        "paragraph 2 of article 6 of the Protocol",
        "le paragraphe 4 du rapport du Secrétaire général",
        "adoptée par 120 voix contre 3",
        "le 1er juillet 2002, à la 46e séance plénière",
        "Quel est l'en-tête ?",
        "What does the header say?",
        "date d'adoption",
        "",
    ],
)
def test_references_to_other_texts_or_none_are_left_out(question: str) -> None:
    assert ids(question) == []


def test_several_references_in_order() -> None:
    refs = find_references("Compare par. 27, PP3 and footnote 17, then paragraphs 4 and 5")
    assert [r.unit_id for r in refs] == ["OP27", "PP3", "fn17", "OP4", "OP5"]
    assert all(r.text in "Compare par. 27, PP3 and footnote 17, then paragraphs 4 and 5" for r in refs)


def test_symbol_of_the_resolution_is_kept() -> None:
    [ref] = find_references("Que dit A/RES/75/158, par. 27 ?")
    assert ref.doc == "A/RES/75/158"
    [other] = find_references("What does paragraph 5 of resolution 64/293 say?")
    assert other.doc == "A/RES/64/293"  # a resolution, but not this one: the retriever ignores it


def test_last_paragraph(document: Document) -> None:
    [pp] = find_references("Que dit le dernier alinéa du préambule ?")
    assert pp.last and pp.number is None
    assert resolve(pp, document).id == f"PP{document.count('preambular')}"
    [op] = find_references("What does the last operative paragraph say?")
    assert resolve(op, document).id == f"OP{document.count('operative')}"


@pytest.mark.parametrize(
    ("question", "kind", "number", "maximum"),
    [("paragraphe 99", "operative", 99, 52), ("PP40", "preambular", 40, 38), ("note 35", "footnote", 35, 34),
     ("par. 0", "operative", 0, 52)],
)
def test_out_of_range_raises_with_a_clear_message(
    document: Document, question: str, kind: str, number: int, maximum: int
) -> None:
    [ref] = find_references(question)
    with pytest.raises(ReferenceOutOfRangeError) as info:
        resolve(ref, document)
    assert (info.value.kind, info.value.number, info.value.maximum) == (kind, number, maximum)
    assert str(info.value).startswith(f"A/RES/75/158 has {maximum} ")
    assert "there is no" in str(info.value) and str(number) in str(info.value)


def test_out_of_range_message_reads_well(document: Document) -> None:
    [ref] = find_references("paragraph 99")
    with pytest.raises(ReferenceOutOfRangeError, match=r"^A/RES/75/158 has 52 operative paragraphs; there is no paragraph 99$"):
        resolve(ref, document)


def test_every_unit_resolves(document: Document) -> None:
    for unit in document.units:
        if unit.kind == "header":
            continue
        phrase = {"operative": "paragraphe", "preambular": "PP", "footnote": "note"}[unit.kind]
        [ref] = find_references(f"{phrase} {unit.number}")
        assert resolve(ref, document) == unit


# --- properties ------------------------------------------------------------------------------------------------

_ORDINALS = {
    n: {num2words(n, lang=lang, to="ordinal").lower() for lang in ("fr", "en")} for n in range(1, 100)
}


def _number_is_written(number: int, words: str) -> bool:
    lowered = words.lower()
    if any(int(digits) == number for digits in re.findall(r"\d+", lowered)):  # "par. 07" is 7
        return True
    return any(re.sub(r"[\s-]+", " ", o) in re.sub(r"[\s-]+", " ", lowered) for o in _ORDINALS.get(number, ()))


_reference_like = st.lists(
    st.one_of(
        st.sampled_from(["par.", "para", "paragraphe", "§", "OP", "PP", "note", "footnote", "fn", "alinéa",
                         "du préambule", "of the preamble", "A/RES/75/158,", "A/75/471,", "résolution",
                         "third", "vingt et unième", "e", "rd", " ", ",", " et ", " and ", "/"]),
        st.integers(min_value=0, max_value=999).map(str),
        st.text(max_size=8),
    ),
    max_size=12,
).map("".join)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.one_of(st.text(), _reference_like))
def test_no_crash_and_every_number_is_in_the_text(question: str) -> None:
    for ref in find_references(question):
        assert ref.text in question
        if ref.number is not None:
            assert _number_is_written(ref.number, ref.text), (question, ref)
        else:
            assert ref.last


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(min_value=53, max_value=999), st.sampled_from(["paragraphe {}", "par. {}", "OP{}", "paragraph {}"]))
def test_out_of_range_operative_always_raises(document: Document, number: int, template: str) -> None:
    [ref] = find_references(template.format(number))
    with pytest.raises(ReferenceOutOfRangeError):
        resolve(ref, document)
