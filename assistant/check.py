"""The check stage: each sentence the model wrote is shown only if it rests on its unit; else the unit's clause
that answers is quoted in its place."""

from __future__ import annotations

from collections.abc import Callable

from resolution_qa.core.settings import AnswerSettings
from resolution_qa.ingest.units import Unit

from .extractive import ClauseScorer, extract
from .sanitise import Sanitiser
from .state import QuestionState, Sentence

#: A written sentence the verifier (the model asked "does the passage say what this sentence says?") gives less than
#: this P(yes) is replaced by the clause it should rest on: the sanitiser's checks of names and numbers let through
#: "the right to a fair trial" for "droit à un recours effectif", a wrong item of a list, a claim that a passage is
#: "related to" a topic it is not about.
MIN_VERIFIED = 0.5


class SentenceCheck:
    """Checks the sentences written for one question against the units kept for it."""

    def __init__(
        self,
        state: QuestionState,
        scorer: ClauseScorer,
        settings: AnswerSettings,
        *,
        verify: Callable[[str, Unit], float] | None = None,
    ) -> None:
        self.state = state
        self.scorer = scorer
        self.verify = verify  # the model as verifier (LLM backends), after the code's checks
        self.sanitiser = Sanitiser(
            state.asked, state.kept, state.lang, support=self._support, min_support=settings.min_support,
            typed=state.question, premise=state.presupposes,
        )

    def check(self, unit: Unit, written: str, start: str) -> Sentence:
        """The written sentence as it may be shown; the unit's answering clause when it fails the check."""
        state = self.state
        verdict = self.sanitiser.check(written, [unit], given=start) if written else None
        reason = verdict.reason if verdict else "empty"
        if verdict is not None and verdict.text is not None:
            if self.verify is None or self.verify(verdict.text, unit) >= MIN_VERIFIED:
                return Sentence(verdict.text, unit, written=True)
            reason = "unverified"
        state.rejected.append((written, reason or "unsupported"))
        # The part of the unit that answers: its clause closest to the written sentence, or to the question.
        clause = extract(written or state.asked, [unit], self.scorer, lang=state.lang)[0]
        return Sentence(clause.text, unit, written=False)

    def _support(self, sentence: str, unit: Unit) -> float:
        """How close a sentence is to the closest clause of its unit (multilingual embeddings, cosine)."""
        return self.scorer.best_clause(unit, self.scorer.embed_query(sentence))[1]
