"""What a run records per item: retrieval rankings and assistant answers, one JSONL line each."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_serializer

from resolution_qa.assistant.types import Answer

#: Where the query given to a retrieval system came from. Conversational items have no single
#: standalone question: "ours" uses the question the assistant rewrote when an assistant ran,
#: otherwise (and for the baselines, which have no rewriter) the turns joined with a space.
QuerySource = Literal["question", "standalone", "joined_turns"]


class RetrievalPrediction(BaseModel):
    """A retrieval system's ranking for one item."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["retrieval"] = "retrieval"
    item_id: str
    system: str
    query: str
    query_source: QuerySource
    ranking: list[list[str]]  # slots best first (ranked hits only, no expansions)
    context: list[str] = Field(default_factory=list)  # "ours": ids at the configured k, expansions included
    best_dense: float | None = None
    seconds: float
    error: str | None = None  # a domain error the system raised (e.g. a paragraph that does not exist)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.kind, self.system, self.item_id)


class AnswerPrediction(BaseModel):
    """An answer backend's conversation for one item: one Answer per turn, the last one graded."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["answer"] = "answer"
    item_id: str
    backend: str
    answers: list[Answer] = Field(default_factory=list)
    error: str | None = None  # the assistant raised instead of answering

    @field_serializer("answers")
    def _records(self, answers: list[Answer]) -> list[dict]:
        return [a.record() for a in answers]  # the one JSON form of an Answer

    @property
    def final(self) -> Answer | None:
        return self.answers[-1] if self.answers and self.error is None else None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.kind, self.backend, self.item_id)


Prediction = Annotated[RetrievalPrediction | AnswerPrediction, Field(discriminator="kind")]
_ADAPTER: TypeAdapter[RetrievalPrediction | AnswerPrediction] = TypeAdapter(Prediction)


class RunConfig(BaseModel):
    """What a run was asked to do; a resumed run must match it."""

    model_config = ConfigDict(frozen=True)

    dataset: str
    dataset_sha256: str
    item_ids: list[str]
    systems: list[str]
    backends: list[str]
    k: int
    refusal_threshold: float
    lexical_weight: float
    embedding_model: str
    started_at: str = Field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    code: str = ""  # the git commit the run started from ("+changes" when the tree had uncommitted edits)

    def same_work(self, other: RunConfig) -> bool:
        """Same options on the same items, or on more items: a run may be resumed with a larger --limit."""
        fixed = {"started_at", "code", "item_ids"}
        return (
            self.model_dump(exclude=fixed) == other.model_dump(exclude=fixed)
            and other.item_ids[: len(self.item_ids)] == self.item_ids
        )


def dump(prediction: RetrievalPrediction | AnswerPrediction) -> str:
    return prediction.model_dump_json()


def read_predictions(path: Path) -> tuple[list[RetrievalPrediction | AnswerPrediction], int]:
    """Predictions of a file, and how many lines were dropped: a line cut by an interruption is
    dropped (its work is redone on resume) rather than failing the run."""
    if not path.exists():
        return [], 0
    found: list[RetrievalPrediction | AnswerPrediction] = []
    dropped = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            found.append(_ADAPTER.validate_json(line))
        except ValidationError:
            dropped += 1
    return found, dropped
