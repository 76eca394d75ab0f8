"""Feedback on answers: a thumbs up or down and an optional comment, saved locally as JSON lines.

One line per event, appended (never rewritten): a rating writes the whole record, a comment on it writes the
record again with the comment, under the same id; readers keep the last line of each id. A record holds what it
takes to replay the question: the question, the conversation before it, the answer (`Answer.record()`, with its
citations), the backend and the settings that shaped it. `resolution-qa feedback export` turns marked answers into
evaluation items (README "Feedback").
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from resolution_qa.assistant.types import Answer
from resolution_qa.core.errors import ResolutionQAError
from resolution_qa.core.settings import Settings

#: Longest comment kept, in characters.
MAX_COMMENT_CHARS = 2000

Rating = Literal["up", "down"]


class FeedbackError(ResolutionQAError):
    """The feedback file cannot be read or written."""


class PastTurn(BaseModel):
    """A turn of the conversation before the rated answer."""

    model_config = ConfigDict(frozen=True, extra="allow")

    question: str
    standalone: str = ""
    answer: str = ""
    citations: list[str] = []  # formal citations ("A/RES/75/158, par. 27")


class FeedbackRecord(BaseModel):
    """One rated answer."""

    model_config = ConfigDict(frozen=True, extra="allow")

    id: str
    time: str  # ISO 8601, UTC
    rating: Rating
    comment: str = ""
    question: str
    history: list[PastTurn] = []
    answer: dict[str, Any]  # Answer.record()
    backend: str
    settings: dict[str, Any] = {}

    def parsed_answer(self) -> Answer:
        return Answer.model_validate(self.answer)


def feedback_path(settings: Settings) -> Path:
    """settings.feedback_path, else feedback.jsonl in the data folder (the folder that holds the index)."""
    if settings.feedback_path is not None:
        return settings.feedback_path.expanduser()
    return settings.index_dir.expanduser().parent / "feedback.jsonl"


def settings_snapshot(settings: Settings, model: str | None = None) -> dict[str, Any]:
    """What shaped an answer, without anything secret (no key, no password)."""
    return {
        "backend": settings.backend,
        "model": model,
        "embedding_model": settings.embedding_model,
        **settings.retrieval.model_dump(mode="json"),
        "refusal_threshold": settings.refusal_threshold,
        "history_turns": settings.history_turns,
        "llm_temperature": settings.llm_temperature,
        "llm_max_tokens": settings.llm_max_tokens,
    }


def _past(answer: Answer) -> PastTurn:
    return PastTurn(question=answer.question, standalone=answer.standalone, answer=answer.text,
                    citations=[c.formal for c in answer.citations])


def make_record(answer: Answer, history: Sequence[Answer], rating: Rating, *, settings: dict[str, Any],
                comment: str = "") -> FeedbackRecord:
    """A new record (a fresh id) for a rating of `answer`, asked after `history`."""
    return FeedbackRecord(
        id=f"fb-{uuid.uuid4().hex[:12]}",
        time=datetime.now(UTC).isoformat(timespec="seconds"),
        rating=rating,
        comment=comment.strip()[:MAX_COMMENT_CHARS],
        question=answer.question,
        history=[_past(a) for a in history],
        answer=answer.record(),
        backend=answer.backend,
        settings=settings,
    )


def with_comment(record: FeedbackRecord, comment: str) -> FeedbackRecord:
    return record.model_copy(update={"comment": comment.strip()[:MAX_COMMENT_CHARS],
                                     "time": datetime.now(UTC).isoformat(timespec="seconds")})


class FeedbackStore:
    """The JSONL file of feedback records (private: created readable by its owner only). Thread-safe appends."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def save(self, record: FeedbackRecord) -> None:
        line = json.dumps(record.model_dump(mode="json"), ensure_ascii=False) + "\n"
        try:
            with self._lock:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                with os.fdopen(fd, "a", encoding="utf-8") as out:
                    out.write(line)
        except OSError as exc:
            raise FeedbackError(f"cannot save feedback to {self.path}: {exc.strerror or exc}; check "
                                "RESOLUTION_QA_FEEDBACK_PATH") from exc

    def read(self) -> list[FeedbackRecord]:
        """Every record, the last line of each id, in the order they were first given; FeedbackError naming a bad
        line."""
        if not self.path.is_file():
            return []
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise FeedbackError(f"cannot read {self.path}: {exc}") from exc
        records: dict[str, FeedbackRecord] = {}
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = FeedbackRecord.model_validate(json.loads(line))
            except (json.JSONDecodeError, ValidationError) as exc:
                what = exc.msg if isinstance(exc, json.JSONDecodeError) else exc.errors()[0]["msg"]
                raise FeedbackError(f"{self.path}:{number}: not a feedback record ({what})") from None
            records[record.id] = record
        return list(records.values())
