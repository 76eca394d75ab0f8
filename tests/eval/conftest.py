"""Fixtures of the eval tests: the tiny hand-made question set (tests/support.py), as items, as a file, and with
hand-made predictions whose scores tests/eval/test_scoring.py computes by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from resolution_qa.eval.dataset import EvalItem
from resolution_qa.eval.predictions import AnswerPrediction, RetrievalPrediction
from resolution_qa.ingest import Document
from tests.fakes import scripted_answer as answer
from tests.support import TINY_ITEMS, cite, ranked, write_jsonl


@pytest.fixture
def tiny_items() -> list[EvalItem]:
    return [EvalItem.model_validate(raw) for raw in TINY_ITEMS]


@pytest.fixture
def tiny_dataset(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "tiny.jsonl", TINY_ITEMS)


@pytest.fixture
def tiny_predictions(document: Document, tiny_items: list[EvalItem]) -> list[RetrievalPrediction | AnswerPrediction]:
    t1, t2, t3, t4 = tiny_items
    return [
        # ours: t-1 gold OP27 at rank 2; t-2 gold {PP1, OP5, fn1}: OP5 at 1, fn1 at 3, PP1 at 6; t-4: nothing
        ranked("t-1", "ours", [["OP3"], ["OP27"], ["OP28"]], best=0.62, context=["OP3", "OP27", "fn20"]),
        ranked("t-2", "ours", [["OP5"], ["PP2"], ["fn1"], ["PP3"], ["PP4"], ["PP1"]], best=0.55,
               context=["OP5", "PP2", "fn1", "PP3", "PP4", "fn2"]),
        ranked("t-3", "ours", [["OP1"]], best=0.30),
        ranked("t-4", "ours", [], best=None, error="ReferenceOutOfRangeError: no paragraph 60"),
        AnswerPrediction(item_id="t-1", backend="extractive", answers=[answer(
            t1.question, "La résolution engage instamment les États à la poursuite des auteurs.", "fr",
            [cite(document, "OP27", "fr"), cite(document, "OP3", "fr")])]),
        AnswerPrediction(item_id="t-2", backend="extractive", answers=[answer(
            t2.question, "La résolution ne traite pas de cette question.", "fr", refused=True)]),
        AnswerPrediction(item_id="t-3", backend="extractive", answers=[answer(
            t3.question, "The resolution does not address cryptocurrencies.", "en", refused=True)]),
        AnswerPrediction(item_id="t-4", backend="extractive", answers=[
            answer(t4.turns[0], "La Journée mondiale est proclamée au par. 10.", "fr"),
            answer(t4.question, "Son objectif est défini dans la résolution, voir A/RES/75/158, par. 60.", "fr",
                   [cite(document, "OP10", "fr", label="para. 10")]),
        ]),
    ]
