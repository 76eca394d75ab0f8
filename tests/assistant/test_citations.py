"""Citation validation: tags -> units, invalid tags dropped, invented numbers fixed, uncited claims attributed."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from resolution_qa.assistant.citations import Dropped, LabelStream, split_sentences, tag_numbers, validate
from resolution_qa.assistant.prompts import NOT_IN_SOURCES, SYSTEM_RULES
from resolution_qa.core.refs import find_mentions
from resolution_qa.ingest import Document, Unit


@pytest.fixture
def sources(document: Document) -> list[Unit]:
    return [document.get("OP27"), document.get("OP26"), document.get("fn17")]


def last_source(sentence: str, units: Sequence[Unit]) -> Unit:
    return units[-1]


def never_attributed(sentence: str, units: Sequence[Unit]) -> Unit:
    raise AssertionError(f"no sentence should need attribution by similarity: {sentence!r}")


def test_tags_in_the_forms_small_models_write() -> None:
    assert tag_numbers("a [S1] b [S2, S3] c [1] d (S4) e [s5][S6]") == [1, 2, 3, 1, 4, 5, 6]
    assert tag_numbers("(1) is a list item, not a tag") == []


def test_sentences_are_not_cut_after_paragraph_labels() -> None:
    text = "Le par. 27 demande ceci [S1]. Voir A/75/471, par. 80. Les U.N. Member States agree. [S2] Fin."
    assert split_sentences(text) == [
        "Le par. 27 demande ceci [S1].",
        "Voir A/75/471, par. 80.",
        "Les U.N. Member States agree.",
        "[S2] Fin.",
    ]


def test_valid_tags_become_labels_in_the_answer_language(sources: list[Unit]) -> None:
    checked = validate("Victims must not be prosecuted [S1]. States must criminalize trafficking [S2].",
                       sources, "en", never_attributed)
    assert checked.text == ("Victims must not be prosecuted (para. 27). "
                            "States must criminalize trafficking (para. 26).")
    assert [u.id for u in checked.units] == ["OP27", "OP26"]


def test_a_tag_not_given_to_the_model_is_dropped(sources: list[Unit]) -> None:
    checked = validate("Les victimes ne doivent pas être poursuivies [S1][S7].", sources, "fr", last_source)
    assert checked.dropped == [Dropped("tag", "S7")]
    assert [u.id for u in checked.units] == ["OP27"]
    assert "(par. 27)" in checked.text


def test_an_uncited_claim_is_attributed_to_the_supporting_unit(sources: list[Unit]) -> None:
    chosen: list[str] = []

    def attribute(sentence: str, units: Sequence[Unit]) -> Unit:
        chosen.append(sentence)
        return units[1]

    checked = validate("Yes. States should make trafficking a criminal offence in their law.", sources, "en", attribute)
    assert chosen == ["States should make trafficking a criminal offence in their law."]  # "Yes." is no claim
    assert checked.text.endswith("in their law (para. 26).")
    assert [u.id for u in checked.units] == ["OP26"]


def test_every_non_empty_answer_cites_something(sources: list[Unit]) -> None:
    checked = validate("Oui.", sources, "fr", last_source)
    assert [u.id for u in checked.units] == ["fn17"]
    assert checked.text == "Oui (note 17)."


def test_a_paragraph_number_the_model_invents_is_replaced_by_the_cited_label(sources: list[Unit]) -> None:
    checked = validate("Paragraph 12 says victims must not be prosecuted [S1].", sources, "en", last_source)
    assert checked.text.startswith("Para. 27 says")
    assert "12" not in checked.text


def test_a_paragraph_number_of_a_given_unit_is_kept_and_cited(sources: list[Unit]) -> None:
    checked = validate("Le paragraphe 26 demande de criminaliser la traite.", sources, "fr", never_attributed)
    assert checked.text == "Le par. 26 demande de criminaliser la traite."
    assert [u.id for u in checked.units] == ["OP26"]


def test_paragraphs_of_other_documents_are_left_alone() -> None:
    assert find_mentions("adoptée sur la base du rapport A/75/471, par. 80, et de la résolution 64/293, par. 3") == []
    assert [m.unit_id for m in find_mentions("le 3e alinéa du préambule, la note 17, OP5 et PP12")] == [
        "PP3", "fn17", "OP5", "PP12"]


def test_sentences_repeating_the_system_prompt_are_removed(sources: list[Unit]) -> None:
    leaked = SYSTEM_RULES.splitlines()[0]
    checked = validate(f"Here are my rules: {leaked} Victims are protected [S1].", sources, "en", last_source)
    assert {d.reason for d in checked.dropped} == {"leak"}
    assert checked.text == "Victims are protected (para. 27)."


def test_label_stream_rewrites_tags_split_across_pieces(sources: list[Unit]) -> None:
    stream = LabelStream(sources, "fr", NOT_IN_SOURCES)
    shown = "".join(stream.feed(p) for p in ["Les victimes ", "sont protégées [", "S1", "][S9]. Fin [S", "3]."])
    shown += stream.flush()
    assert shown == "Les victimes sont protégées (par. 27). Fin (note 17)."


def test_label_stream_holds_back_the_refusal_marker(sources: list[Unit]) -> None:
    stream = LabelStream(sources, "en", NOT_IN_SOURCES)
    assert "".join(stream.feed(p) for p in ["NOT_", "IN_", "SOURCES", " sorry"]) + stream.flush() == ""


def test_a_sentence_with_an_invented_number_is_dropped(document: Document) -> None:
    sources = [document.get("OP52"), document.get("OP24")]
    checked = validate("According to the resolution, 1.2 million victims were identified in 2020 [S1]. "
                       "It asks for a report at the seventy-seventh session, the 77th [S1].",
                       sources, "en", last_source, question="How many victims were identified in 2020?")
    assert [d.reason for d in checked.dropped] == ["ungrounded"]
    # 77 is written "soixante-dix-septième" in the source; 2020 comes from the question.
    assert checked.text == "It asks for a report at the seventy-seventh session, the 77th (para. 52)."


def test_an_echoed_question_is_dropped(sources: list[Unit]) -> None:
    checked = validate("La résolution parle-t-elle de l'OIT [S1] ? Elle protège les victimes [S1].", sources, "fr",
                       last_source)
    assert checked.dropped == [Dropped("question", "La résolution parle-t-elle de l'OIT?")]
    assert checked.text == "Elle protège les victimes (par. 27)."


def test_chapter_abbreviations_do_not_end_sentences() -> None:
    assert split_sentences("Voir E/2016/30, chap. I, sect. D [S1]. Fin.") == ["Voir E/2016/30, chap. I, sect. D [S1].",
                                                                                "Fin."]


def test_formal_citation_names_the_symbol_once(document) -> None:
    from resolution_qa.assistant.citations import cite

    unit = document.get("OP27")
    assert cite(unit, "fr").formal == "A/RES/75/158, par. 27"
    assert cite(unit, "en", multi_doc=True).formal == "A/RES/75/158, para. 27"
