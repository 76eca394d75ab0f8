"""Regression gate: our retriever, with the real embedding model, on the dev split must stay above measured floors.

The floors sit a little below what was measured (see reports/latest/); a change that lowers them fails here.
Multi-turn items are left out: their graded question ("And the one after it?") only stands alone once the
assistant has rewritten it, so they are measured by the full report (`resolution-qa eval`), not here.
"""

from __future__ import annotations

import pytest

from resolution_qa.eval.baselines import Ours
from resolution_qa.eval.dataset import DEV_PATH, load_dataset
from resolution_qa.eval.runner import retrieve
from resolution_qa.eval.scoring import build_report
from resolution_qa.ingest import Document
from tests.support import make_config

# Measured on 2026-11-28, dev split, 95 single-turn answerable items: recall@5 0.953 (fr 0.957, en 0.949),
# MRR 0.930, recall@1 0.895, every paragraph_ref item at rank 1.
RECALL_AT_5 = 0.95  # the floor; measured 0.953, so one more miss on a one-gold item fails the gate
RECALL_AT_5_BY_LANG = {"fr": 0.94, "en": 0.93}
MRR = 0.90
RECALL_AT_1 = 0.86


@pytest.mark.slow
@pytest.mark.timeout(1800)  # ~110 queries (and the session's real index, if not built yet); minutes on shared CPUs
def test_dev_retrieval_does_not_regress(real_retriever, document: Document) -> None:
    retriever = real_retriever  # the session's real index of the bundled resolution, default retrieval settings
    items = [i for i in load_dataset(DEV_PATH, document=document).items if len(i.turns) == 1]
    ours = Ours(retriever, with_context=False)
    predictions = [retrieve(ours, item, "ours", None) for item in items]
    report = build_report(items, predictions, make_config(items, systems=["ours"], backends=[]), document)
    grouped = report.retrieval["ours"]
    summary = (f"recall@1 {grouped.overall.recall[1]:.3f}, recall@5 {grouped.overall.recall[5]:.3f}, "
               f"MRR {grouped.overall.mrr:.3f}; by lang "
               + ", ".join(f"{lang} {a.recall[5]:.3f}" for lang, a in grouped.by_lang.items()))
    failures = "\n".join(f"{f.item_id}: {'; '.join(f.problems)}" for f in report.failures)
    assert grouped.overall.recall[5] >= RECALL_AT_5, f"{summary}\n{failures}"
    for lang, floor in RECALL_AT_5_BY_LANG.items():
        assert grouped.by_lang[lang].recall[5] >= floor, f"{lang}: {summary}\n{failures}"
    assert grouped.overall.mrr >= MRR, summary
    assert grouped.overall.recall[1] >= RECALL_AT_1, summary
    # A question that names a paragraph gets exactly that unit first.
    named = [s for s in report.retrieval_items if s.type == "paragraph_ref"]
    assert named and all(s.recall[1] == 1.0 for s in named), [s.item_id for s in named if s.recall[1] < 1.0]
