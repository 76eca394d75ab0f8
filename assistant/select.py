"""Which retrieved units an answer may cite and quote, and when it declines: the one place that decides, for every
backend (select, before reading) and for the judge's verdict (decide, after it)."""

from __future__ import annotations

from collections.abc import Sequence

from resolution_qa.core.settings import AnswerSettings
from resolution_qa.ingest.units import Document, Unit
from resolution_qa.vectorstore.links import related
from resolution_qa.vectorstore.types import RetrievalResult

from .policy import JUDGED, JUDGED_LIST, Decision, asks_for_a_list, takes_for_granted
from .policy import decide as judge_decision
from .state import QuestionState

#: Units an extractive answer may rest on and quote (more buries the answer among quotes).
CITED_UNITS = 3
#: Footnotes of an explicitly named paragraph quoted with it.
CITED_FOOTNOTES = 3
#: How close to the best ranked unit (dense cosine) another must be to be quoted by an extractive answer.
QUOTED_MARGIN = 0.05
#: Units offered with a refusal.
SUGGESTIONS = 3


def select(state: QuestionState, documents: Sequence[Document], settings: AnswerSettings, *, judged: bool) -> None:
    """Fill what the answer may rest on: the extractive choice (every backend's fallback), the judge's candidates
    (`judged`: an LLM backend reads them), the units offered with a refusal; without a judge, decline here."""
    result = state.result
    assert result is not None
    state.listing = asks_for_a_list(state.asked)
    state.context = _context(result, documents)
    state.quoted = _quoted(result, state.context)
    state.closest = [h.unit for h in result.found][:SUGGESTIONS]
    if judged:
        state.candidates, state.candidate_dense = _candidates(result, JUDGED_LIST if state.listing else JUDGED)
    else:
        state.refused = _not_addressed(result, settings.refusal_threshold)


def decide(state: QuestionState, scores: Sequence[float], settings: AnswerSettings) -> None:
    """The judge's verdict on the candidates: keep those it believes, best first, or decline (named paragraphs are
    always kept; a false premise on a subject the text covers keeps the best one, to say what the text does say)."""
    candidates, dense = state.candidates, state.candidate_dense
    state.scores = dict(zip((u.key for u in candidates), scores, strict=True))
    if any(u.id in state.named for u in candidates):
        state.kept = [u for u in candidates if u.id in state.named]
        return
    decision = judge_decision(list(scores), dense, listing=state.listing, settings=settings)
    covered = max((d or 0.0 for d in dense), default=0.0) >= settings.refusal_threshold
    if decision.declined and covered and takes_for_granted(state.asked):
        decision = Decision(decision.answerable, (max(range(len(scores)), key=lambda i: scores[i]),))
    state.kept = [candidates[i] for i in decision.kept]
    state.refused = not state.kept


def _not_addressed(result: RetrievalResult, threshold: float) -> bool:
    """Without a judge: the question is too far from every passage (dense similarity below the threshold)."""
    if result.references:
        return False  # a paragraph the user named always exists by now (else: out of range)
    if not result.hits:
        return True
    return result.best_dense is not None and result.best_dense < threshold


def _context(result: RetrievalResult, documents: Sequence[Document]) -> list[Unit]:
    """What an extractive answer rests on, best first: the named units (+ their links), else the top ranked."""
    named = [h.unit for h in result.named][:CITED_UNITS]
    if named:
        # A named unit's links answer questions about it ("which report does paragraph 1 note?"):
        # a paragraph's footnotes, a footnote's paragraph and the source of its "Ibid.".
        by_symbol = {d.symbol: d for d in documents}
        linked = [u for unit in named for u in related(unit, by_symbol[unit.doc]) if u not in named]
        return named + list(dict.fromkeys(linked))[:CITED_FOOTNOTES]
    return [h.unit for h in result.ranked or result.hits][:CITED_UNITS]


def _quoted(result: RetrievalResult, context: list[Unit]) -> list[Unit]:
    """What an extractive answer quotes: the named units with their links (whole), else the top ranked units
    close to the best one."""
    if result.named:
        return list(context)
    ranked = result.ranked or result.hits
    if not ranked:
        return []
    best = ranked[0].dense if ranked[0].dense is not None else ranked[0].score
    return [
        h.unit
        for h in ranked[:CITED_UNITS]
        if (h.dense if h.dense is not None else h.score) >= best - QUOTED_MARGIN
    ]


def _candidates(result: RetrievalResult, limit: int) -> tuple[list[Unit], list[float | None]]:
    """The units the judge reads: named ones first, then the ranking, then the links (each unit once)."""
    seen: set[str] = set()
    units: list[Unit] = []
    dense: list[float | None] = []
    for hit in (*result.found, *result.linked):
        if hit.unit.key in seen:
            continue
        seen.add(hit.unit.key)
        units.append(hit.unit)
        dense.append(hit.dense)
    return units[:limit], dense[:limit]
