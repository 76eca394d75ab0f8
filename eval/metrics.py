"""Pure metric functions: ranking recall/MRR, citation P/R, must-groups, refusal P/R, percentiles."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict

#: A ranking is a list of slots, best first. A slot is what a system returns at one rank: one unit
#: for unit-level retrievers, every unit a chunk overlaps for the naive chunk pipeline.
Ranking = Sequence[Sequence[str]]


def _found(ranking: Ranking, k: int) -> set[str]:
    return {uid for slot in ranking[:k] for uid in slot}


def recall_at_k(ranking: Ranking, gold: Sequence[str], k: int) -> float:
    """Share of the gold units in the top k slots, out of min(|gold|, k) so a perfect top k scores 1.

    Capping the denominator keeps recall@1 meaningful for items with several gold units.
    """
    if not gold:
        raise ValueError("recall is undefined without gold units")
    return len(_found(ranking, k) & set(gold)) / min(len(gold), k)


def hit_at_k(ranking: Ranking, gold: Sequence[str], k: int) -> float:
    """1.0 when any gold unit is in the top k slots."""
    return 1.0 if _found(ranking, k) & set(gold) else 0.0


def reciprocal_rank(ranking: Ranking, gold: Sequence[str]) -> float:
    """1/rank of the first slot holding a gold unit; 0 when none does."""
    wanted = set(gold)
    for rank, slot in enumerate(ranking, start=1):
        if wanted.intersection(slot):
            return 1.0 / rank
    return 0.0


class CitationScore(BaseModel):
    """Cited ids against gold ids for one answer; precision is None when nothing was cited."""

    model_config = ConfigDict(frozen=True)

    precision: float | None
    recall: float


def citation_score(cited: Sequence[str], gold: Sequence[str]) -> CitationScore:
    cited_set, gold_set = set(cited), set(gold)
    hits = len(cited_set & gold_set)
    precision = hits / len(cited_set) if cited_set else None
    recall = hits / len(gold_set) if gold_set else (1.0 if not cited_set else 0.0)
    return CitationScore(precision=precision, recall=recall)


def normalise(text: str) -> str:
    """Case-folded, NFC, typographic apostrophes/spaces made plain, whitespace collapsed."""
    text = unicodedata.normalize("NFC", text).casefold()
    text = text.replace("\u2019", "'").replace("\u02bc", "'").replace("\u00a0", " ").replace("\u202f", " ")
    return re.sub(r"\s+", " ", text)


def missing_groups(answer: str, must: Iterable[Sequence[str]]) -> list[tuple[str, ...]]:
    """The must-groups of which the answer contains no alternative (case-insensitive substring)."""
    text = normalise(answer)
    return [tuple(group) for group in must if not any(normalise(alt) in text for alt in group)]


class RefusalScore(BaseModel):
    """Refusal as a classifier of unanswerable items. Rates are None when their denominator is 0."""

    model_config = ConfigDict(frozen=True)

    refused_unanswerable: int  # true positives
    refused_answerable: int  # false refusals
    answered_unanswerable: int  # missed refusals
    n_answerable: int
    n_unanswerable: int
    precision: float | None
    recall: float | None
    false_refusal_rate: float | None


def refusal_score(outcomes: Iterable[tuple[bool, bool]]) -> RefusalScore:
    """outcomes: (refused, answerable) per item."""
    pairs = list(outcomes)
    tp = sum(1 for refused, answerable in pairs if refused and not answerable)
    fp = sum(1 for refused, answerable in pairs if refused and answerable)
    fn = sum(1 for refused, answerable in pairs if not refused and not answerable)
    n_ans = sum(1 for _, answerable in pairs if answerable)
    n_unans = len(pairs) - n_ans
    return RefusalScore(
        refused_unanswerable=tp,
        refused_answerable=fp,
        answered_unanswerable=fn,
        n_answerable=n_ans,
        n_unanswerable=n_unans,
        precision=tp / (tp + fp) if tp + fp else None,
        recall=tp / n_unans if n_unans else None,
        false_refusal_rate=fp / n_ans if n_ans else None,
    )


class Percentiles(BaseModel):
    """p50/p95 of a set of durations in seconds (None when there were none)."""

    model_config = ConfigDict(frozen=True)

    n: int
    p50: float | None
    p95: float | None


def percentiles(values: Iterable[float | None]) -> Percentiles:
    data = [v for v in values if v is not None]
    if not data:
        return Percentiles(n=0, p50=None, p95=None)
    p50, p95 = np.percentile(np.asarray(data, dtype=float), [50, 95])
    return Percentiles(n=len(data), p50=float(p50), p95=float(p95))


def mean(values: Iterable[float | None]) -> float | None:
    """Mean of the defined values; None when there are none."""
    data = [v for v in values if v is not None]
    return sum(data) / len(data) if data else None


class TradeoffPoint(BaseModel):
    """At one refusal threshold: unanswerable items refused vs answerable items wrongly refused."""

    model_config = ConfigDict(frozen=True)

    threshold: float
    refusal_recall: float | None
    false_refusal_rate: float | None


def threshold_sweep(
    scores: Sequence[tuple[float | None, bool]], thresholds: Sequence[float]
) -> list[TradeoffPoint]:
    """Refuse when the best dense similarity is below the threshold. scores: (best_dense, answerable).

    A None score (no similarity computed, e.g. the question names a paragraph that does not exist)
    counts as refused at every threshold, which is what the assistant does with it.
    """
    points = []
    for t in thresholds:
        outcomes = [((s is None or s < t), answerable) for s, answerable in scores]
        r = refusal_score(outcomes)
        points.append(TradeoffPoint(threshold=float(t), refusal_recall=r.recall, false_refusal_rate=r.false_refusal_rate))
    return points
