"""Answers you can trust (issue 18): details the text lacks, names it never uses, footnotes followed, lists over
every unit, every written sentence verified; and English answers from English renderings (issue 19)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from resolution_qa.assistant import Assistant
from resolution_qa.core.strings import ui_text
from resolution_qa.ingest import Document
from resolution_qa.ingest.renderings import content_hash, file_name, with_renderings
from tests.fakes import FakeRetriever, ScriptedReader

OP27_EN = ("Urges Governments to take appropriate measures to ensure that victims of trafficking are protected from "
           "prosecution or punishment for acts they have been compelled to commit as a direct consequence of having "
           "been trafficked")


def ids(citations) -> list[str]:
    return [c.id for c in citations]


# --- the text does not say it -----------------------------------------------------------------------------------


@pytest.mark.parametrize("reads", [False, True], ids=["extractive", "llm"])
def test_a_date_the_text_does_not_give_is_declined_citing_the_paragraph_that_names_the_day(make_assistant,
                                                                                          reads: bool) -> None:
    assistant = make_assistant("The Day is on 30 July.", scores={"OP10": 0.95}) if reads else make_assistant()
    answer = assistant.ask("Quelle est la date de la Journée mondiale de la lutte contre la traite d'êtres humains ?")
    assert answer.refused, answer.text
    assert answer.text.startswith(ui_text("fr").not_given.format(what=ui_text("fr").details["date"]))
    assert "OP10" in ids(answer.citations) and "30" not in answer.text.split("\n")[0]


def test_a_question_about_something_the_resolution_never_names_is_declined(make_assistant) -> None:
    assistant = make_assistant("Sweden's law is praised.", scores={"OP22": 0.8})
    answer = assistant.ask("What does the resolution say about Sweden's 2022 law?")
    assert answer.refused and answer.citations == ()


def test_a_judge_sure_of_a_passage_overrides_a_word_the_text_does_not_use(make_assistant) -> None:
    question = "Que dit la résolution sur la cybercriminalité, le bitcoin et les victimes de la traite ?"
    assert make_assistant("Governments to protect victims.", default=0.6, first=0.6).ask(question).refused
    answer = make_assistant("Governments to protect victims.", default=0.97, first=0.97).ask(question)
    assert not answer.refused and answer.citations


@pytest.mark.parametrize("reads", [False, True], ids=["extractive", "llm"])
def test_one_name_the_resolution_never_uses_is_enough_to_decline(make_assistant, reads: bool) -> None:
    assistant = make_assistant("Victims are protected.", default=0.6, first=0.6) if reads else make_assistant()
    answer = assistant.ask("Que dit la résolution sur la traite des femmes au Pérou ?")
    assert answer.refused, answer.text


def test_a_false_premise_in_words_the_text_lacks_is_corrected_not_declined(make_assistant) -> None:
    # two words the text never uses ("sans-papiers", "rapatriement forcé" are not its words): that is the premise
    question = "Pourquoi la résolution impose-t-elle l'expulsion immédiate des victimes clandestines ?"
    answer = make_assistant("Les victimes sont protégées.", default=0.2, first=0.2, premise=0.1).ask(question)
    assert not answer.refused and answer.text.startswith(ui_text("fr").not_said), answer.text


def test_a_false_premise_is_corrected_with_the_passage_retrieval_ranks_first(make_assistant) -> None:
    # the judge's best answers "does it answer?", which nothing does for a false premise
    question = "Why does the resolution want victims punished for the acts they were compelled to commit?"
    found = [h.unit.id for h in make_assistant().prepare(question).result.found if h.unit.kind != "footnote"]
    top, second = found[:2]
    answer = make_assistant("Victims are protected.", scores={second: 0.95}, premise=0.1).ask(question)
    assert answer.text.startswith(ui_text("en").not_said) and [c.id for c in answer.citations] == [top]
    believed = make_assistant("Victims are protected.", scores={second: 0.95}, premise=0.9).ask(question)
    assert [c.id for c in believed.citations] == [second]  # a premise the passage supports: the judge's best


def test_a_bare_footnote_is_not_evidence_for_an_ordinary_question(make_assistant, document: Document) -> None:
    reader = ScriptedReader("Governments to protect victims.", scores={"OP27": 0.9})
    make_assistant(reader=reader).ask("What does the resolution say about protecting victims from prosecution?")
    judged = reader.judged[0][1]
    assert judged and not any(uid.startswith("fn") for uid in judged)


# --- footnotes followed ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("reads", [False, True], ids=["extractive", "llm"])
def test_a_paragraphs_reference_is_answered_from_its_footnote(make_assistant, document: Document, reads: bool) -> None:
    reader = ScriptedReader()
    assistant = make_assistant(reader=reader) if reads else make_assistant()
    answer = assistant.ask("What is the document symbol of the report referred to in paragraph 1?")
    note = document.get(document.get("OP1").footnotes[0])
    assert not answer.refused and ids(answer.citations) == ["OP1", note.id]
    assert answer.text == f"Para. 1 refers to {note.label('en')}: {note.source or note.text}".rstrip(".") + "."
    assert not reader.written and not reader.judged  # code answers it: nothing for the model to get wrong


def test_where_to_find_a_document_a_paragraph_names_is_answered_from_its_footnote(make_assistant,
                                                                                 document: Document) -> None:
    # No paragraph is named: the judge finds the paragraph that mentions the document, and its footnote answers.
    paragraph = next(u for u in document.units if u.kind != "footnote" and "25/1" in u.text and u.footnotes)
    note = document.get(paragraph.footnotes[0])
    reader = ScriptedReader("It was adopted by the Commission.", scores={paragraph.id: 0.95})
    answer = make_assistant(reader=reader).ask(
        "Où trouver la résolution 25/1 de la Commission pour la prévention du crime et la justice pénale ?")
    assert not answer.refused and ids(answer.citations)[:2] == [paragraph.id, note.id]
    assert (note.source or note.text).rstrip(".") in answer.text and not reader.written


def test_an_ibid_footnote_is_resolved(make_assistant, document: Document) -> None:
    ibid = next(u for u in document.units if u.kind == "footnote" and u.text.startswith("Ibid"))
    paragraph = document.referring_to(ibid.id)[0]
    answer = make_assistant().ask(f"Quelle est la source citée en note du {paragraph.label('fr')} ?")
    assert ibid.id in ids(answer.citations) and "Ibid" not in answer.text and ibid.source and ibid.source.rstrip(
        ".") in answer.text


@pytest.mark.parametrize("reads", [False, True], ids=["extractive", "llm"])
def test_the_resolutions_own_title_is_answered_from_its_header(make_assistant, reads: bool) -> None:
    reader = ScriptedReader("Trafficking in women and girls.", scores={"PP4": 0.95})
    answer = (make_assistant(reader=reader) if reads else make_assistant()).ask("What is this resolution's title?")
    assert not answer.refused and ids(answer.citations)[0] == "header", answer.text


# --- lists over every unit ---------------------------------------------------------------------------------------


def test_a_list_question_reads_every_unit_that_covers_its_topic(make_assistant, document: Document) -> None:
    covering = [u.id for u in document.units if u.kind != "footnote"
                and "hommes" in u.text.lower() and "garçons" in u.text.lower()]
    assert len(covering) >= 2
    reader = ScriptedReader("Men and boys.", "Men and boys.", default=0.9)
    answer = make_assistant(reader=reader).ask("Quels paragraphes mentionnent les hommes et les garçons ?")
    assert set(covering) <= set(reader.judged[0][1])
    assert set(covering) <= set(ids(answer.citations))
    extractive = make_assistant().ask("Quels paragraphes mentionnent les hommes et les garçons ?")
    assert set(covering) <= set(ids(extractive.citations))


def test_one_word_the_text_does_not_use_is_not_enough_to_decline(make_assistant) -> None:
    # "OIT" (the text spells out the Organisation internationale du Travail): an answerable dev question
    assert not make_assistant("the ILO conventions.", default=0.6, first=0.6).ask(
        "La résolution parle-t-elle de l'OIT et du travail forcé ?").refused


# --- every sentence verified ---------------------------------------------------------------------------------------


def test_a_sentence_the_verifier_does_not_vouch_for_is_replaced_by_its_clause(make_assistant) -> None:
    reader = ScriptedReader("Governments to guarantee the right to a fair trial.", scores={"OP27": 0.9}, support=0.1)
    answer = make_assistant(reader=reader).ask("What does paragraph 27 ask of Governments?")
    assert "fair trial" not in answer.text and ids(answer.citations) == ["OP27"]
    assert reader.verified and "#OP27" in reader.verified[0][1]
    vouched = ScriptedReader("Governments to protect victims from prosecution.", scores={"OP27": 0.9}, support=0.9)
    assert "protect victims from prosecution" in make_assistant(reader=vouched).ask(
        "What does paragraph 27 ask of Governments?").text


def test_a_number_written_as_words_that_the_source_lacks_is_not_shown(make_assistant) -> None:
    answer = make_assistant("the Assembly at its sixty-seventh session.").ask("Which session adopted the resolution?")
    assert "sixty-seventh" not in answer.text


# --- English answers from the English rendering ------------------------------------------------------------------


@pytest.fixture
def rendered(settings, document: Document) -> Document:
    """The bundled resolution, with OP27's rendering kept beside the index (where `resolution-qa translate` puts
    those it makes; they come before the repository's)."""
    op27 = document.get("OP27")
    assert op27 is not None
    folder = Path(settings.index_dir) / "translations"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / file_name(document.symbol, "en")
    path.write_text(json.dumps({"key": op27.key, "hash": content_hash(op27), "text": OP27_EN}) + "\n", encoding="utf-8")
    assert with_renderings([document], [folder])[0].get("OP27").text_in("en") == OP27_EN
    return document


def _assistant(settings, document: Document, reader: ScriptedReader | None = None) -> Assistant:
    s = settings.model_copy(update={"refusal_threshold": 0.05, "min_support": -1.0})
    backend = "llamacpp" if reader else "extractive"
    return Assistant(s, backend=backend, retriever=FakeRetriever(document), reader=reader)


def test_an_english_question_is_judged_and_written_from_the_english_rendering(settings, rendered: Document) -> None:
    reader = ScriptedReader("Governments to protect victims from prosecution.", scores={"OP27": 0.95})
    answer = _assistant(settings, rendered, reader).ask("What does paragraph 27 ask of Governments?")
    assert reader.read[0].lang == "en" and reader.read[0].text == OP27_EN
    assert ui_text("en").from_translation in answer.text
    assert "unofficial translation; original: “Engage instamment les gouvernements" in answer.text
    assert ids(answer.citations) == ["OP27"] and answer.citations[0].formal == "A/RES/75/158, para. 27"


def test_a_french_question_still_reads_and_quotes_the_official_french(settings, rendered: Document) -> None:
    reader = ScriptedReader("protéger les victimes.", scores={"OP27": 0.95})
    answer = _assistant(settings, rendered, reader).ask("Que demande le paragraphe 27 aux gouvernements ?")
    assert reader.read[0].lang == "fr" and "traduction non officielle" not in answer.text
    assert "Engage instamment les gouvernements" in answer.text


def test_the_extractive_answer_quotes_the_rendering_with_the_original(settings, rendered: Document) -> None:
    answer = _assistant(settings, rendered).ask("What does paragraph 27 say?")
    assert "protected from prosecution" in answer.text and "unofficial translation; original:" in answer.text


# --- the first question as fast as the tenth ---------------------------------------------------------------------


class WarmingReader(ScriptedReader):
    """A reader that keeps passage states: records what it was asked to read ahead."""

    def __init__(self) -> None:
        super().__init__()
        self.warmed: list[str] = []

    def warm(self, passages) -> int:
        fresh = [p.key for p in passages if p.key not in self.warmed]
        self.warmed += fresh
        return len(fresh)


def test_warm_reads_every_unit_once_in_each_language_it_has(settings, rendered: Document) -> None:
    reader = WarmingReader()
    assistant = _assistant(settings, rendered, reader)
    seen: list[tuple[int, int]] = []
    built = assistant.warm(lambda done, total: seen.append((done, total)))
    english = sum(1 for d in assistant.documents for u in d.units if u.lang_of("en") == "en")
    units = len(rendered.units) + english
    assert english >= 1 and built == units  # every unit in French, and each in its English rendering too
    assert "A/RES/75/158#OP27@en" in reader.warmed and seen[-1] == (units, units)
    assert assistant.warm() == 0  # kept: nothing is read twice
    assert _assistant(settings, rendered).warm() == 0  # the extractive backend has nothing to read ahead
