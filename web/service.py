"""The chat app's engine room: one shared answering engine (extractive when the LLM cannot start), errors as messages."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from resolution_qa.assistant.types import Answer, Answerer, Sources, Turn
from resolution_qa.core.errors import ResolutionQAError, one_line
from resolution_qa.core.settings import Settings
from resolution_qa.ingest import Document

log = logging.getLogger(__name__)


#: Builds the engine of a backend: an Answerer (the app uses its `stream`: text pieces as they come, then the Answer).
EngineFactory = Callable[[Settings], Answerer]


@dataclass(frozen=True)
class Piece:
    """A piece of answer text, streamed as it is generated."""

    text: str


@dataclass(frozen=True)
class Failure:
    """No answer could be made; `message` says what went wrong and what to do."""

    message: str


ChatEvent = Sources | Piece | Failure | Answer


@dataclass(frozen=True)
class EngineStatus:
    """What the status line shows: the backend answering, its model, and any problem."""

    backend: str
    model: str
    embedding: str
    problem: str | None = None
    ready: bool = True


def model_name(settings: Settings) -> str:
    """The generator a backend uses, as a person would name it (the backend's registration says)."""
    from resolution_qa.assistant.backends import get_backend

    return get_backend(settings.backend).describe(settings.llm)


def _default_factory(settings: Settings) -> Answerer:
    from resolution_qa.assistant import Assistant  # heavy (models, index): imported only when the app starts

    return Assistant.from_settings(settings)


class ChatService:
    """One engine shared by every session (models load once), plus an extractive fallback built on demand.

    Thread-safe to call from Gradio's workers; the engine itself is used one question at a time.
    """

    def __init__(self, settings: Settings, factory: EngineFactory = _default_factory) -> None:
        self._settings = settings
        self._factory = factory
        self._engine: Answerer | None = None
        self._fallback: Answerer | None = None
        self._engine_backend = settings.backend
        self._problem: str | None = None
        self._lock = threading.RLock()

    # --- engines ---------------------------------------------------------------------------
    def start(self) -> EngineStatus:
        """Build the configured engine; if its LLM is unavailable, answer in extractive mode and say so."""
        with self._lock:
            if self._engine is not None:
                return self.status()
            try:
                self._engine = self._factory(self._settings)
                self._engine_backend = self._settings.backend
                self._problem = None
            except ResolutionQAError as exc:
                log.info("engine %s unavailable: %s", self._settings.backend, exc)
                self._problem = str(exc)
                if self._settings.backend != "extractive":
                    try:
                        self._engine = self._fallback_engine()
                        self._engine_backend = "extractive"
                        self._problem = f"{self._settings.backend} unavailable ({exc}); answering in extractive mode"
                    except ResolutionQAError as inner:
                        log.info("extractive engine unavailable too: %s", inner)
                        self._problem = str(inner)
            except Exception as exc:  # a bug or a broken install: keep the app up, show one line, log the rest
                log.exception("the assistant could not start")
                self._problem = f"the assistant could not start ({one_line(exc, kind=True)}); see the server log"
            return self.status()

    def _fallback_engine(self) -> Answerer:
        if self._fallback is None:
            self._fallback = self._factory(self._settings.with_backend("extractive"))
        return self._fallback

    def warm(self, progress: Callable[[int, int], None] | None = None) -> int:
        """Let the engine read every unit ahead of questions (Assistant.warm); 0 for an engine that cannot."""
        warm = getattr(self._engine, "warm", None)
        return warm(progress) if warm is not None else 0

    def documents(self) -> list[Document] | None:
        """The documents the engine answers about (an Assistant's retriever knows them), if it says."""
        engine = self._engine or self._fallback
        # An Assistant's own view first: its units carry their translations (the Resolution tab shows them).
        documents = getattr(engine, "documents", None) or getattr(getattr(engine, "retriever", None), "documents", None)
        return list(documents) if documents else None

    def retriever(self) -> object | None:
        """The engine's retriever (the running index: web/upload.py adds to it), if the engine has one."""
        return getattr(self._engine or self._fallback, "retriever", None)

    def status(self) -> EngineStatus:
        with self._lock:
            backend = self._engine_backend
            model = model_name(self._settings.with_backend(backend))
            return EngineStatus(
                backend=backend,
                model=model,
                embedding=self._settings.embedding_model,
                problem=self._problem,
                ready=self._engine is not None,
            )

    # --- answering -------------------------------------------------------------------------
    def stream(
        self, question: str, history: Sequence[Turn | Answer] = (), docs: Sequence[str] | None = None
    ) -> Iterator[ChatEvent]:
        """Answer one question (about the `docs` symbols only, when given) as events; never raises for a
        problem a user can fix."""
        if self._engine is None:
            status = self.start()  # the index or models may have been fixed since the app started
            if self._engine is None:
                yield Failure(status.problem or "the assistant could not start; see the server log")
                return
        engine = self._engine
        assert engine is not None
        try:
            for item in engine.stream(question, list(history), docs):
                if isinstance(item, Answer):
                    yield self._degraded_notice(item)
                    return
                yield item if isinstance(item, Sources) else Piece(item)
            yield Failure("the assistant stopped without an answer; see the server log")
        except ResolutionQAError as exc:
            yield Failure(str(exc))
        except Exception as exc:  # the UI edge: log the traceback, show one line
            log.exception("unexpected error while answering a question of %d characters", len(question))
            yield Failure(f"unexpected error ({one_line(exc, kind=True)}); see the server log")

    def _degraded_notice(self, answer: Answer) -> Answer:
        # Started in extractive mode because the configured LLM was unavailable: every answer says so.
        if self._engine_backend == self._settings.backend or answer.notice:
            return answer
        return answer.model_copy(
            update={"notice": f"The {self._settings.backend} backend is unavailable; this is an extractive answer."}
        )
