"""How answers cite: labels and formal citations, sentences that are not cut after "par.", mentions in prose."""

from __future__ import annotations

from resolution_qa.assistant.citations import cite, split_sentences
from resolution_qa.core.refs import find_mentions
from resolution_qa.ingest import Document


def test_sentences_are_not_cut_after_paragraph_labels() -> None:
    text = "Le par. 27 demande ceci [S1]. Voir A/75/471, par. 80. Les U.N. Member States agree. [S2] Fin."
    assert split_sentences(text) == [
        "Le par. 27 demande ceci [S1].",
        "Voir A/75/471, par. 80.",
        "Les U.N. Member States agree.",
        "[S2] Fin.",
    ]


def test_chapter_abbreviations_do_not_end_sentences() -> None:
    assert split_sentences("Voir E/2016/30, chap. I, sect. D [S1]. Fin.") == ["Voir E/2016/30, chap. I, sect. D [S1].",
                                                                                "Fin."]


def test_paragraphs_of_other_documents_are_left_alone() -> None:
    assert find_mentions("adoptée sur la base du rapport A/75/471, par. 80, et de la résolution 64/293, par. 3") == []
    assert [m.unit_id for m in find_mentions("le 3e alinéa du préambule, la note 17, OP5 et PP12")] == [
        "PP3", "fn17", "OP5", "PP12"]


def test_formal_citation_names_the_symbol_once(document: Document) -> None:
    unit = document.get("OP27")
    assert cite(unit, "fr").formal == "A/RES/75/158, par. 27"
    assert cite(unit, "en", multi_doc=True).formal == "A/RES/75/158, para. 27"
