"""What the assistant returns: an answer, its citations and timings."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from resolution_qa.ingest.units import Lang


class Citation(BaseModel):
    """A unit cited by an answer, labelled in the answer's language."""

    model_config = ConfigDict(frozen=True)

    id: str  # PPn, OPn, fnN, header
    doc: str  # document symbol
    label: str  # "par. 27" / "para. 27"
    text: str  # the unit's clean text
    footnotes: tuple[str, ...] = ()  # ids of footnotes the unit refers to (to show with it)
    source: str | None = None  # footnotes: the full reference, Ibid. resolved

    @property
    def formal(self) -> str:
        """"A/RES/75/158, par. 27" (labels already qualified by the symbol in a corpus are kept as they are)."""
        return self.label if self.label.startswith(f"{self.doc}, ") else f"{self.doc}, {self.label}"


class Timings(BaseModel):
    """Seconds spent per stage of one answer."""

    retrieval: float = 0.0
    first_token: float | None = None
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

    def to_turn(self) -> Turn:
        return Turn(
            question=self.question,
            standalone=self.standalone or self.question,
            answer=self.text,
            citations=self.citations,
            language=self.language,
        )
