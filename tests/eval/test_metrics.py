"""The metric functions on rankings, citations, must-groups, refusals and percentiles, with hand-computed values."""

from __future__ import annotations

import pytest

from resolution_qa.eval.metrics import (
    citation_score,
    hit_at_k,
    missing_groups,
    percentiles,
    recall_at_k,
    reciprocal_rank,
    refusal_score,
    threshold_sweep,
)

RANKING = [["OP3"], ["OP27"], ["PP1", "PP2"], ["fn4"]]


def test_recall_is_capped_by_k_and_counts_slots() -> None:
    assert recall_at_k(RANKING, ["OP27"], 1) == 0.0
    assert recall_at_k(RANKING, ["OP27"], 2) == 1.0
    # three gold, k=1: the one slot holds no gold; k=2: one of min(3, 2)=2 found
    assert recall_at_k(RANKING, ["OP27", "PP2", "fn9"], 1) == 0.0
    assert recall_at_k(RANKING, ["OP27", "PP2", "fn9"], 2) == 0.5
    # a chunk slot holding two units brings both
    assert recall_at_k(RANKING, ["OP27", "PP2", "fn9"], 3) == pytest.approx(2 / 3)
    assert recall_at_k([], ["OP1"], 5) == 0.0
    with pytest.raises(ValueError):
        recall_at_k(RANKING, [], 5)


def test_hit_and_reciprocal_rank() -> None:
    assert hit_at_k(RANKING, ["PP2", "OP50"], 2) == 0.0
    assert hit_at_k(RANKING, ["PP2", "OP50"], 3) == 1.0
    assert reciprocal_rank(RANKING, ["fn4"]) == 0.25
    assert reciprocal_rank(RANKING, ["PP1", "fn4"]) == pytest.approx(1 / 3)
    assert reciprocal_rank(RANKING, ["OP9"]) == 0.0


def test_citation_precision_recall() -> None:
    s = citation_score(["OP27", "OP3"], ["OP27", "PP1"])
    assert (s.precision, s.recall) == (0.5, 0.5)
    none = citation_score([], ["OP27"])
    assert none.precision is None and none.recall == 0.0


def test_must_groups_are_case_insensitive_alternatives() -> None:
    must = [["poursuite", "prosecut"], ["ONUDC", "UNODC"]]
    assert missing_groups("Elle engage la POURSUITE des auteurs avec l'onudc.", must) == []
    assert missing_groups("It urges States to prosecute traffickers.", must) == [("ONUDC", "UNODC")]
    # typographic apostrophes and non-breaking spaces do not hide a match
    assert missing_groups("l’Office des Nations\u00a0Unies", [["l'office des nations unies"]]) == []


def test_refusal_scores() -> None:
    # (refused, answerable): one right refusal, one false refusal, one missed refusal, one right answer
    r = refusal_score([(True, False), (True, True), (False, False), (False, True)])
    assert (r.precision, r.recall, r.false_refusal_rate) == (0.5, 0.5, 0.5)
    assert (r.refused_unanswerable, r.refused_answerable, r.answered_unanswerable) == (1, 1, 1)
    empty = refusal_score([(False, True)])
    assert empty.precision is None and empty.recall is None and empty.false_refusal_rate == 0.0


def test_percentiles_ignore_missing_values() -> None:
    p = percentiles([1.0, 2.0, 3.0, 4.0, None, 100.0])
    assert p.n == 5 and p.p50 == 3.0 and p.p95 == pytest.approx(80.8)
    assert percentiles([None]).p50 is None


def test_threshold_sweep_counts_missing_similarity_as_refused() -> None:
    scores = [(0.2, False), (None, False), (0.5, True), (0.35, True)]
    low, mid, high = threshold_sweep(scores, [0.1, 0.4, 0.6])
    assert (low.refusal_recall, low.false_refusal_rate) == (0.5, 0.0)
    assert (mid.refusal_recall, mid.false_refusal_rate) == (1.0, 0.5)
    assert (high.refusal_recall, high.false_refusal_rate) == (1.0, 1.0)
