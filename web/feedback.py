"""Feedback on answers: a thumbs up or down and an optional comment, saved locally as JSON lines.

One line per event, appended (never rewritten): a rating writes the whole record, a comment on it writes the
record again with the comment, under the same id; readers keep the last line of each id. A record holds what it
takes to replay the question: the question, the conversation before it, the answer (`Answer.record()`, with its
citations), the backend and the settings that shaped it. `resolution-qa feedback export` turns marked answers into
evaluation items (README "Feedback").
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from resolution_qa.assistant.types import Answer
from resolution_qa.core.errors import ResolutionQAError
from resolution_qa.core.files import WriteError, append_line, read_lines
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
    """The JSONL file of feedback records (private: created readable by its owner only). Appends are whole lines
    (core/files.py `append_line`): a write that fails, on a full disk say, leaves the file as it was."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def save(self, record: FeedbackRecord) -> None:
        line = json.dumps(record.model_dump(mode="json"), ensure_ascii=False)
        try:
            with self._lock:
                append_line(self.path, line, mode=0o600, what="the feedback file")
        except WriteError as exc:
            raise FeedbackError(f"cannot save feedback: {exc}; check RESOLUTION_QA_FEEDBACK_PATH") from None

    def read(self) -> list[FeedbackRecord]:
        """Every good record, the last line of each id, in the order they were first given (bad lines skipped)."""
        return self.scan()[0]

    def scan(self) -> tuple[list[FeedbackRecord], list[str]]:
        """(every good record as read() gives them, one line per bad line saying why it was skipped).

        A bad line (not JSON, nested too deep, a number too long, a record of the wrong shape, a line cut short by
        a write that did not finish) is skipped and named; it never costs the records around it. FeedbackError only
        when the file itself cannot be read."""
        if not self.path.is_file():
            return [], []
        try:
            text = self.path.read_text(encoding="utf-8", errors="surrogateescape")
        except OSError as exc:
            raise FeedbackError(f"cannot read {self.path}: {exc.strerror or exc}") from None
        lines, torn = read_lines(text)
        records: dict[str, FeedbackRecord] = {}
        problems: list[str] = []
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            record, why = _parse_line(line)
            if record is None and torn and number == len(lines):
                why = "cut short (a write that did not finish)"
            if why is not None:
                problems.append(f"{self.path}:{number}: {why}; skipped")
            if record is not None:
                records[record.id] = record
        return list(records.values()), problems


#: Where a record starts inside a line that an older version appended onto a torn one.
_RECORD_START = re.compile(r'\{\s*"id"\s*:')


def _parse_line(line: str) -> tuple[FeedbackRecord | None, str | None]:
    """(the record on a line, or None; why the line, or a part of it, is bad)."""
    record, why = _record_of(line)
    if record is not None:
        return record, None
    # A torn line with a whole record appended after it (written before appends were line-safe): keep that record.
    starts = [m.start() for m in _RECORD_START.finditer(line) if m.start() > 0]
    for start in reversed(starts[-20:]):
        found, _ = _record_of(line[start:])
        if found is not None:
            return found, f"a torn record before column {start + 1}"
    return None, why


def _record_of(text: str) -> tuple[FeedbackRecord | None, str | None]:
    try:
        value = json.loads(text)
    except RecursionError:
        return None, "nested too deep"
    except ValueError as exc:  # JSONDecodeError; a number past Python's 4,300-digit limit
        return None, f"not JSON ({_short(exc)})"
    if not isinstance(value, dict):
        return None, f"not a feedback record (a JSON {type(value).__name__})"
    try:
        record = FeedbackRecord.model_validate(value)
        record.parsed_answer()
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error.get("loc", ())) or "record"
        place = "answer." if exc.title == "Answer" else ""
        return None, f"not a feedback record ({place}{where}: {_short(error['msg'])})"
    except (RecursionError, ValueError, TypeError) as exc:
        return None, f"not a feedback record ({_short(exc)})"
    return record, None


def _short(exc: object, limit: int = 120) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
