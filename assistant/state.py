"""The state of one question as it goes through the assistant's stages (filled in stage by stage)."""

from __future__ import annotations

from dataclasses import dataclass, field
from time import perf_counter

from resolution_qa.core.errors import ReferenceOutOfRangeError
from resolution_qa.core.refs import Lang
from resolution_qa.ingest.units import Unit
from resolution_qa.vectorstore.types import RetrievalResult

from .language import LanguageGuess
from .rewrite import Rewrite
from .types import Turn


@dataclass
class QuestionState:
    """One question, from what the user typed to what the answer may cite. Each stage fills its part."""

    # asked
    question: str  # cleaned: control characters removed, length checked
    history: list[Turn]  # the previous turns kept (settings.answer.history_turns), oldest first
    docs: tuple[str, ...] = ()  # the resolutions asked about (a filter), by symbol; () = all
    started: float = field(default_factory=perf_counter)
    # understood
    guess: LanguageGuess | None = None
    rewrite: Rewrite | None = None
    # retrieved
    result: RetrievalResult | None = None
    out_of_range: ReferenceOutOfRangeError | None = None
    retrieval_s: float = 0.0
    # chosen: the units the answer may cite, best first
    context: list[Unit] = field(default_factory=list)
    # judged and written
    scores: dict[str, float] = field(default_factory=dict)  # P(yes) of each judged unit, by key
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (written sentence, why it was not shown)
    shown: float | None = None  # when the retrieved passages were shown (the Sources event)
    first_token: float | None = None

    @property
    def lang(self) -> Lang:
        """The answer's language."""
        assert self.guess is not None, "the question is not understood yet"
        return self.guess.answer

    @property
    def supported(self) -> bool:
        """False when the question is in a language other than French or English (answered in English)."""
        return self.guess is None or self.guess.supported

    @property
    def asked(self) -> str:
        """The question the answer answers: as typed for a follow-up read with its previous one, else standalone."""
        rw = self.rewrite
        if rw is None or rw.previous is not None:
            return self.question
        return rw.standalone

    @property
    def elapsed(self) -> float:
        return perf_counter() - self.started
