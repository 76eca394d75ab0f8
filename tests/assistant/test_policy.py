"""What the judge's scores decide: decline, keep the believed passages, or every qualifying one for a list."""

from __future__ import annotations

import pytest

from resolution_qa.assistant.evidence import asks_for_a_list
from resolution_qa.assistant.policy import decide
from resolution_qa.core.settings import Settings


@pytest.mark.parametrize(
    ("question", "listing"),
    [
        ("Which paragraphs mention men and boys?", True),
        ("Which operative paragraphs deal with demand?", True),
        ("Quels paragraphes parlent de la corruption ?", True),
        ("Dans quels alinéas la résolution évoque-t-elle les conflits ?", True),
        ("Which paragraph mentions Alliance 8.7?", False),
        ("Que dit le paragraphe 27 ?", False),
    ],
)
def test_list_questions_are_told_apart(question: str, listing: bool) -> None:
    assert asks_for_a_list(question) is listing


def test_a_believed_passage_is_kept_and_a_weak_best_is_declined() -> None:
    answer = Settings().answer
    kept = decide([0.9, 0.3, 0.85, 0.1], [0.5, 0.4, 0.45, 0.3], listing=False, settings=answer)
    assert kept.kept[0] == 0 and 2 in kept.kept and 3 not in kept.kept
    assert decide([0.05, 0.04], [0.2, 0.1], listing=False, settings=answer).declined


def test_a_list_keeps_every_passage_above_the_list_threshold() -> None:
    answer = Settings().answer
    scores = [0.95, answer.list_keep + 0.01, answer.list_keep - 0.01, 0.9]
    decision = decide(scores, [0.5] * 4, listing=True, settings=answer)
    assert sorted(decision.kept) == [0, 1, 3]
