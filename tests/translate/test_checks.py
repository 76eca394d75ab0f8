"""translate/checks.py: each check fails the candidates it should, and passes a faithful one."""

from __future__ import annotations

from resolution_qa.translate.checks import check, french_left, length_reasons, numbers_reasons, symbols_reasons

SOURCE = ("Prie le Secrétaire général de lui présenter, à sa soixante-dix-septième session, un rapport sur "
          "l'application de la résolution 64/293")
GOOD = ("Requests the Secretary-General to submit to it, at its seventy-seventh session, a report on the "
        "implementation of resolution 64/293")


def test_a_faithful_translation_passes() -> None:
    verdict = check(SOURCE, GOOD)
    assert verdict.ok, verdict.reasons


def test_numbers_written_as_words_must_survive() -> None:
    assert numbers_reasons(SOURCE, GOOD.replace("seventy-seventh", "seventy-fifth")) == [
        "numbers missing: 77", "numbers added: 75"]
    assert numbers_reasons(SOURCE, GOOD.replace("seventy-seventh", "77th")) == []


def test_months_must_survive() -> None:
    reasons = numbers_reasons("le 16 décembre 2020", "on 16 November 2020")
    assert reasons == ["months differ: [12] in the French, [11] in the English"]


def test_an_ordinal_one_in_words_is_not_required() -> None:
    # "prestataires de services de première ligne" is "front-line service providers"
    assert numbers_reasons("des prestataires de services de première ligne", "front-line service providers") == []


def test_symbols_must_be_copied() -> None:
    assert symbols_reasons("voir A/75/289 et A/HRC/44/45", "see A/75/289") == ["symbols missing: A/HRC/44/45"]
    # a sales number changes its language letter
    assert symbols_reasons("numéro de vente : F.96.IV.13", "Sales No. E.96.IV.13") == []


def test_french_words_left_are_found() -> None:
    assert french_left("measures of autodiscipline and the lacunes of the système") == ["autodiscipline", "lacunes",
                                                                                          "système"]
    assert french_left("the right of l'enfant") == ["l'enfant"]
    assert french_left("Member States' obligations, don't") == []
    assert french_left("the Beijing Declaration") == []


def test_glossary_terms_must_be_used() -> None:
    verdict = check("le droit à un recours effectif", "the right to a fair trial")
    assert verdict.reasons == ("glossary terms not used: droit à un recours effectif = right to an effective remedy",)


def test_length_in_proportion() -> None:
    assert length_reasons("x" * 100, "y" * 90) == []
    assert length_reasons("x" * 100, "y" * 30) == ["length ratio 0.30 (expected 0.55-1.35)"]


def test_heavier_reasons_weigh_more() -> None:
    wrong_number = check(SOURCE, GOOD.replace("seventy-seventh", "seventy-fifth"))
    missed_term = check(SOURCE, GOOD.replace("Secretary-General", "Chief Executive"))
    assert wrong_number.weight > missed_term.weight > 0


def test_a_number_said_twice_in_place_of_another_is_caught() -> None:
    # measured: OP5's list of ILO conventions came out with "(No. 81)" twice, once in place of "(No. 29)"
    source = "la Convention de 1930 (n° 29) et le Protocole s'y rapportant, la Convention de 1947 (n° 81)"
    english = "the Convention, 1930 (No. 29), the Protocol (No. 81), the Convention, 1947 (No. 81)"
    assert numbers_reasons(source, english) == ["numbers added: 81"]
    assert numbers_reasons("en 2020 et en 2020", "in 2020") == []


def test_french_words_copied_from_the_source_are_found_by_the_detector() -> None:
    source = "de l'aboutissement des négociations sur l'exploitation"
    assert french_left("of the aboutissement of the negotiations on exploitation", source=source) == ["aboutissement"]
    assert french_left("of the outcome of the negotiations on exploitation", source=source) == []
