"""The text signals of assistant/evidence.py: what a question asks for, what a passage holds, and its wording."""

from __future__ import annotations

import pytest

from resolution_qa.assistant import evidence
from resolution_qa.assistant.evidence import (
    asked_for,
    asks_about_references,
    asks_for_a_list,
    build_vocabulary,
    foreign_terms,
    holds,
    lacks,
    presupposes,
)
from resolution_qa.eval.dataset import CALIBRATION_PATH, DATA_DIR, DEV_PATH, EvalItem, load_dataset
from resolution_qa.ingest import Document

DETAIL = set(evidence.KINDS) - {evidence.PARAGRAPHS, evidence.REFERENCE}


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("On what date is the World Day against Trafficking in Persons observed?", "date"),
        ("Quel jour célèbre-t-on la Journée mondiale de la lutte contre la traite ?", "date"),
        ("In what year was the Nansen Initiative launched?", "year"),
        ("En quelle année la Déclaration de Doha a-t-elle été adoptée ?", "year"),
        ("How much money goes to the voluntary trust fund?", "number"),
        ("Quel montant les États doivent-ils verser au fonds ?", "number"),
        ("What percentage of victims are children?", "proportion"),
        ("Quelle proportion des victimes sont des hommes ?", "proportion"),
        ("How long may victims stay at the disposal of the courts?", "duration"),
        ("Dans quel délai les plans nationaux doivent-ils être adoptés ?", "duration"),
        ("Who is the Special Rapporteur on contemporary forms of slavery?", "person"),
        ("Comment s'appelle la Rapporteuse spéciale ?", "person"),
        ("Which countries have signed the Khartoum Declaration?", "states"),
        ("Quels pays participent au Processus de Bali ?", "states"),
        ("How many States voted in favour?", "vote"),
        ("Y a-t-il eu des abstentions lors du vote ?", "vote"),
        ("Which countries sponsored this resolution?", "sponsors"),
        ("Qui sont les coauteurs du projet de résolution ?", "sponsors"),
        ("What did the Secretary-General's report conclude?", "document"),
        ("Quelles recommandations contient le rapport A/75/289 ?", "document"),
        ("What does the UK Modern Slavery Act 2015 require of companies?", "law"),
        ("Que dit la loi belge de 2022 sur le travail du sexe ?", "law"),
        ("Which volume of the Treaty Series does footnote 4 give?", "reference"),
        ("Quel numéro de vente la note 10 donne-t-elle ?", "reference"),
        ("Which paragraphs mention COVID-19?", "paragraphs"),
    ],
)
def test_asked_for_names_the_kind_in_both_languages(question: str, kind: str) -> None:
    assert kind in asked_for(question)


@pytest.mark.parametrize(
    "question",
    [
        "What does the resolution say about the World Day against Trafficking in Persons?",
        "Que demande la résolution au sujet des codes de déontologie ?",
        "Does the resolution mention women and girls with disabilities?",
    ],
)
def test_an_ordinary_lookup_asks_for_no_detail(question: str) -> None:
    assert not asked_for(question) & DETAIL


def test_counting_paragraphs_and_years_are_not_amounts() -> None:
    assert "number" not in asked_for("Combien de paragraphes compte le dispositif ?")
    assert asked_for("How many years do governments have to criminalize trafficking?") & DETAIL == {"duration"}


def test_holds_reads_the_units(document: Document) -> None:
    text = {u.id: u.text for u in document}
    assert holds(text["header"], "date")  # 16 décembre 2020
    assert holds(text["PP16"], "date") and holds(text["PP16"], "year")  # 1er juillet 2002
    assert not holds(text["OP10"], "date")  # the World Day, named without its date
    assert not holds(text["OP10"], "year")
    assert not holds(text["OP51"], "number")  # the voluntary funds, no amount
    assert not holds(text["OP52"], "number")  # "soixante-dix-septième session" is an ordinal, not an amount
    assert not holds(text["PP15"], "person") and not holds(text["header"], "vote")
    assert holds(text["PP10"], "states")  # "Marrakech (Maroc)"
    assert not holds(text["OP8"], "states")  # the Khartoum Declaration, no signatories
    assert holds(text["fn4"], "reference") and holds(text["fn17"], "reference")


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        ("adoptée par 120 voix contre 5, avec 3 abstentions", "vote", True),
        ("adopted without a vote", "vote", True),
        ("Mme Siobhán Mullally, Rapporteuse spéciale", "person", True),
        ("la Rapporteuse spéciale sur la traite", "person", False),
        ("25 % des victimes détectées", "proportion", True),
        ("within 5 years of its entry into force", "duration", True),
        ("le fonds a reçu 3 millions de dollars", "number", True),
        ("la Convention de 1999 (n° 182)", "number", False),
        ("the Modern Slavery Act 2015", "law", True),
        ("la législation du travail", "law", False),
        ("tenue à Vienne du 12 au 16 octobre 2020", "date", True),
    ],
)
def test_holds_on_written_values(text: str, kind: str, expected: bool) -> None:
    assert holds(text, kind) is expected


def test_holds_rejects_an_unknown_kind() -> None:
    with pytest.raises(ValueError, match="unknown kind 'colour'"):
        holds("text", "colour")


def test_lacks_gives_the_answer_shape(document: Document) -> None:
    op10, header = document.get("OP10"), document.get("header")
    assert op10 is not None and header is not None
    assert lacks("On what date is the World Day observed?", op10.text) == {"date"}
    assert lacks("Quand la résolution a-t-elle été adoptée ?", header.text) == set()


@pytest.mark.parametrize(
    "question",
    [
        "Which paragraphs mention men and boys?",
        "List every paragraph that refers to the Special Rapporteur.",
        "Where does the resolution talk about forced marriage?",
        "How many paragraphs mention the Nansen Initiative?",
        "Quels paragraphes évoquent la pandémie de COVID-19 ?",
        "Dans quels alinéas du préambule est-il question de migration ?",
        "Où le texte aborde-t-il les stéréotypes de genre ?",
        "Liste les paragraphes qui parlent de formation.",
    ],
)
def test_list_questions(question: str) -> None:
    assert asks_for_a_list(question)


@pytest.mark.parametrize(
    "question",
    [
        "Which paragraph asks governments to make migration and labour laws consistent?",
        "What does paragraph 27 say?",
        "Où la résolution dit-elle que la traite ne concerne que l'exploitation sexuelle ?",
        "Où trouver la résolution 25/1 ?",
        "Combien de paragraphes compte le dispositif de la résolution ?",
        "Quel paragraphe invite les gouvernements à créer un mécanisme national ?",
    ],
)
def test_one_answer_questions_are_not_lists(question: str) -> None:
    assert not asks_for_a_list(question)


@pytest.mark.parametrize(
    "question",
    [
        "Where does the resolution state that it was adopted at the seventy-fourth session?",
        "Which paragraph decides to set up a new UN trust fund?",
        "Since the resolution sets a target of halving trafficking by 2030, how is it measured?",
        "A colleague told me it was adopted on 10 December 2020. Is that the date?",
        "As the resolution says, trafficking mainly affects developed countries; which paragraph is that?",
        "The Assembly 'demands' in paragraph 5 that all States ratify CEDAW, doesn't it?",
        "Given that the resolution falls under agenda item 72, which committee handled it?",
        "Où la résolution dit-elle qu'elle a été adoptée sur le rapport de la Sixième Commission ?",
        "Un collègue m'a dit que la résolution relevait du point 70 de l'ordre du jour. C'est bien ça ?",
        "Puisque la résolution décide que les États doivent célébrer la Journée mondiale, quelles sanctions ?",
        "Le paragraphe 14 reconnaît le droit à un procès équitable ; où exactement ?",
        "D'après une ONG, le paragraphe 46 confie le Rapport mondial à ONU-Femmes. Est-ce juste ?",
        "Quel paragraphe exige que tous les États ratifient la Convention de 1949 d'ici 2025 ?",
    ],
)
def test_premises_in_any_wording(question: str) -> None:
    assert presupposes(question)


@pytest.mark.parametrize(
    "question",
    [
        "What does the resolution say about codes of conduct?",
        "Which paragraphs mention COVID-19?",
        "On what date was resolution 75/158 adopted?",
        "Where does the resolution talk about forced marriage?",
        "Que demande la résolution au sujet des codes de déontologie ?",
        "Où le texte aborde-t-il les stéréotypes de genre ?",
        "Quel paragraphe invite les gouvernements à créer un mécanisme national ?",
        "La résolution parle-t-elle de l'OIT ?",
    ],
)
def test_ordinary_questions_take_nothing_for_granted(question: str) -> None:
    assert not presupposes(question)


def test_references() -> None:
    assert asks_about_references("Which volume of the Treaty Series does the footnote give for CEDAW?")
    assert asks_about_references("Quelle est la cote du rapport du Secrétaire général ?")
    assert asks_about_references("Que contient le rapport A/75/169 ?")
    assert not asks_about_references("What does the resolution say about the World Day?")
    assert not asks_about_references("On what date was resolution 75/158 adopted?")


@pytest.fixture(scope="module")
def vocabulary(document: Document) -> evidence.Vocabulary:
    return build_vocabulary(u.text for u in document)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What does the resolution say about Sweden's model?", ["Sweden"]),
        ("Que dit la résolution sur la loi belge de 2022 ?", ["belge", "2022"]),
        ("How many victims were rescued in the United States?", ["United States"]),
        ("What did the Security Council decide in resolution 2331?", ["Security Council"]),
        ("Quelle est la situation de la traite au Brésil ?", ["Brésil"]),
    ],
)
def test_foreign_terms_name_what_the_text_never_mentions(
    question: str, expected: list[str], vocabulary: evidence.Vocabulary
) -> None:
    assert foreign_terms(question, vocabulary) == expected


@pytest.mark.parametrize(
    "question",
    [
        "What does the resolution say about the World Day against Trafficking in Persons?",
        "Does the resolution ask States to ratify the Palermo Protocol?",  # a name the text does not use, mapped
        "Which paragraphs mention the Khartoum Declaration and the Horn of Africa?",
        "Que dit le texte sur la Declaration de Khartoum ?",  # accent-blind
        "Quels paragraphes parlent des hommes et des garçons ?",
        "La résolution parle-t-elle de l'OIT et de l'ONUDC ?",
    ],
)
def test_words_the_text_uses_are_not_foreign(question: str, vocabulary: evidence.Vocabulary) -> None:
    assert foreign_terms(question, vocabulary) == []


def _dev_items(document: Document) -> list[EvalItem]:
    paths = (DEV_PATH, DATA_DIR / "blind_dev.jsonl", CALIBRATION_PATH)
    return [item for path in paths for item in load_dataset(path, document=document).items]


def _premise(item: EvalItem) -> bool:
    adversarial = item.type == "adversarial" and item.answerable and item.note.startswith(("False premise", "Leading"))
    return item.type == "false_premise" or adversarial


def test_signals_hold_their_measured_floors_on_the_dev_splits(document: Document, vocabulary: evidence.Vocabulary) -> None:
    """The numbers in evidence.py's "Measured" comment, as floors a change must keep (dev splits only)."""
    items = _dev_items(document)
    lists = [asks_for_a_list(i.question) for i in items]
    truth = [i.type == "list" for i in items]
    assert sum(p and t for p, t in zip(lists, truth, strict=True)) == sum(truth) == 24
    assert sum(p and not t for p, t in zip(lists, truth, strict=True)) == 0
    flagged = [presupposes(i.question) for i in items]
    premises = [_premise(i) for i in items]
    hits = sum(p and t for p, t in zip(flagged, premises, strict=True))
    assert hits / sum(premises) >= 0.95 and hits / sum(flagged) >= 0.9
    text = {u.id: u.text for u in document}
    for item in items:  # an answerable detail question's gold passage holds the detail: no false "it does not say"
        kinds = asked_for(item.question) & DETAIL
        if item.answerable and kinds:
            assert all(any(holds(text[g], k) for g in item.gold) for k in kinds), item.id
    answerable = [i for i in items if i.answerable and not _premise(i)]
    assert sum(bool(foreign_terms(i.question, vocabulary)) for i in answerable) <= 6


@pytest.mark.parametrize(("question", "itself"), [
    ("When did the General Assembly adopt this resolution?", True),
    ("Quel est l'intitulé exact de la résolution A/RES/75/158 ?", True),
    ("Sous quel point de l'ordre du jour ce texte a-t-il été examiné ?", True),
    ("Which committee's report is it based on?", True),
    ("What does it ask the private sector to adopt?", False),
    ("At which session did the Commission on Crime Prevention adopt resolution 25/1?", False),
    ("Quel numéro de vente la note donne-t-elle pour le rapport ?", False),
])
def test_a_question_about_the_resolutions_own_record(question: str, itself: bool) -> None:
    assert evidence.asks_about_the_resolution_itself(question, own=["A/RES/75/158"]) is itself
