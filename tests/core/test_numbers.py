"""core/numbers.py: values stated in digits, words and ordinals, in French and English, and their comparison."""

from __future__ import annotations

import pytest

from resolution_qa.core.numbers import compare, mentions, months, values


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("à sa soixante-dix-septième session", "fr", [77]),
        ("at its seventy-seventh session", "en", [77]),
        ("quarante-six", "fr", [46]),
        ("la 46e séance plénière", "fr", [46]),
        ("le 1er juillet 2002", "fr", [1, 2002]),
        ("le 1^{er} juillet 2002", "fr", [1, 2002]),
        ("à sa 103^e session", "fr", [103]),
        ("its 103rd session, the 2nd and the 4th", "en", [103, 2, 4]),
        ("la deuxième et la troisième", "fr", [2, 3]),
        ("les 10 et 11 décembre 2018", "fr", [10, 11, 2018]),
        ("quatre-vingt-dix-neuf", "fr", [99]),
        ("soixante et onze", "fr", [71]),
        ("vingt et un", "fr", [21]),
        ("one hundred and three", "en", [103]),
        ("ses soixante-cinquième et soixante-sixième sessions", "fr", [65, 66]),
        ("sixty-fifth and sixty-sixth sessions", "en", [65, 66]),
        ("2 000 victimes", "fr", [2000]),
        ("2\u202f000 victimes", "fr", [2000]),
        ("2,000 victims", "en", [2000]),
        ("1,5 million", "fr", [1.5, 1000000]),
        ("1.5", "en", [1.5]),
        ("Alliance 8.7", "fr", [8.7]),
        ("la résolution 64/293", "fr", [64, 293]),
        ("A/75/289", None, [75, 289]),
    ],
)
def test_values_in_digits_words_and_ordinals(text: str, lang, expected: list) -> None:
    assert [m.value for m in mentions(text, lang)] == expected


def test_articles_and_pronouns_are_not_the_number_one() -> None:
    assert values("un crime et une atteinte grave", "fr") == {}
    assert values("one of the crimes", "en") == {}
    assert values("vingt et une", "fr") == {21: 1}


def test_kinds_say_how_a_number_is_written() -> None:
    kinds = {m.text: m.kind for m in mentions("la soixante-quinzième session, le 16 décembre 2020, 3e, quarante-six", "fr")}
    assert kinds == {"soixante-quinzième": "ordinal", "16": "digits", "2020": "digits", "3e": "ordinal",
                     "quarante-six": "word"}


def test_words_inside_other_words_are_not_numbers() -> None:
    # "sept" in "septembre", "cent" in "centrées", "ten" in "often": no numbers
    assert values("septembre, centrées, often, tenant, neuve", "fr") == {}
    assert values("often attention tension", "en") == {}


def test_english_reading_does_not_take_french_number_words() -> None:
    assert values("per cent", "en") == {}
    assert values("per cent", "fr") == {100: 1}


def test_months_in_both_languages() -> None:
    assert months("le 16 décembre 2020 et en avril 2015", "fr") == {12: 1, 4: 1}
    assert months("on 16 December 2020; in April", "en") == {12: 1, 4: 1}
    assert months("States may consider", "en") == {}  # the verb, not the month


def test_compare_a_translation_with_its_source() -> None:
    source = "Prie le Secrétaire général de lui présenter, à sa soixante-dix-septième session, un rapport (2020)"
    good = "Requests the Secretary-General to submit to it at its seventy-seventh session a report (2020)"
    assert compare(source, good, source_lang="fr", candidate_lang="en").ok
    bad = compare(source, "Requests the Secretary-General to submit at its 75th session a report", source_lang="fr",
                  candidate_lang="en")
    assert not bad.ok
    assert set(bad.missing) == {77, 2020}
    assert set(bad.extra) == {75}
    assert bad.describe() == "missing 77, 2020; extra 75"


def test_compare_counts_values_once_unless_asked() -> None:
    source, candidate = "en 2020 et en 2020", "in 2020"
    assert compare(source, candidate, source_lang="fr", candidate_lang="en").ok
    assert compare(source, candidate, source_lang="fr", candidate_lang="en", count=True).missing == {2020: 1}


def test_compare_can_ignore_values() -> None:
    result = compare("la première ligne", "the front line", source_lang="fr", candidate_lang="en", ignore=frozenset({1}))
    assert result.ok


def test_same_number_in_words_and_digits_agrees() -> None:
    assert compare("quarante-six pays", "46 countries", source_lang="fr", candidate_lang="en").ok
    assert compare("the 46th meeting", "la quarante-sixième séance", source_lang="en", candidate_lang="fr").ok
