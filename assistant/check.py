"""The check stage: each sentence the model wrote is shown only if it rests on its unit; else the unit's clause
that answers is quoted in its place."""

from __future__ import annotations

from resolution_qa.core.settings import AnswerSettings
from resolution_qa.ingest.units import Unit

from .extractive import ClauseScorer, extract
from .policy import takes_for_granted
from .sanitise import Sanitiser
from .state import QuestionState, Sentence


class SentenceCheck:
    """Checks the sentences written for one question against the units kept for it."""

    def __init__(self, state: QuestionState, scorer: ClauseScorer, settings: AnswerSettings) -> None:
        self.state = state
        self.scorer = scorer
        self.sanitiser = Sanitiser(
            state.asked, state.kept, state.lang, support=self._support, min_support=settings.min_support,
            typed=state.question, premise=takes_for_granted(state.asked),
        )

    def check(self, unit: Unit, written: str, start: str) -> Sentence:
        """The written sentence as it may be shown; the unit's answering clause when it fails the check."""
        state = self.state
        verdict = self.sanitiser.check(written, [unit], given=start) if written else None
        if verdict is not None and verdict.text is not None:
            return Sentence(verdict.text, unit, written=True)
        state.rejected.append((written, verdict.reason if verdict else "empty"))
        # The part of the unit that answers: its clause closest to the written sentence, or to the question.
        clause = extract(written or state.asked, [unit], self.scorer, lang=state.lang)[0]
        return Sentence(clause.text, unit, written=False)

    def _support(self, sentence: str, unit: Unit) -> float:
        """How close a sentence is to the closest clause of its unit (multilingual embeddings, cosine)."""
        return self.scorer.best_clause(unit, self.scorer.embed_query(sentence))[1]
