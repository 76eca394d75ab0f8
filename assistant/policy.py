"""What to do with the judge's scores: how many candidates to judge, when to decline, which passages to keep.

The numbers are calibrated on the dev splits (eval/data/dev.jsonl, blind_dev.jsonl) by benchmarks/judge.py;
the held-out splits never set them. See benchmarks/results/judge.md for the curves they come from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from resolution_qa.core.settings import AnswerSettings

#: Candidates the judge reads for one question, and for a question that asks for every paragraph on a topic.
JUDGED = 6
JUDGED_LIST = 16
#: Passages a one-answer question may rest on, and sentences the model writes for them. Dev + blind_dev: citing the
#: best 1 gives citation precision 0.86, recall 0.75; up to 2 (above keep_above) 0.79 / 0.78; up to 3 0.79 / 0.78.
KEPT = 2
WRITTEN = 2

def logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


@dataclass(frozen=True)
class Decision:
    """What the judge's scores say: decline, or the indexes of the candidates kept (best first)."""

    answerable: float  # calibrated probability that the text answers the question
    kept: tuple[int, ...]

    @property
    def declined(self) -> bool:
        return not self.kept


def decide(scores: list[float], dense: list[float | None], *, listing: bool, settings: AnswerSettings) -> Decision:
    """Keep the candidates the judge believes, or decline when the best of them is not believed enough.

    `scores` and `dense` are in retrieval order. Candidates are ranked by the judge's logit less a penalty per
    retrieval rank (the judge alone is a worse ranker than retrieval, the two together a better one). A list
    question is never declined here: its candidates are many and the judge's scores over them are low.
    """
    if not scores:
        return Decision(0.0, ())
    order = sorted(range(len(scores)), key=lambda i: -(logit(scores[i]) - settings.rank_weight * i))
    best = order[0]
    best_dense = max((d for d in dense if d is not None), default=0.0)
    top = max(scores)
    z = settings.judge_weight * logit(top) + settings.dense_weight * best_dense + settings.judge_bias
    answerable = 1.0 / (1.0 + math.exp(-z))
    if listing:
        kept = [i for i in order if scores[i] >= settings.list_keep] or [best]
        return Decision(answerable, tuple(kept))
    if answerable < settings.decline_below:
        return Decision(answerable, ())
    floor = max(settings.keep_above, scores[best] - settings.keep_margin)
    kept = [best] + [i for i in order[1:] if scores[i] >= floor][: KEPT - 1]
    return Decision(answerable, tuple(kept))
