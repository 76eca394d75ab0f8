"""Score a run's predictions against the question set: per-item scores, grouped aggregates, failures."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from resolution_qa.assistant.language import answer_language
from resolution_qa.assistant.types import Answer
from resolution_qa.core.refs import Lang, find_mentions
from resolution_qa.ingest.units import Document

from .dataset import ITEM_TYPES, EvalItem
from .metrics import (
    Percentiles,
    RefusalScore,
    TradeoffPoint,
    citation_score,
    hit_at_k,
    mean,
    missing_groups,
    percentiles,
    recall_at_k,
    reciprocal_rank,
    refusal_score,
    threshold_sweep,
)
from .predictions import AnswerPrediction, RetrievalPrediction, RunConfig

KS: tuple[int, ...] = tuple(range(1, 11))  # recall@1..10 (the curve); hit@k at HIT_KS
HIT_KS: tuple[int, ...] = (1, 5, 10)
SWEEP = tuple(round(0.01 * i, 2) for i in range(0, 101))  # refusal thresholds 0.00 .. 1.00

# --- per item ------------------------------------------------------------------------------------


class RetrievalItemScore(BaseModel):
    """One retrieval system on one answerable item."""

    model_config = ConfigDict(frozen=True)

    item_id: str
    system: str
    type: str
    lang: Lang
    query_source: str
    recall: dict[int, float]  # k -> capped recall@k
    hit: dict[int, float]
    rr: float
    context_recall: float | None  # ours: ranked + expansions at the configured k
    seconds: float
    top5: list[str]  # ids in the top 5 slots, for the failure list
    error: str | None


class AnswerItemScore(BaseModel):
    """One answer backend on one item (its last turn)."""

    model_config = ConfigDict(frozen=True)

    item_id: str
    backend: str
    type: str
    lang: Lang
    answerable: bool
    correct: bool  # must-groups met (answerable) or refused (unanswerable)
    refused: bool
    missing: list[list[str]]
    cited: list[str]
    citation_precision: float | None
    citation_recall: float | None  # answerable items only
    invalid_citations: list[str]  # why each bad citation is bad
    invented_references: list[str]  # formal citations in the text naming units that do not exist
    language: Lang | None  # detected from the answer's own words
    declared_language: Lang | None
    retrieval_s: float | None
    first_token_s: float | None
    shown_s: float | None = None  # first visible text: the passages, shown before the answer
    total_s: float | None
    fallback: bool = False  # the backend failed and the extractive answer stood in (Answer.backend differs)
    notice: str | None = None  # what the assistant said about how it answered
    error: str | None


# --- aggregates ----------------------------------------------------------------------------------


class RetrievalAggregate(BaseModel):
    model_config = ConfigDict(frozen=True)

    n: int
    recall: dict[int, float | None]
    hit: dict[int, float | None]
    mrr: float | None
    context_recall: float | None
    errors: int
    latency: Percentiles


class AnswerAggregate(BaseModel):
    model_config = ConfigDict(frozen=True)

    n: int
    n_answerable: int
    accuracy: float | None  # share of items answered right (unanswerable: refused)
    coverage: float | None = None  # share of items not declined
    selective_accuracy: float | None = None  # right answers among those not declined (an answered unanswerable is wrong)
    correctness: float | None  # must-groups met, answerable items
    citation_precision: float | None  # answerable items that cite something
    citation_recall: float | None  # answerable items
    citations: int
    invalid_citations: int
    invalid_citation_share: float | None
    invented_references: int
    refusal: RefusalScore
    language_match: float | None  # detected language of the answer == question language
    declared_language_match: float | None
    errors: int
    fallbacks: int  # answers the extractive fallback gave instead of the requested backend
    latency_retrieval: Percentiles
    latency_first_token: Percentiles
    latency_shown: Percentiles | None = None
    latency_total: Percentiles


A = TypeVar("A", bound=BaseModel)
S = TypeVar("S", RetrievalItemScore, AnswerItemScore)


class Grouped(BaseModel, Generic[A]):
    """An aggregate overall, by item type and by question language."""

    overall: A
    by_type: dict[str, A]
    by_lang: dict[str, A]


class ItemFailure(BaseModel):
    """What went wrong on one item, per system or backend."""

    item_id: str
    type: str
    lang: Lang
    question: str
    gold: list[str]
    problems: list[str]


class Report(BaseModel):
    """Every number of a run (report.json)."""

    config: RunConfig
    finished_at: str = Field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    n_items: int
    n_answerable: int
    retrieval: dict[str, Grouped[RetrievalAggregate]]
    answers: dict[str, Grouped[AnswerAggregate]]
    tradeoff_system: str | None
    tradeoff: list[TradeoffPoint]
    failures: list[ItemFailure]
    notes: list[str]
    retrieval_items: list[RetrievalItemScore]
    answer_items: list[AnswerItemScore]


# --- scoring ------------------------------------------------------------------------------------


def score_retrieval(item: EvalItem, pred: RetrievalPrediction, *, k_context: int) -> RetrievalItemScore:
    gold = list(item.gold)
    context_recall = None
    if pred.context:
        context_recall = len(set(pred.context) & set(gold)) / min(len(gold), k_context)
    return RetrievalItemScore(
        item_id=item.id,
        system=pred.system,
        type=item.type,
        lang=item.lang,
        query_source=pred.query_source,
        recall={k: recall_at_k(pred.ranking, gold, k) for k in KS},
        hit={k: hit_at_k(pred.ranking, gold, k) for k in HIT_KS},
        rr=reciprocal_rank(pred.ranking, gold),
        context_recall=context_recall,
        seconds=pred.seconds,
        top5=list(dict.fromkeys(uid for slot in pred.ranking[:5] for uid in slot)),
        error=pred.error,
    )


def invented_references(text: str, document: Document) -> list[str]:
    """Formal citations ("A/RES/75/158, par. 60") in an answer's text that name no unit of the document."""
    bad: list[str] = []
    for mention in find_mentions(text, own={document.symbol}):
        written = text[mention.start : mention.end]
        if written.startswith(document.symbol) and document.get(mention.unit_id) is None:
            bad.append(written)
    return bad


def invalid_citations(answer: Answer, document: Document) -> list[str]:
    """Citations that do not match the document: unknown id, wrong symbol, wrong label or altered text."""
    bad: list[str] = []
    for c in answer.citations:
        unit = document.get(c.id)
        if unit is None:
            bad.append(f"{c.id}: no such unit")
        elif c.doc != document.symbol:
            bad.append(f"{c.id}: document {c.doc!r}, expected {document.symbol!r}")
        elif c.label != unit.label(answer.language):
            bad.append(f"{c.id}: label {c.label!r}, expected {unit.label(answer.language)!r}")
        elif c.text != unit.text:
            bad.append(f"{c.id}: text differs from the unit's text")
    return bad


def score_answer(item: EvalItem, pred: AnswerPrediction, document: Document) -> AnswerItemScore:
    final = pred.final
    base = {"item_id": item.id, "backend": pred.backend, "type": item.type, "lang": item.lang,
            "answerable": item.answerable}
    if final is None:
        return AnswerItemScore(
            **base, correct=False, refused=False, missing=[list(g) for g in item.must], cited=[],
            citation_precision=None, citation_recall=0.0 if item.answerable else None, invalid_citations=[],
            invented_references=[], language=None, declared_language=None, retrieval_s=None, first_token_s=None,
            total_s=None, error=pred.error or "no answer",
        )
    cited = list(dict.fromkeys(c.id for c in final.citations))
    missing = [list(g) for g in missing_groups(final.text, item.must)] if item.answerable else []
    correct = (not final.refused and not missing) if item.answerable else final.refused
    cs = citation_score(cited, item.gold) if item.answerable else None
    return AnswerItemScore(
        **base,
        correct=correct,
        refused=final.refused,
        missing=missing,
        cited=cited,
        citation_precision=cs.precision if cs else None,
        citation_recall=cs.recall if cs else None,
        invalid_citations=invalid_citations(final, document),
        invented_references=invented_references(final.text, document),
        language=answer_language(final.text),
        declared_language=final.language,
        retrieval_s=final.timings.retrieval,
        first_token_s=final.timings.first_token,
        shown_s=final.timings.shown,
        total_s=final.timings.total,
        fallback=final.backend != pred.backend,
        notice=final.notice,
        error=None,
    )


def _share(flags: Iterable[bool]) -> float | None:
    values = list(flags)
    return sum(values) / len(values) if values else None


def aggregate_retrieval(scores: Sequence[RetrievalItemScore]) -> RetrievalAggregate:
    return RetrievalAggregate(
        n=len(scores),
        recall={k: mean(s.recall[k] for s in scores) for k in KS},
        hit={k: mean(s.hit[k] for s in scores) for k in HIT_KS},
        mrr=mean(s.rr for s in scores),
        context_recall=mean(s.context_recall for s in scores),
        errors=sum(1 for s in scores if s.error),
        latency=percentiles(s.seconds for s in scores),
    )


def aggregate_answers(scores: Sequence[AnswerItemScore]) -> AnswerAggregate:
    answerable = [s for s in scores if s.answerable]
    citations = sum(len(s.cited) for s in scores)
    invalid = sum(len(s.invalid_citations) for s in scores)
    answered = [s for s in scores if s.error is None]
    given = [s for s in scores if not s.refused]
    return AnswerAggregate(
        n=len(scores),
        n_answerable=len(answerable),
        accuracy=_share(s.correct for s in scores),
        coverage=_share(not s.refused for s in scores),
        selective_accuracy=_share(s.correct for s in given),
        correctness=_share(s.correct for s in answerable),
        citation_precision=mean(s.citation_precision for s in answerable),
        citation_recall=mean(s.citation_recall for s in answerable),
        citations=citations,
        invalid_citations=invalid,
        invalid_citation_share=invalid / citations if citations else None,
        invented_references=sum(len(s.invented_references) for s in scores),
        refusal=refusal_score((s.refused, s.answerable) for s in scores),
        language_match=_share(s.language == s.lang for s in answered),
        declared_language_match=_share(s.declared_language == s.lang for s in answered),
        errors=len(scores) - len(answered),
        fallbacks=sum(1 for s in scores if s.fallback),
        latency_retrieval=percentiles(s.retrieval_s for s in answered),
        latency_first_token=percentiles(s.first_token_s for s in answered),
        latency_shown=percentiles(s.shown_s for s in answered),
        latency_total=percentiles(s.total_s for s in answered),
    )


def group(
    scores: Sequence[S], aggregate: Callable[[Sequence[S]], A]
) -> Grouped[A]:
    by_type = {t: aggregate([s for s in scores if s.type == t]) for t in ITEM_TYPES if any(s.type == t for s in scores)}
    by_lang = {g: aggregate([s for s in scores if s.lang == g]) for g in ("fr", "en") if any(s.lang == g for s in scores)}
    return Grouped[A](overall=aggregate(scores), by_type=by_type, by_lang=by_lang)


def _retrieval_problem(score: RetrievalItemScore, item: EvalItem) -> str | None:
    if score.error:
        return f"{score.system}: raised {score.error}"
    if score.recall[5] >= 1.0:
        return None
    missed = [g for g in item.gold if g not in score.top5]
    got = ", ".join(score.top5[:8]) + (f" and {len(score.top5) - 8} more" if len(score.top5) > 8 else "")
    return f"{score.system}: missed {', '.join(missed)} in the top 5 (got {got or 'nothing'})"


def _answer_problems(score: AnswerItemScore) -> list[str]:
    b = score.backend
    if score.error:
        return [f"{b}: raised {score.error}"]
    problems: list[str] = []
    if score.fallback:
        problems.append(f"{b}: the extractive fallback answered ({score.notice or 'no notice'})")
    if score.answerable and score.refused:
        problems.append(f"{b}: refused an answerable question")
    elif not score.answerable and not score.refused:
        problems.append(f"{b}: answered an unanswerable question (cited {', '.join(score.cited) or 'nothing'})")
    if score.missing and not score.refused:
        problems.append(f"{b}: answer lacks {' / '.join(repr(g[0]) for g in score.missing)}")
    if score.answerable and not score.refused and score.citation_recall == 0.0:
        problems.append(f"{b}: cites no gold unit (cited {', '.join(score.cited) or 'nothing'})")
    problems += [f"{b}: invalid citation {why}" for why in score.invalid_citations]
    problems += [f"{b}: invented reference {ref!r}" for ref in score.invented_references]
    if score.language is not None and score.language != score.lang:
        problems.append(f"{b}: answered in {score.language}, asked in {score.lang}")
    return problems


def _standard_notes(
    items: Sequence[EvalItem], retrieval: dict[str, list[RetrievalItemScore]], config: RunConfig
) -> list[str]:
    notes = []
    conversational = [i for i in items if len(i.turns) > 1 and i.answerable]
    if conversational and retrieval:
        sources = {
            s: sorted({r.query_source for r in v if r.item_id in {i.id for i in conversational}})
            for s, v in retrieval.items()
        }
        described = "; ".join(f"{s}: {', '.join(src) or '–'}" for s, src in sources.items())
        notes.append(
            f"{len(conversational)} answerable multi-turn items: retrieval is measured on the question the "
            "assistant rewrote ('standalone') for ours when a backend ran, otherwise on the turns joined "
            f"('joined_turns'). Query used: {described}."
        )
    if "naive" in retrieval:
        sizes = [len(slot) for r in retrieval["naive"] for slot in [r.top5]]
        if sizes:
            notes.append(
                "naive: RecursiveCharacterTextSplitter(1000, 200) chunks over the raw file; a chunk counts as "
                f"every unit it overlaps (its top 5 chunks hold {mean(sizes):.1f} distinct units on average), "
                "so its recall@k sees more text than the unit-level systems."
            )
    if not config.backends:
        notes.append("No answer backend was run: citation, answer, refusal and language metrics are absent.")
    return notes


def build_report(
    items: Sequence[EvalItem],
    predictions: Iterable[RetrievalPrediction | AnswerPrediction],
    config: RunConfig,
    document: Document,
    *,
    notes: Sequence[str] = (),
) -> Report:
    """Score every prediction of the run's items and aggregate them."""
    by_id = {i.id: i for i in items}
    retrieval: dict[str, list[RetrievalItemScore]] = {s: [] for s in config.systems}
    answers: dict[str, list[AnswerItemScore]] = {b: [] for b in config.backends}
    problems: dict[str, list[str]] = {i.id: [] for i in items}
    dense_scores: dict[str, list[tuple[float | None, bool]]] = {s: [] for s in config.systems}
    for pred in predictions:
        item = by_id.get(pred.item_id)
        if item is None:
            continue
        if isinstance(pred, RetrievalPrediction):
            if pred.system not in retrieval:
                continue
            dense_scores[pred.system].append((None if pred.error else pred.best_dense, item.answerable))
            if not item.answerable:
                continue  # no gold to recall; such items count in the refusal trade-off only
            rs = score_retrieval(item, pred, k_context=config.k)
            retrieval[pred.system].append(rs)
            if problem := _retrieval_problem(rs, item):
                problems[item.id].append(problem)
        elif pred.backend in answers:
            ans = score_answer(item, pred, document)
            answers[pred.backend].append(ans)
            problems[item.id] += _answer_problems(ans)
    tradeoff_system = next((s for s in ("ours", "dense", "naive") if dense_scores.get(s)), None)
    tradeoff = threshold_sweep(dense_scores[tradeoff_system], SWEEP) if tradeoff_system else []
    notes = [*_standard_notes(items, retrieval, config), *notes]
    failures = [
        ItemFailure(item_id=i.id, type=i.type, lang=i.lang, question=" / ".join(i.turns), gold=list(i.gold),
                    problems=problems[i.id])
        for i in items
        if problems[i.id]
    ]
    return Report(
        config=config,
        n_items=len(items),
        n_answerable=sum(1 for i in items if i.answerable),
        retrieval={s: group(v, aggregate_retrieval) for s, v in retrieval.items()},
        answers={b: group(v, aggregate_answers) for b, v in answers.items()},
        tradeoff_system=tradeoff_system,
        tradeoff=tradeoff,
        failures=failures,
        notes=list(notes),
        retrieval_items=[s for v in retrieval.values() for s in v],
        answer_items=[s for v in answers.values() for s in v],
    )
