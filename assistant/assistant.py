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

from resolution_qa.core.errors import ReferenceOutOfRangeError, one_line
from resolution_qa.core.settings import Settings
from resolution_qa.core.strings import words
from resolution_qa.ingest.units import Document
from resolution_qa.vectorstore.types import RetrievalResult

from .backends import get_backend
from .compose import Composer
from .context import PromptBuilder, select_context
from .extractive import PassageScorer
from .generate import ModelTurn
from .language import warm_up
from .state import QuestionState
from .types import Answer, Turn
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
    ) -> None:
        self.llm = settings.llm
        self.answering = settings.answer
        self.backend = get_backend(backend or settings.backend)
        if retriever is None:
            from resolution_qa.vectorstore import open_retriever

            retriever = open_retriever(settings)
        self.retriever = retriever
        self.scorer = PassageScorer(retriever.embeddings)
        if not self.backend.uses_llm:
            chat_model = None
        elif chat_model is None:
            chat_model = self.backend.build(self.llm)
        self.chat_model = chat_model
        documents = retriever.documents
        self.prompts = PromptBuilder(self.scorer, documents)
        self.composer = Composer(documents, self.scorer, self.backend.name)
        self._llm_lock = threading.Lock()  # llama.cpp is not safe to call from two threads at once
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
    ) -> Iterator[str | Answer]:
        """Yield pieces of the answer text as they come, then the final Answer (`docs`: as for `ask`).

        The final Answer's text is authoritative: validation may attribute citations the stream
        did not show, and a failing LLM is replaced by the extractive answer.
        """
        state = self.prepare(question, history, docs)
        if state.out_of_range is not None:
            yield from _finish(self.composer.out_of_range(state))
            return
        if self._not_addressed(state):
            yield from _finish(self.composer.refusal(state))
            return
        assert state.result is not None
        state.context = select_context(state.result, self.retriever.documents)
        if self.chat_model is None:
            yield from _finish(self.composer.extractive(state))
            return
        yield from self._generate(state, self.chat_model)

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
        try:
            state.result = self.retriever.search(state.rewrite.standalone, docs=state.docs or None)
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

    def _generate(self, state: QuestionState, model: BaseChatModel) -> Iterator[str | Answer]:
        """The model's answer, streamed sentence by sentence as it passes the checks; any failure of the
        backend (network, llama.cpp, timeout, garbage) gives the extractive answer instead."""
        turn = ModelTurn(state, model, self.llm, self.composer.multi_doc)
        try:
            with self._llm_lock:
                yield from turn.stream(self.prompts.inputs(state))
        except Exception as exc:  # the backend failed: the one fallback path, quotes of the text
            fallback = self.composer.extractive(state, failure=one_line(exc, limit=160))
            yield from _finish(fallback, restart=state.first_token is not None)
            return
        yield self._checked(state, turn)

    def _checked(self, state: QuestionState, turn: ModelTurn) -> Answer:
        """The model's text once validated: an answer, a refusal, or quotes when nothing in it rested on the text."""
        if turn.declined():
            return self.composer.refusal(state)
        checked = turn.checked(self.scorer)
        if not checked.text and checked.ungrounded:
            return self.composer.refusal(state)  # everything the model said rested on numbers the text lacks
        if not checked.text:
            return self.composer.extractive(state, failure=words(state.lang).empty_answer)
        return self.composer.from_text(state, checked.text, checked.units)


def _finish(answer: Answer, *, restart: bool = False) -> Iterator[str | Answer]:
    # A text piece first, so that a consumer that only shows pieces shows the whole answer.
    yield ("\n\n" if restart else "") + answer.text
    yield answer
