"""The Assistant: a question goes through explicit stages over one QuestionState, and comes out a cited Answer.

understand (clean, language, standalone form) -> retrieve -> decide (out of range? not addressed?) ->
choose the units it may cite -> the model writes, screened as it streams -> check it -> compose the Answer.
No LangChain chain runs the stages: each is a plain call, so the path of a question reads top to bottom here.
LangChain is used where it buys something: the chat models of every backend, their token streaming, prompts.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from time import perf_counter
from typing import Protocol, runtime_checkable

from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel

from resolution_qa.core.errors import ReferenceOutOfRangeError, ResolutionQAError, one_line
from resolution_qa.core.settings import Settings
from resolution_qa.core.strings import words
from resolution_qa.ingest.units import Document
from resolution_qa.vectorstore.types import Hit, RetrievalResult

from .answering import ReadingStage
from .backends import get_backend
from .compose import Composer
from .context import select_context
from .extractive import PassageScorer
from .language import warm_up
from .reader import Reader
from .state import QuestionState
from .types import Answer, Sources, Turn
from .understand import MAX_QUESTION_CHARS, QuestionTooLongError, clean_question, understand

__all__ = ["MAX_QUESTION_CHARS", "Assistant", "QuestionTooLongError", "Retriever", "clean_question"]


@runtime_checkable
class Retriever(Protocol):
    """What the assistant needs from retrieval (vectorstore.UnitRetriever)."""

    documents: list[Document]
    embeddings: Embeddings

    def search(self, query: str, k: int | None = None, docs: Sequence[str] | None = None) -> RetrievalResult: ...


class Assistant:
    """Answers questions about the indexed resolution(s), in French or English, with validated citations.

    Build it once (it loads the embedding model, the index and the chat model) and call `ask` or
    `stream` for each question; pass the previous answers (or their `to_turn()`) as history.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        backend: str | None = None,
        retriever: Retriever | None = None,
        chat_model: BaseChatModel | None = None,
        reader: Reader | None = None,
    ) -> None:
        self.llm = settings.llm
        self.answering = settings.answer
        self.backend = get_backend(backend or settings.backend)
        if retriever is None:
            from resolution_qa.vectorstore import open_retriever

            retriever = open_retriever(settings)
        self.retriever = retriever
        self.scorer = PassageScorer(retriever.embeddings)
        documents = retriever.documents
        self.composer = Composer(documents, self.scorer, self.backend.name)
        self.unavailable: str | None = None  # why the configured backend could not start (answers say so)
        if reader is None and self.backend.uses_llm:
            try:
                reader = self.backend.make_reader(self.llm, chat_model)
            except ResolutionQAError as exc:  # a missing or broken model: quote the text, and say why
                self.unavailable = one_line(exc)
        self.reading = (
            ReadingStage(reader, self.composer, self.scorer, self.answering, timeout_s=self.llm.llm_timeout_s)
            if reader else None
        )
        self._llm_lock = threading.Lock()  # one question at a time through the model (llama.cpp is not re-entrant)
        warm_up()

    @classmethod
    def from_settings(cls, settings: Settings, backend: str | None = None) -> Assistant:
        """The assistant on the configured index, embedder and backend (all loaded now, once)."""
        return cls(settings, backend=backend)

    # --- public API ------------------------------------------------------------------------------

    def ask(
        self, question: str, history: Sequence[Turn | Answer] | None = None, docs: Sequence[str] | None = None
    ) -> Answer:
        """Answer one question; `history` holds the previous turns of the conversation, oldest first.

        `docs` (symbols, e.g. ["A/RES/75/158"]) limits the answer to those indexed resolutions; None or
        empty means all of them. An unknown symbol raises UnknownDocumentError.
        """
        answer: Answer | None = None
        for item in self.stream(question, history, docs):
            if isinstance(item, Answer):
                answer = item
        assert answer is not None
        return answer

    def stream(
        self, question: str, history: Sequence[Turn | Answer] | None = None, docs: Sequence[str] | None = None
    ) -> Iterator[Sources | str | Answer]:
        """Yield, in order: `Sources` (the passages retrieved, as soon as retrieval is done; not for a reference
        to a paragraph that does not exist), pieces of the answer text as they come, then the final Answer
        (`docs`: as for `ask`).

        The final Answer's text is authoritative: checks may drop or replace what a model wrote, and a
        failing LLM is replaced by the extractive answer.
        """
        state = self.prepare(question, history, docs)
        if state.out_of_range is not None:
            yield from _finish(self.composer.out_of_range(state))
            return
        assert state.result is not None
        sources = self.composer.sources(state)
        state.shown = state.elapsed
        yield sources
        if self.reading is not None:
            yield from self._read(state, self.reading)
            return
        if self._not_addressed(state):
            yield from _finish(self.composer.refusal(state))
            return
        state.context = select_context(state.result, self.retriever.documents)
        failure = None
        if self.unavailable is not None:
            failure = words(state.lang).unavailable.format(backend=self.backend.name, reason=self.unavailable)
        yield from _finish(self.composer.extractive(state, failure=failure))

    def prepare(
        self, question: str, history: Sequence[Turn | Answer] | None = None, docs: Sequence[str] | None = None
    ) -> QuestionState:
        """The first stages alone: the question understood (language, standalone form) and retrieved for."""
        state = understand(question, history or [], docs or (), self.retriever.documents,
                           keep_turns=self.answering.history_turns)
        self._retrieve(state)
        return state

    # --- stages ----------------------------------------------------------------------------------

    def _retrieve(self, state: QuestionState) -> None:
        """The units for the standalone question; a reference to a unit that does not exist is kept, not raised."""
        assert state.rewrite is not None
        docs = state.docs or None
        try:
            result = self.retriever.search(state.rewrite.standalone, docs=docs)
            if state.history and not state.rewrite.resolved:
                # A follow-up is also retrieved with the whole conversation's questions: on the dev splits'
                # follow-ups, recall@5 went from 0.870 (rewritten question alone) and 0.907 (joined turns alone)
                # to 0.944 fused (18 items).
                joined = " ".join([t.question for t in state.history] + [state.question])
                result = fuse(result, self.retriever.search(joined, docs=docs))
            state.result = result
        except ReferenceOutOfRangeError as exc:
            state.out_of_range = exc
        state.retrieval_s = perf_counter() - state.started

    def _not_addressed(self, state: QuestionState) -> bool:
        """The question is too far from every passage (dense similarity below the refusal threshold)."""
        result = state.result
        assert result is not None
        if result.references:
            return False  # a paragraph the user named always exists by now (else: out of range)
        if not result.hits:
            return True
        return result.best_dense is not None and result.best_dense < self.answering.refusal_threshold

    def _read(self, state: QuestionState, reading: ReadingStage) -> Iterator[str | Answer]:
        """The model judges, code decides, the model writes sentences that code checks; any failure of the
        backend (network, llama.cpp, timeout, garbage) gives the extractive answer instead, with the reason."""
        shown = False
        try:
            with self._llm_lock:
                for item in reading.run(state):
                    shown = shown or isinstance(item, str)
                    yield item
        except Exception as exc:  # the backend failed: the one fallback path, quotes of the text
            state.context = select_context(state.result, self.retriever.documents)  # type: ignore[arg-type]
            fallback = self.composer.extractive(state, failure=one_line(exc, limit=160))
            yield from _finish(fallback, restart=shown)


def fuse(first: RetrievalResult, second: RetrievalResult, *, k: int = 10) -> RetrievalResult:
    """Two rankings as one, by reciprocal rank (1 / (k + rank)); the first's references stay first."""
    ranked = ("reference", "ranked")
    scores: dict[str, float] = {}
    best: dict[str, Hit] = {}
    for result in (first, second):
        for rank, hit in enumerate(h for h in result.hits if h.via in ranked):
            scores[hit.unit.key] = scores.get(hit.unit.key, 0.0) + 1.0 / (k + rank)
            best.setdefault(hit.unit.key, hit)
    named = [h for h in first.hits if h.via == "reference"]
    order = sorted((key for key in scores if best[key].via != "reference"), key=lambda key: -scores[key])
    hits = named + [best[key] for key in order]
    seen = {h.unit.key for h in hits}
    linked = [h for result in (first, second) for h in result.hits if h.via not in ranked]
    hits += [h for h in linked if not (h.unit.key in seen or seen.add(h.unit.key))]  # type: ignore[func-returns-value]
    dense = [d for d in (first.best_dense, second.best_dense) if d is not None]
    return first.model_copy(update={"hits": tuple(hits), "best_dense": max(dense) if dense else None})


def _finish(answer: Answer, *, restart: bool = False) -> Iterator[str | Answer]:
    # A text piece first, so that a consumer that only shows pieces shows the whole answer.
    yield ("\n\n" if restart else "") + answer.text
    yield answer
