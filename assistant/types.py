"""What the assistant returns (an answer, its citations and timings), and what answers: the Answerer protocol."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, computed_field

from resolution_qa.core.refs import Lang, formal


class Citation(BaseModel):
    """A unit cited by an answer, labelled in the answer's language."""

    model_config = ConfigDict(frozen=True)

    id: str  # PPn, OPn, fnN, header
    doc: str  # document symbol
    label: str  # "par. 27" / "para. 27"
    text: str  # the unit's clean text
    footnotes: tuple[str, ...] = ()  # ids of footnotes the unit refers to (to show with it)
    source: str | None = None  # footnotes: the full reference, Ibid. resolved

    @computed_field  # type: ignore[prop-decorator]
    @property
    def formal(self) -> str:
        """"A/RES/75/158, par. 27" (labels already qualified by the symbol in a corpus are kept as they are)."""
        return formal(self.doc, self.label)

    def brief(self) -> dict[str, str]:
        return {"id": self.id, "doc": self.doc, "label": self.label, "text": self.text}


class Sources(BaseModel):
    """Streamed first, as soon as retrieval is done: the passages the answer will be drawn from, best first."""

    model_config = ConfigDict(frozen=True)

    citations: tuple[Citation, ...]


class Timings(BaseModel):
    """Seconds spent per stage of one answer."""

    retrieval: float = 0.0
    shown: float | None = None  # the first visible text: the retrieved passages (Sources), before any answer text
    first_token: float | None = None  # the first words of the answer itself
    total: float = 0.0


class Turn(BaseModel):
    """One exchange of a conversation, as kept in the history."""

    model_config = ConfigDict(frozen=True)

    question: str
    standalone: str  # the question rewritten to stand alone (what was retrieved for)
    answer: str
    citations: tuple[Citation, ...] = ()
    language: Lang | None = None  # language of the answer, when known


class Answer(BaseModel):
    """An answer in the question's language, with validated citations in order of first use."""

    model_config = ConfigDict(frozen=True)

    question: str
    text: str
    language: Lang
    refused: bool = False
    citations: tuple[Citation, ...] = ()
    retrieved: tuple[str, ...] = ()  # ids of the units given to the generator, best first
    standalone: str = ""  # the question as rewritten for retrieval
    timings: Timings = Field(default_factory=Timings)
    backend: str = "extractive"
    notice: str | None = None  # e.g. "the LLM failed; extractive answer"
    suggestions: tuple[Citation, ...] = ()  # refusals: the closest units, offered instead of an answer
    footnotes: tuple[Citation, ...] = ()  # footnotes of the cited paragraphs (not cited themselves), to show with them

    def record(self, *, brief: bool = False) -> dict[str, Any]:
        """The answer as JSON: the one way every edge writes it.

        Full (the chat app's API, eval predictions, `serve`): every field; each citation with its `formal`
        form, what a user pastes. Brief (`resolution-qa ask --format json`, one object per answered turn):
        the answer's text as "answer", citations and suggestions as {id, doc, label, text}.
        """
        if not brief:
            return self.model_dump(mode="json")
        return {
            "question": self.question,
            "answer": self.text,
            "language": self.language,
            "refused": self.refused,
            "citations": [c.brief() for c in self.citations],
            "timings": self.timings.model_dump(),
            "backend": self.backend,
            "notice": self.notice,
            "suggestions": [c.brief() for c in self.suggestions],
            "retrieved": list(self.retrieved),
            "standalone": self.standalone,
        }

    def to_turn(self) -> Turn:
        return Turn(
            question=self.question,
            standalone=self.standalone or self.question,
            answer=self.text,
            citations=self.citations,
            language=self.language,
        )


@runtime_checkable
class Answerer(Protocol):
    """What answers questions about the indexed resolutions: the Assistant, and the fakes that stand in for it. The
    chat app, `resolution-qa serve`, the evaluation runner and `resolution-qa ask` depend on this, not on Assistant.

    An implementation defines `stream` or `ask` (or both): each one's default is written with the other.
    """

    def ask(
        self, question: str, history: Sequence[Turn | Answer] | None = None, docs: Sequence[str] | None = None
    ) -> Answer:
        """The answer to one question; `history` holds the previous turns, oldest first; `docs` (symbols) limits
        the answer to those resolutions (None or empty: all of them)."""
        answer: Answer | None = None
        for item in self.stream(question, history, docs):
            if isinstance(item, Answer):
                answer = item
        if answer is None:
            raise RuntimeError(f"{type(self).__name__}.stream ended without an Answer")
        return answer

    def stream(
        self, question: str, history: Sequence[Turn | Answer] | None = None, docs: Sequence[str] | None = None
    ) -> Iterator[Sources | str | Answer]:
        """As `ask`, as events: `Sources` (the passages retrieved), pieces of the answer text, then the Answer."""
        answer = self.ask(question, history, docs)
        yield answer.text
        yield answer
