"""The scorer on the tiny hand-made set: every expected number below was computed by hand."""

from __future__ import annotations

import pytest

from resolution_qa.assistant.language import answer_language
from resolution_qa.eval.dataset import EvalItem
from resolution_qa.eval.predictions import AnswerPrediction
from resolution_qa.eval.scoring import build_report, invented_references
from resolution_qa.ingest import Document
from tests.fakes import scripted_answer as answer
from tests.support import cite, make_config


def test_retrieval_scores(tiny_items: list[EvalItem], tiny_predictions: list, document: Document) -> None:
    report = build_report(tiny_items, tiny_predictions, make_config(tiny_items, systems=["ours"]), document)
    ours = report.retrieval["ours"]
    o = ours.overall
    assert o.n == 3  # the unanswerable t-3 is left out of recall
    # recall@1: t-1 0, t-2 1/min(3,1)=1, t-4 0; recall@5: 1, 2/3, 0; recall@10: 1, 1, 0
    assert o.recall[1] == pytest.approx(1 / 3)
    assert o.recall[5] == pytest.approx(5 / 9)
    assert o.recall[10] == pytest.approx(2 / 3)
    assert o.hit[5] == pytest.approx(2 / 3)
    assert o.mrr == pytest.approx((0.5 + 1 + 0) / 3)
    # with expansions at k=5: t-1 1/1, t-2 {OP5, fn1} of min(3, 5) = 2/3; t-4 has no context
    assert o.context_recall == pytest.approx((1 + 2 / 3) / 2)
    assert o.errors == 1
    assert ours.by_lang["fr"].recall[5] == pytest.approx(0.5) and ours.by_lang["en"].recall[5] == pytest.approx(2 / 3)
    assert ours.by_type["lookup"].mrr == 0.5 and set(ours.by_type) == {"lookup", "list", "conversational"}
    # the trade-off uses every item's best dense similarity; t-4 has none and counts as refused
    at_040 = next(p for p in report.tradeoff if p.threshold == 0.4)
    assert (at_040.refusal_recall, at_040.false_refusal_rate) == (1.0, pytest.approx(1 / 3))


def test_answer_scores(tiny_items: list[EvalItem], tiny_predictions: list, document: Document) -> None:
    report = build_report(tiny_items, tiny_predictions, make_config(tiny_items, systems=["ours"]), document)
    o = report.answers["extractive"].overall
    assert (o.n, o.n_answerable) == (4, 3)
    # right: t-1 (must met), t-3 (refused, unanswerable); wrong: t-2 (refused), t-4 (lacks "sensibilisation")
    assert o.accuracy == 0.5
    assert o.correctness == pytest.approx(1 / 3)
    # given (not declined): t-1 right, t-4 wrong; t-2 and t-3 were declined
    assert (o.coverage, o.selective_accuracy) == (0.5, 0.5)
    # precision over answers that cite: t-1 1/2, t-4 1/1; recall over answerable: 1, 0, 1
    assert o.citation_precision == pytest.approx(0.75)
    assert o.citation_recall == pytest.approx(2 / 3)
    # t-4 labels OP10 "para. 10" in a French answer, and writes a citation to a paragraph 60 that does not exist
    assert (o.invalid_citations, o.citations) == (1, 3)
    assert o.invalid_citation_share == pytest.approx(1 / 3)
    assert o.invented_references == 1
    r = o.refusal
    assert (r.precision, r.recall, r.false_refusal_rate) == (0.5, 1.0, pytest.approx(1 / 3))
    # t-2 was asked in English and refused in French
    assert o.language_match == 0.75
    assert o.latency_total.p50 == 0.5
    assert report.answers["extractive"].by_type["unanswerable"].accuracy == 1.0
    assert o.fallbacks == 0 and o.errors == 0


def test_a_fallback_answer_is_counted_and_listed(tiny_items: list[EvalItem], document: Document) -> None:
    item = tiny_items[0]
    fell_back = answer(item.question, "La résolution engage à la poursuite des auteurs.", "fr",
                       [cite(document, "OP27", "fr")]).model_copy(update={"backend": "extractive", "notice": "LLM timed out"})
    preds = [AnswerPrediction(item_id=item.id, backend="llamacpp", answers=[fell_back])]
    report = build_report([item], preds, make_config([item], systems=[], backends=["llamacpp"]), document)
    o = report.answers["llamacpp"].overall
    assert (o.fallbacks, o.accuracy) == (1, 1.0)
    assert report.failures[0].problems == ["llamacpp: the extractive fallback answered (LLM timed out)"]


def test_failures_say_what_went_wrong(tiny_items: list[EvalItem], tiny_predictions: list, document: Document) -> None:
    report = build_report(tiny_items, tiny_predictions, make_config(tiny_items, systems=["ours"]), document)
    problems = {f.item_id: f.problems for f in report.failures}
    assert set(problems) == {"t-2", "t-4"}
    assert "ours: missed PP1 in the top 5 (got OP5, PP2, fn1, PP3, PP4)" in problems["t-2"]
    assert "extractive: refused an answerable question" in problems["t-2"]
    assert "extractive: answered in fr, asked in en" in problems["t-2"]
    t4 = " | ".join(problems["t-4"])
    assert "ours: raised ReferenceOutOfRangeError" in t4
    assert "lacks 'sensibilisation'" in t4
    assert "invalid citation OP10: label 'para. 10', expected 'par. 10'" in t4
    assert "invented reference 'A/RES/75/158, par. 60'" in t4


def test_language_detection_ignores_quotes() -> None:
    assert answer_language('The resolution « engage instamment les États à poursuivre les trafiquants ». '
                           'It asks States to act.') == "en"
    assert answer_language("La résolution demande aux États d'agir contre la traite.") == "fr"
    # an English frame around untranslated French names is English
    assert answer_language("Footnote 2 states that the text is an excerpt from the Nations Unies Recueil des "
                           "Traités, vol. 2237, n° 39574 (footnote 1).") == "en"


def test_invented_references(document: Document) -> None:
    text = ("See A/RES/75/158, par. 27, A/RES/75/158, note 34, A/RES/75/158, 38e alinéa du préambule; "
            "but not A/RES/75/158, para. 53, A/RES/75/158, footnote 35 or A/RES/75/158, 39th preambular paragraph.")
    assert invented_references(text, document) == [
        "A/RES/75/158, para. 53", "A/RES/75/158, footnote 35", "A/RES/75/158, 39th preambular paragraph"]
