"""select.py, the one place that decides what an answer may cite and quote, and when it declines."""

from __future__ import annotations

from resolution_qa.assistant.select import CITED_UNITS, QUOTED_MARGIN, decide, select
from resolution_qa.assistant.state import QuestionState
from resolution_qa.core.refs import find_references
from resolution_qa.core.settings import Settings
from resolution_qa.ingest import Document
from resolution_qa.vectorstore.types import Hit, RetrievalResult

ANSWER = Settings(_env_file=None).answer


def _state(document: Document, hits: list[tuple[str, str, float | None]], best_dense: float | None = 0.6,
           question: str = "Que dit la résolution ?") -> QuestionState:
    state = QuestionState(question=question, history=[])
    built = tuple(Hit(unit=document.get(uid), score=dense or 1.0, via=via, dense=dense)  # type: ignore[arg-type]
                  for uid, via, dense in hits)
    state.result = RetrievalResult(query=question, hits=built, best_dense=best_dense,
                                   references=tuple(find_references(question)))
    state.named = frozenset(h.unit.id for h in state.result.named)
    return state


def test_a_named_paragraph_is_quoted_whole_with_its_footnotes_and_never_declined(document: Document) -> None:
    op1 = document.get("OP1")
    assert op1 is not None and op1.footnotes  # paragraph 1 takes note of a report, in a footnote
    state = _state(document, [("OP1", "reference", None), ("OP27", "ranked", 0.2)], best_dense=0.0,
                   question="Que dit le paragraphe 1 ?")
    select(state, [document], ANSWER, judged=False)
    assert [u.id for u in state.context] == ["OP1", *op1.footnotes[:3]]
    assert state.quoted == state.context and not state.refused
    select(state, [document], ANSWER, judged=True)
    assert state.candidates[0].id == "OP1"


def test_ranked_units_are_quoted_when_close_to_the_best(document: Document) -> None:
    hits = [("OP27", "ranked", 0.60), ("OP26", "ranked", 0.60 - QUOTED_MARGIN / 2), ("OP12", "ranked", 0.40),
            ("OP5", "ranked", 0.39)]
    state = _state(document, hits)
    select(state, [document], ANSWER, judged=False)
    assert [u.id for u in state.context] == ["OP27", "OP26", "OP12"][:CITED_UNITS]
    assert [u.id for u in state.quoted] == ["OP27", "OP26"]
    assert [u.id for u in state.closest] == ["OP27", "OP26", "OP12"]
    assert not state.refused


def test_without_a_judge_a_question_far_from_every_passage_is_declined(document: Document) -> None:
    state = _state(document, [("OP27", "ranked", 0.1)], best_dense=ANSWER.refusal_threshold - 0.01)
    select(state, [document], ANSWER, judged=False)
    assert state.refused
    judged = _state(document, [("OP27", "ranked", 0.1)], best_dense=ANSWER.refusal_threshold - 0.01)
    select(judged, [document], ANSWER, judged=True)
    assert not judged.refused and [u.id for u in judged.candidates] == ["OP27"]  # the judge decides


def test_the_judge_keeps_what_it_believes_or_declines(document: Document) -> None:
    state = _state(document, [("OP27", "ranked", 0.6), ("OP26", "ranked", 0.5)])
    select(state, [document], ANSWER, judged=True)
    decide(state, [0.95, 0.05], ANSWER)
    assert [u.id for u in state.kept] == ["OP27"] and not state.refused
    decide(state, [0.01, 0.01], ANSWER)
    assert state.kept == [] and state.refused


def test_a_named_paragraph_is_kept_whatever_the_judge_says(document: Document) -> None:
    state = _state(document, [("OP27", "reference", None), ("OP26", "ranked", 0.5)], question="Et le par. 27 ?")
    select(state, [document], ANSWER, judged=True)
    decide(state, [0.0, 0.99], ANSWER)
    assert [u.id for u in state.kept] == ["OP27"] and not state.refused
