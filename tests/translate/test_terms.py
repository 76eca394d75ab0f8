"""translate/terms.py: the glossary file, longest-first matching, the opening phrases written in code."""

from __future__ import annotations

from collections import defaultdict

import pytest

from resolution_qa.translate.terms import GLOSSARY_PATH, english_opening, glossary, opening_of, read_tsv, uses


def test_glossary_file_is_well_formed_and_unambiguous() -> None:
    entries = read_tsv(GLOSSARY_PATH)
    assert len(entries) >= 150
    english = defaultdict(set)
    for e in entries:
        english[e.fr.lower()].add(e.en)
    assert {fr: en for fr, en in english.items() if len(en) > 1} == {}


def test_the_glossary_covers_the_names_the_issue_names() -> None:
    g = glossary()
    text = ("l'Office des Nations Unies contre la drogue et le crime, le droit à un recours effectif, la Convention des "
            "Nations Unies contre la criminalité transnationale organisée et le Plan d'action mondial des Nations Unies "
            "pour la lutte contre la traite des personnes")
    assert [e.en for e in g.entries_in(text)] == [
        "United Nations Office on Drugs and Crime",
        "right to an effective remedy",
        "United Nations Convention against Transnational Organized Crime",
        "United Nations Global Plan of Action to Combat Trafficking in Persons",
    ]


def test_the_longest_name_wins_over_the_terms_inside_it() -> None:
    text = "le Protocole visant à prévenir, réprimer et punir la traite des personnes, en particulier des femmes et des enfants"
    found = glossary().entries_in(text)
    assert [e.en for e in found] == ["Protocol to Prevent, Suppress and Punish Trafficking in Persons, Especially Women and Children"]


def test_matching_ignores_case_accents_and_line_breaks() -> None:
    assert [e.en for e in glossary().entries_in("les ETATS MEMBRES et la société\ncivile")] == ["Member States", "civil society"]


def test_every_glossary_entry_of_the_bundled_text_is_found_somewhere(bundled) -> None:
    text = " ".join(u.text for u in bundled.units)
    found = {e.fr for e in glossary().entries_in(text)}
    assert len(found) >= 120


def test_missing_terms_are_named() -> None:
    g = glossary()
    source = "le droit à un recours effectif des victimes"
    assert g.missing_in(source, "the right to an effective remedy of victims") == []
    assert [e.en for e in g.missing_in(source, "the right to a fair trial of victims")] == ["right to an effective remedy"]


def test_uses_ignores_case_hyphens_and_plural() -> None:
    assert uses("law-enforcement official", "law enforcement officials")
    assert uses("The MEMBER STATES", "Member States")
    assert not uses("fair trial", "effective remedy")


@pytest.mark.parametrize(
    ("phrase", "english"),
    [
        ("Engage instamment", "Urges"),
        ("Engage instamment de même", "Also urges"),
        ("Engage instamment en outre", "Further urges"),
        ("Prend également note avec satisfaction", "Also takes note with appreciation"),
        ("Prie", "Requests"),
        ("Invite en outre", "Further invites"),
        ("Demande également", "Also calls upon"),
        ("Tout autre chose", None),
    ],
)
def test_english_opening(phrase: str, english: str | None) -> None:
    assert english_opening(phrase) == english


def test_opening_of_a_paragraph_takes_the_longest_phrase() -> None:
    assert opening_of("Prenant note avec satisfaction de l'aboutissement") == ("Prenant note avec satisfaction",
                                                                              "Taking note with appreciation")
    assert opening_of("Consciente également que, dans les conflits") == ("Consciente également", "Also aware")
    assert opening_of("Engage instamment les États Membres") == ("Engage instamment", "Urges")
    assert opening_of("Prieuré de quelque chose") is None  # a word that only starts like "Prie"


def test_every_operative_phrase_of_the_bundled_text_has_its_english(bundled) -> None:
    missing = [u.id for u in bundled.of_kind("operative") if u.phrase and english_opening(u.phrase) is None]
    assert missing == []
