"""The Assistant: a question goes through explicit stages over one QuestionState, and comes out a cited Answer.

The path of a question is `Assistant.stream`, a list of stage calls that reads top to bottom:
understand (clean, language, standalone form) -> retrieve -> select (the units it may cite, or decline) ->
read (the model judges, code decides; LLM backends only) -> write -> check (each sentence) -> compose the Answer.
Each stage fills the QuestionState and returns; none calls back into an earlier one. No LangChain chain runs the
stages: LangChain is used where it buys something: the chat models of every backend, their token streaming, prompts.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from time import perf_counter
from typing import Protocol, runtime_checkable

from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel

from resolution_qa.core.errors import ReferenceOutOfRangeError, ResolutionQAError, UnknownDocumentError, one_line
from resolution_qa.core.settings import Settings
from resolution_qa.core.strings import ui_text
from resolution_qa.ingest.renderings import BUNDLED_DIR as RENDERINGS_DIR
from resolution_qa.ingest.renderings import with_renderings
from resolution_qa.ingest.units import Document, Unit
from resolution_qa.vectorstore.types import Hit, RetrievalResult

from .backends import get_backend
from .check import SentenceCheck
from .compose import Composer
from .evidence import Vocabulary, build_vocabulary
from .extractive import ClauseScorer
from .language import warm_up
from .policy import WRITTEN
from .reader import Reader
from .reading import ReadingStage, passage
from .select import correcting, decide, select
from .state import QuestionState, finish
from .types import Answer, Answerer, Sources, Turn
from .understand import MAX_QUESTION_CHARS, QuestionTooLongError, clean_question, understand

__all__ = ["MAX_QUESTION_CHARS", "Answerer", "Assistant", "QuestionTooLongError", "Retriever", "clean_question"]


@runtime_checkable
class Retriever(Protocol):
    """What the assistant needs from retrieval (vectorstore.UnitRetriever)."""

    documents: list[Document]
    embeddings: Embeddings

    def search(self, query: str, k: int | None = None, docs: Sequence[str] | None = None) -> RetrievalResult: ...


class Assistant(Answerer):
    """Answers questions about the indexed resolution(s), in French or English, with validated citations.

    Build it once (it loads the embedding model, the index and the chat model) and call `ask` (Answerer's: the
    final Answer of `stream`) or `stream` for each question; pass the previous answers (or their `to_turn()`) as
    history. `docs` (symbols, e.g. ["A/RES/75/158"]) limits the answer to those indexed resolutions; None or empty
    means all of them. An unknown symbol raises UnknownDocumentError.
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
        self.answer_settings = settings.answer
        self.backend = get_backend(backend or settings.backend)
        if retriever is None:
            from resolution_qa.vectorstore import open_retriever

            retriever = open_retriever(settings)
        self.retriever = retriever
        self.scorer = ClauseScorer(retriever.embeddings)
        # Unofficial translations made once (`resolution-qa translate`): those made beside the index first (a user's
        # newer run), then the repository's.
        self.renderings = (Path(settings.store.index_dir) / "translations", RENDERINGS_DIR)
        self._indexed: list[Document] | None = None  # the retriever's list the views below were made from
        self._documents: list[Document] = []
        self._units: dict[str, Unit] = {}
        self._words: Vocabulary | None = None
        self._refresh()
        self.unavailable: str | None = None  # why the configured backend could not start (answers say so)
        if reader is None and self.backend.uses_llm:
            try:
                reader = self.backend.make_reader(self.llm, chat_model)
            except ResolutionQAError as exc:  # a missing or broken model: quote the text, and say why
                self.unavailable = one_line(exc)
        self.reading = (
            ReadingStage(reader, multi_doc=self.composer.multi_doc, timeout_s=self.llm.llm_timeout_s)
            if reader else None
        )
        self._llm_lock = threading.Lock()  # one question at a time through the model (llama.cpp is not re-entrant)
        warm_up()

    @classmethod
    def from_settings(cls, settings: Settings, backend: str | None = None) -> Assistant:
        """The assistant on the configured index, embedder and backend (all loaded now, once)."""
        return cls(settings, backend=backend)

    # --- public API ------------------------------------------------------------------------------

    def stream(
        self, question: str, history: Sequence[Turn | Answer] | None = None, docs: Sequence[str] | None = None
    ) -> Iterator[Sources | str | Answer]:
        """Yield, in order: `Sources` (the passages retrieved, as soon as retrieval is done; not for a reference
        to a paragraph that does not exist), pieces of the answer text as they come, then the final Answer
        (`docs`: as for `ask`).

        The final Answer's text is authoritative: checks may drop or replace what a model wrote, and a
        failing LLM is replaced by the extractive answer.
        """
        state = self.prepare(question, history, docs)  # understand, retrieve
        if state.out_of_range is None:
            select(state, self._documents, self.answer_settings, judged=self.reading is not None,
                   vocabulary=self._words)
            yield self.composer.sources(state)
            state.shown = state.elapsed
            if self.reading is not None and not state.footnoted:
                yield from self._read(state, self.reading)  # read, write, check
            elif self.unavailable is not None:
                state.failure = ui_text(state.lang).unavailable.format(backend=self.backend.name,
                                                                       reason=self.unavailable)
        answer = self.composer.compose(state)
        if state.sentences and state.failure is None:
            yield answer  # its sentences were streamed as they were checked
        else:
            yield from finish(answer, restart=state.restart)

    def warm(self, progress: Callable[[int, int], None] | None = None) -> int:
        """Read every unit of the indexed resolutions once with the model, in French and English, keeping each
        passage's state (on disk too), so that no question waits for it; `progress(done, total)` after each unit.
        Returns how many states were computed (0 when all were kept, or for a backend with no such state)."""
        warm = getattr(self.reading.reader, "warm", None) if self.reading is not None else None
        passages = [passage(u, lang) for d in self.documents for u in d.units for lang in ("fr", "en")]
        passages = list({p.key: p for p in passages}.values())
        built = 0
        for done, item in enumerate(passages, 1):
            if warm is not None:
                with self._llm_lock:  # a question waits for one passage at most
                    built += warm([item])
            if progress is not None:
                progress(done, len(passages))
        return built

    def prepare(
        self, question: str, history: Sequence[Turn | Answer] | None = None, docs: Sequence[str] | None = None
    ) -> QuestionState:
        """The first stages alone: the question understood (language, standalone form) and retrieved for."""
        if isinstance(docs, str):  # docs="A/RES/75/158": one symbol, not its characters ("A, /, R ... not indexed")
            docs = [docs]
        elif docs is not None and any(not isinstance(d, str) for d in docs):
            raise UnknownDocumentError(f"docs must be document symbols (text), e.g. [\"A/RES/75/158\"], not "
                                       f"{str(list(docs))[:80]}")
        self._refresh()
        state = understand(question, history or [], docs or (), self._documents,
                           keep_turns=self.answer_settings.history_turns)
        self._retrieve(state)
        return state

    @property
    def documents(self) -> list[Document]:
        """The indexed resolutions as answers read them: each unit with its unofficial translation, when one was made
        from its current text and no official version in that language is indexed."""
        self._refresh()
        return self._documents

    def _refresh(self) -> None:
        """Remake what rests on the indexed documents when the retriever follows a new index generation (an upload,
        another process's ingest): the documents with their renderings, the composer, the vocabulary (37 ms)."""
        indexed = self.retriever.documents
        if indexed is self._indexed:
            return
        self._documents = with_renderings(indexed, self.renderings)
        self._units = {u.key: u for d in self._documents for u in d.units}
        self.composer = Composer(self._documents, self.scorer, self.backend.name)
        self._words = build_vocabulary(u.text for d in self._documents for u in d.units)
        self._indexed = indexed

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
            # The units as answers read them (with their renderings: `documents`), the hits' scores unchanged.
            hits = tuple(h.model_copy(update={"unit": self._units.get(h.unit.key, h.unit)}) for h in result.hits)
            state.result = result.model_copy(update={"hits": hits})
            state.named = frozenset(h.unit.id for h in result.named)
        except ReferenceOutOfRangeError as exc:
            state.out_of_range = exc
        state.retrieval_s = perf_counter() - state.started

    def _read(self, state: QuestionState, reading: ReadingStage) -> Iterator[str]:
        """The model judges, code decides, the model writes sentences that code checks, each shown once checked.
        Any failure of the backend (network, llama.cpp, timeout, garbage) is recorded in `state.failure`: the
        answer then quotes the text (the one fallback path), after what was shown."""
        try:
            with self._llm_lock:
                decide(state, reading.judge(state), self.answer_settings)  # read: judge, then decide
                if state.refused or state.missing or state.footnoted:
                    return  # a refusal, "the text does not give that date", a footnote's reference: written in code
                state.not_said = reading.premise_unsupported(state)
                if state.not_said:
                    correcting(state)
                    state.restart = True
                    yield ui_text(state.lang).not_said + " "
                check = SentenceCheck(state, self.scorer, self.answer_settings,
                                      verify=lambda sentence, unit: reading.verify(state, sentence, unit))
                for unit in state.kept[:WRITTEN]:
                    written, start = reading.write(state, unit)  # write
                    sentence = check.check(unit, written, start)  # check
                    if state.first_token is None:
                        state.first_token = state.elapsed
                    state.sentences.append(sentence)
                    state.restart = True
                    yield sentence.text + " "
        except Exception as exc:  # the backend failed: compose quotes the text instead, saying why
            state.failure = one_line(exc, limit=160)


def fuse(first: RetrievalResult, second: RetrievalResult, *, k: int = 10) -> RetrievalResult:
    """Two rankings as one, by reciprocal rank (1 / (k + rank)); the first's references stay first."""
    scores: dict[str, float] = {}
    best: dict[str, Hit] = {}
    for result in (first, second):
        for rank, hit in enumerate(result.found):
            scores[hit.unit.key] = scores.get(hit.unit.key, 0.0) + 1.0 / (k + rank)
            best.setdefault(hit.unit.key, hit)
    order = sorted((key for key in scores if best[key].via != "reference"), key=lambda key: -scores[key])
    hits = list(first.named) + [best[key] for key in order]
    seen = {h.unit.key for h in hits}
    linked = [h for result in (first, second) for h in result.linked]
    hits += [h for h in linked if not (h.unit.key in seen or seen.add(h.unit.key))]  # type: ignore[func-returns-value]
    dense = [d for d in (first.best_dense, second.best_dense) if d is not None]
    return first.model_copy(update={"hits": tuple(hits), "best_dense": max(dense) if dense else None})

