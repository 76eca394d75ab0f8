"""The state of one question as it goes through the assistant's stages (filled in stage by stage), and the
sentences of an answer: what every stage reads and writes, so that no stage imports another."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from time import perf_counter

from resolution_qa.core.errors import ReferenceOutOfRangeError
from resolution_qa.core.refs import Lang
from resolution_qa.ingest.units import Unit
from resolution_qa.vectorstore.types import RetrievalResult

from .language import LanguageGuess
from .rewrite import Rewrite
from .types import Answer, Turn


@dataclass(frozen=True)
class Sentence:
    """A sentence of the answer and the unit it rests on; `written` is False for a quote put in its place."""

    text: str
    unit: Unit
    written: bool


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
    named: frozenset[str] = frozenset()  # ids of the units the question names (quoted whole, always kept)
    # selected (select.py, the one place that decides what may be cited): every list best first
    context: list[Unit] = field(default_factory=list)  # what an extractive answer rests on (its `retrieved`)
    quoted: list[Unit] = field(default_factory=list)  # what an extractive answer quotes
    candidates: list[Unit] = field(default_factory=list)  # what the judge reads (LLM backends)
    candidate_dense: list[float | None] = field(default_factory=list)  # their dense similarities
    closest: list[Unit] = field(default_factory=list)  # offered with a refusal
    listing: bool = False  # the question asks for every paragraph on a topic
    # what the question's words say (evidence.py): the details it asks for, names the text never uses, whether a
    # footnote can be evidence, whether it takes something for granted
    asks: frozenset[str] = frozenset()
    foreign: tuple[str, ...] = ()
    about_references: bool = False
    presupposes: bool = False
    footnoted: list[Unit] = field(default_factory=list)  # named units whose footnotes answer a reference question
    missing: str | None = None  # the detail asked that the units the answer rests on do not give (a kind)
    refused: bool = False  # the text does not answer: the answer declines
    # judged (LLM backends)
    scores: dict[str, float] = field(default_factory=dict)  # P(yes) of each judged unit, by key
    kept: list[Unit] = field(default_factory=list)  # the candidates the judge believes: the LLM answer rests on them
    not_said: bool = False  # the question takes for granted what its best passage does not say
    # written and checked
    sentences: list[Sentence] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (written sentence, why it was not shown)
    failure: str | None = None  # why the model's answer was not used (the answer quotes the text instead)
    restart: bool = False  # text was shown before the failure: the quotes start a new paragraph
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


def finish(answer: Answer, *, restart: bool = False) -> Iterator[str | Answer]:
    """An answer's last events: its whole text as one piece (so that a consumer that only shows pieces shows the
    whole answer; after a paragraph when text was shown before), then the Answer."""
    yield ("\n\n" if restart else "") + answer.text
    yield answer
