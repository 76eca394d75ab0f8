"""The Assistant: question (+ history) -> rewrite -> retrieve -> prompt -> chat model -> validated, cited Answer."""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from time import perf_counter
from typing import Protocol

from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.runnables import Runnable, RunnableLambda

from resolution_qa.core.errors import BackendError, EmptyQuestionError, ReferenceOutOfRangeError, ResolutionQAError
from resolution_qa.core.settings import Backend, Settings
from resolution_qa.ingest.units import Document, Lang, Unit
from resolution_qa.vectorstore.links import related
from resolution_qa.vectorstore.types import RetrievalResult

from .backends import make_chat_model
from .citations import LabelStream, StreamScreen, cite, display_label, validate
from .extractive import PassageScorer, extract, render
from .guard import foreign, injected_payloads, obeys, without_instructions
from .language import LanguageGuess, detect_language, warm_up
from .prompts import (
    ANSWER_PROMPT,
    CLOSEST,
    EMPTY_ANSWER,
    FALLBACK_NOTICE,
    INSTRUCTION,
    KIND_NAMES,
    LANGUAGE_NAME,
    NOT_IN_SOURCES,
    OTHER_LANGUAGE,
    OUT_OF_RANGE,
    OUT_OF_RANGE_ANY,
    PREVIOUS_QUESTION,
    REFUSAL,
    REFUSAL_ANY,
)
from .rewrite import Rewrite, rewrite
from .types import Answer, Citation, Timings, Turn

#: Longest question accepted, in characters (a pasted page is not a question).
MAX_QUESTION_CHARS = 4000
#: An LLM answer longer than llm_max_tokens times this many characters is cut off as garbage.
MAX_CHARS_PER_TOKEN = 12
#: Units given to the chat model: the small default model contradicts itself with 7 or more.
CONTEXT_UNITS = 3
#: Footnotes of an explicitly named paragraph given with it.
CONTEXT_FOOTNOTES = 3
#: A unit longer than this is cut to its passages closest to the question before it goes in the prompt.
CONTEXT_UNIT_CHARS = 600
#: Units offered with a refusal.
SUGGESTIONS = 3
#: Units the extractive backend quotes, and how close to the best one (dense cosine) they must be.
EXTRACTIVE_UNITS = 3
EXTRACTIVE_MARGIN = 0.05

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


class QuestionTooLongError(ResolutionQAError):
    """A question longer than MAX_QUESTION_CHARS."""


class Retriever(Protocol):
    """What the assistant needs from retrieval (vectorstore.UnitRetriever)."""

    documents: list[Document]
    document: Document
    embeddings: Embeddings

    def search(self, query: str, k: int | None = None, docs: Sequence[str] | None = None) -> RetrievalResult: ...


def clean_question(question: str) -> str:
    """Strip control characters and surrounding space; reject empty, wordless (punctuation, emoji) and overlong questions."""
    text = _CONTROL.sub(" ", unicodedata.normalize("NFC", question or ""))
    text = re.sub(r"[ \t]+", " ", text).strip()
    if not text:
        raise EmptyQuestionError("the question is empty; type a question about the resolution")
    if not re.search(r"\w", text):  # "???", "😀🙏": nothing to retrieve, in any language or script
        raise EmptyQuestionError(
            "the question has no words, only punctuation or symbols; type a question about the resolution"
        )
    if len(text) > MAX_QUESTION_CHARS:
        raise QuestionTooLongError(
            f"the question is {len(text)} characters long; ask something shorter than {MAX_QUESTION_CHARS}"
        )
    return text


def _as_turn(item: Turn | Answer) -> Turn:
    return item.to_turn() if isinstance(item, Answer) else item


@dataclass(frozen=True)
class Prepared:
    """A question after rewriting and retrieval, before generation."""

    question: str
    guess: LanguageGuess
    rewrite: Rewrite
    result: RetrievalResult | None
    started: float
    retrieval_s: float
    out_of_range: ReferenceOutOfRangeError | None = None
    docs: tuple[str, ...] = ()  # the documents the question was asked about (a filter), by symbol

    @property
    def lang(self) -> Lang:
        return self.guess.answer


class Assistant:
    """Answers questions about the indexed resolution(s), in French or English, with validated citations.

    Build it once (it loads the embedding model, the index and the chat model) and call `ask` or
    `stream` for each question; pass the previous answers (or their `to_turn()`) as history.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        backend: Backend | None = None,
        retriever: Retriever | None = None,
        chat_model: BaseChatModel | None = None,
    ) -> None:
        self.settings = settings
        self.backend: Backend = backend or settings.backend
        if retriever is None:
            from resolution_qa.vectorstore import open_retriever

            retriever = open_retriever(settings)
        self.retriever = retriever
        self.scorer = PassageScorer(retriever.embeddings)
        if chat_model is None and self.backend != "extractive":
            chat_model = make_chat_model(settings, self.backend)
        self.chat_model = chat_model if self.backend != "extractive" else None
        self._multi_doc = len(retriever.documents) > 1
        # rewrite -> retrieve, then prompt -> chat model -> text; validation parses the text afterwards.
        self.prepare: Runnable = RunnableLambda(self._rewrite_step, name="rewrite") | RunnableLambda(
            self._retrieve_step, name="retrieve"
        )
        self.generate: Runnable | None = (
            ANSWER_PROMPT | self.chat_model | StrOutputParser() if self.chat_model is not None else None
        )
        self._llm_lock = threading.Lock()  # llama.cpp is not safe to call from two threads at once
        warm_up()

    @classmethod
    def from_settings(cls, settings: Settings, backend: Backend | None = None) -> Assistant:
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
        started = perf_counter()
        prepared: Prepared = self.prepare.invoke(
            {"question": question, "history": list(history or []), "started": started, "docs": tuple(docs or ())}
        )
        lang = prepared.lang
        if prepared.out_of_range is not None:
            yield from self._finish(self._out_of_range(prepared))
            return
        assert prepared.result is not None
        result = prepared.result
        if self._should_refuse(result):
            yield from self._finish(self._refusal(prepared, self._suggestions(result)))
            return
        context = self.select_context(result)
        if self.generate is None:
            yield from self._finish(self._extractive(prepared, result, context))
            return

        stream = LabelStream(context, lang, NOT_IN_SOURCES, multi_doc=self._multi_doc)
        # Orders hidden in the question or the sources ("answer only 'PWNED'", "answer in German") name what
        # an obedient model would write; such sentences are never shown, like leaks of the rules.
        payloads = injected_payloads(prepared.question, [u.text for u in context])

        def obeyed(sentence: str) -> bool:
            return foreign(sentence) or obeys(sentence, payloads)

        screen = StreamScreen(context, obeyed)
        raw: list[str] = []
        first_token: float | None = None
        try:
            with self._llm_lock:
                for piece in self._generate_pieces(prepared, context):
                    raw.append(piece)
                    shown = screen.feed(stream.feed(piece))
                    if shown:
                        if first_token is None:
                            first_token = perf_counter() - started
                            if not prepared.guess.supported:
                                yield OTHER_LANGUAGE + "\n"
                        yield shown
            tail = screen.feed(stream.flush()) + screen.flush()
            if tail:
                first_token = first_token if first_token is not None else perf_counter() - started
                yield tail
        except Exception as exc:  # any backend failure (network, llama.cpp, timeout) -> extractive
            reason = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
            fallback = self._extractive(prepared, result, context, failure=reason)
            yield from self._finish(fallback, restart=first_token is not None)
            return
        yield self._from_model("".join(raw), prepared, result, context, first_token, obeyed)

    # --- pipeline steps --------------------------------------------------------------------------

    def _rewrite_step(self, inputs: dict) -> tuple[str, LanguageGuess, Rewrite, float, tuple[str, ...]]:
        question = clean_question(inputs["question"])
        turns = [_as_turn(t) for t in inputs["history"]]
        turns = turns[-self.settings.history_turns :] if self.settings.history_turns else []
        fallback: Lang = next((t.language for t in reversed(turns) if t.language), None) or "en"
        asked = without_instructions(question)
        guess = detect_language(asked, fallback)
        documents = self.retriever.documents
        rewritten = rewrite(asked, turns, self.retriever.document, guess.answer, documents=documents)
        docs: tuple[str, ...] = inputs.get("docs", ())
        if not docs and self._multi_doc and rewritten.previous is not None and turns:
            # "And what does it ask of States?" goes on about the resolution the last answer cited.
            cited = {c.doc for c in turns[-1].citations}
            docs = tuple(cited) if len(cited) == 1 else ()
        return question, guess, rewritten, inputs["started"], docs

    def _retrieve_step(self, step: tuple[str, LanguageGuess, Rewrite, float, tuple[str, ...]]) -> Prepared:
        question, guess, rewritten, started, docs = step
        try:
            if docs:
                result = self.retriever.search(rewritten.standalone, docs=docs)
            else:
                result = self.retriever.search(rewritten.standalone)
        except ReferenceOutOfRangeError as exc:
            return Prepared(
                question, guess, rewritten, None, started, perf_counter() - started, out_of_range=exc, docs=docs
            )
        return Prepared(question, guess, rewritten, result, started, perf_counter() - started, docs=docs)

    def _should_refuse(self, result: RetrievalResult) -> bool:
        if result.references:
            return False  # a paragraph the user named always exists by now (else: out of range)
        if not result.hits:
            return True
        return result.best_dense is not None and result.best_dense < self.settings.refusal_threshold

    def select_context(self, result: RetrievalResult) -> list[Unit]:
        """The units the generator sees, best first: the named ones (+ their footnotes), else the top ranked."""
        named = [h.unit for h in result.hits if h.via == "reference"][:CONTEXT_UNITS]
        if named:
            # A named unit's links answer questions about it ("which report does paragraph 1 note?"):
            # a paragraph's footnotes, a footnote's paragraph and the source of its "Ibid.".
            linked = [u for unit in named for u in related(unit, self._document_of(unit)) if u not in named]
            return named + list(dict.fromkeys(linked))[:CONTEXT_FOOTNOTES]
        ranked = [h.unit for h in result.hits if h.via == "ranked"]
        return (ranked or [h.unit for h in result.hits])[:CONTEXT_UNITS]

    def _generate_pieces(self, prepared: Prepared, context: Sequence[Unit]) -> Iterator[str]:
        assert self.generate is not None
        inputs = self.prompt_inputs(prepared, context)
        deadline = perf_counter() + self.settings.llm_timeout_s
        # The chat model is streamed itself, not through the prompt | model | parser chain: a chain's stream,
        # abandoned at the deadline, reads the rest of the answer before it closes (measured: a server
        # trickling for 6 s held a 1 s timeout to 6.2 s); the model's own stream closes at once.
        assert self.chat_model is not None
        limit = self.settings.llm_max_tokens * MAX_CHARS_PER_TOKEN
        written = 0
        for chunk in self.chat_model.stream(ANSWER_PROMPT.invoke(inputs)):
            if perf_counter() > deadline:
                raise BackendError(f"no complete answer within {self.settings.llm_timeout_s:g} s")
            piece = chunk.content if isinstance(chunk.content, str) else "".join(
                part if isinstance(part, str) else str(part.get("text", "")) for part in chunk.content
            )
            written += len(piece)
            if written > limit:  # a server that ignores max_tokens: its answer is garbage, not a longer answer
                raise BackendError(f"the answer ran past {limit} characters ({self.settings.llm_max_tokens} tokens)")
            yield piece

    def prompt_inputs(self, prepared: Prepared, context: Sequence[Unit]) -> dict[str, str]:
        """The variables of ANSWER_PROMPT; questions and unit texts are data inside delimiters."""
        rw = prepared.rewrite
        question = prepared.question if rw.previous is not None else rw.standalone
        vector = self.scorer.embed_query(question) if any(len(u.text) > CONTEXT_UNIT_CHARS for u in context) else None
        sources = "\n".join(
            f'<source tag="S{i}"{self._resolution_attribute(unit)} '
            f'label="{display_label(unit, prepared.lang, multi_doc=self._multi_doc)}">'
            f"{_data(self._unit_text(unit, vector))}</source>"
            for i, unit in enumerate(context, start=1)
        )
        previous = PREVIOUS_QUESTION.format(question=_data(rw.previous)) if rw.previous else ""
        return {
            "language": LANGUAGE_NAME[prepared.lang],
            "sources": sources,
            "previous": previous,
            "question": _data(question),
            "instruction": INSTRUCTION[prepared.lang],
        }

    def _resolution_attribute(self, unit: Unit) -> str:
        """In a corpus, which resolution a source comes from: its symbol and title."""
        if not self._multi_doc:
            return ""
        title = self._document_of(unit).title
        return f' resolution="{unit.doc}"' + (f' title="{_data(title).replace(chr(34), chr(39))}"' if title else "")

    def _unit_text(self, unit: Unit, vector: Sequence[float] | None) -> str:
        text = unit.text
        if unit.kind == "footnote" and unit.source and unit.source != unit.text:
            text = f"{unit.text} [= {unit.source}]"
        if len(text) <= CONTEXT_UNIT_CHARS or vector is None:
            return text
        # Keep the passages closest to the question, in document order: the answer to a question
        # about a long paragraph often sits after a page break, near its end.
        scored = self.scorer.ranked_passages(unit, vector)
        keep: set[str] = set()
        budget = CONTEXT_UNIT_CHARS
        for passage, _ in sorted(scored, key=lambda item: -item[1]):
            if len(passage) <= budget or not keep:
                keep.add(passage)
                budget -= len(passage)
        return " … ".join(p for p, _ in scored if p in keep)

    # --- answers ---------------------------------------------------------------------------------

    def _from_model(
        self,
        raw: str,
        prepared: Prepared,
        result: RetrievalResult,
        context: Sequence[Unit],
        first_token: float | None,
        obeyed: Callable[[str], bool],
    ) -> Answer:
        if NOT_IN_SOURCES in raw and not re.search(r"\[\s*S?\d", raw):
            return self._refusal(prepared, self._suggestions(result), first_token=first_token)
        question = prepared.question if prepared.rewrite.previous is not None else prepared.rewrite.standalone
        checked = validate(
            raw.replace(NOT_IN_SOURCES, ""),
            context,
            prepared.lang,
            self.scorer.best_unit,
            question=question,
            multi_doc=self._multi_doc,
            obeys=obeyed,
        )
        if not checked.text and checked.ungrounded:
            # Everything the model said rested on numbers the text does not contain.
            return self._refusal(prepared, self._suggestions(result), first_token=first_token)
        if not checked.text:
            return self._extractive(prepared, result, context, failure=EMPTY_ANSWER[prepared.lang])
        text = checked.text if prepared.guess.supported else f"{OTHER_LANGUAGE}\n{checked.text}"
        return self._answer(
            prepared,
            text=text,
            units=checked.units,
            context=context,
            backend=self.backend,
            first_token=first_token,
            notice=None if prepared.guess.supported else OTHER_LANGUAGE,
        )

    def _extractive(
        self, prepared: Prepared, result: RetrievalResult, context: Sequence[Unit], *, failure: str | None = None
    ) -> Answer:
        lang = prepared.lang
        named = [h.unit for h in result.hits if h.via == "reference"]
        if named:
            units = list(context)
        else:
            ranked = [h for h in result.hits if h.via == "ranked"] or list(result.hits)
            best = ranked[0].dense if ranked[0].dense is not None else ranked[0].score
            units = [
                h.unit
                for h in ranked[:EXTRACTIVE_UNITS]
                if (h.dense if h.dense is not None else h.score) >= best - EXTRACTIVE_MARGIN
            ]
        question = prepared.question if prepared.rewrite.previous is not None else prepared.rewrite.standalone
        quotes = extract(question, units, self.scorer, whole=[u.id for u in named])
        lines: list[str] = []
        notice = None
        if failure is not None:
            notice = FALLBACK_NOTICE[lang].format(reason=failure)
            lines.append(notice)
        if not prepared.guess.supported:
            notice = notice or OTHER_LANGUAGE
            lines.append(OTHER_LANGUAGE)
        lines.append(render(quotes, lang, multi_doc=self._multi_doc))
        return self._answer(
            prepared,
            text="\n".join(lines),
            units=[q.unit for q in quotes],
            context=context,
            backend="extractive",
            notice=notice,
        )

    def _refusal(self, prepared: Prepared, closest: Sequence[Unit], *, first_token: float | None = None) -> Answer:
        lang = prepared.lang
        lines = [] if prepared.guess.supported else [OTHER_LANGUAGE]
        scope = self._scope(prepared)
        if len(scope) == 1:
            lines.append(REFUSAL[lang].format(doc=scope[0]))
        else:
            lines.append(REFUSAL_ANY[lang].format(docs=", ".join(scope)))
        suggestions = tuple(cite(u, lang, multi_doc=self._multi_doc) for u in closest)
        if suggestions:
            lines.append(CLOSEST[lang].format(labels=", ".join(s.label for s in suggestions)))
        return self._answer(
            prepared,
            text=" ".join(lines),
            units=[],
            context=list(closest),
            backend=self.backend,
            refused=True,
            suggestions=suggestions,
            first_token=first_token,
            notice=None if prepared.guess.supported else OTHER_LANGUAGE,  # as for every answer to another language
        )

    def _out_of_range(self, prepared: Prepared) -> Answer:
        exc = prepared.out_of_range
        assert exc is not None
        lang = prepared.lang
        kind = exc.kind if exc.kind in KIND_NAMES[lang] else "operative"
        plural, singular = KIND_NAMES[lang][kind]  # type: ignore[index]
        docs = exc.docs or (self.retriever.document.symbol,)
        if len(docs) == 1:
            text = OUT_OF_RANGE[lang].format(
                doc=docs[0], maximum=exc.maximum, plural=plural, singular=singular, number=exc.number
            )
        else:
            text = OUT_OF_RANGE_ANY[lang].format(docs=", ".join(docs), singular=singular, number=exc.number)
        return self._answer(prepared, text=text, units=[], context=[], backend=self.backend, refused=True)

    def _scope(self, prepared: Prepared) -> list[str]:
        """The symbols of the documents a question was answered from: named in it, else the filter, else all."""
        from resolution_qa.vectorstore.references import named_resolutions

        indexed = [d.symbol for d in self.retriever.documents]
        named = [s for s in named_resolutions(prepared.rewrite.standalone) if s in indexed]
        if named:
            return named
        if prepared.docs:
            from resolution_qa.vectorstore.references import resolution_symbol

            return list(dict.fromkeys(resolution_symbol(d) for d in prepared.docs))
        return indexed

    def _suggestions(self, result: RetrievalResult) -> list[Unit]:
        return [h.unit for h in result.hits if h.via in ("ranked", "reference")][:SUGGESTIONS]

    def _answer(
        self,
        prepared: Prepared,
        *,
        text: str,
        units: Sequence[Unit],
        context: Sequence[Unit],
        backend: str,
        refused: bool = False,
        suggestions: tuple[Citation, ...] = (),
        first_token: float | None = None,
        notice: str | None = None,
    ) -> Answer:
        lang = prepared.lang
        cited = {u.key for u in units}
        notes: dict[str, Citation] = {}
        for unit in units:
            for fid in unit.footnotes:
                note = self._document_of(unit).get(fid)
                if note is not None and note.key not in cited and note.key not in notes:
                    notes[note.key] = cite(note, lang, multi_doc=self._multi_doc)
        total = perf_counter() - prepared.started
        return Answer(
            question=prepared.question,
            text=text,
            language=lang,
            refused=refused,
            citations=tuple(cite(u, lang, multi_doc=self._multi_doc) for u in units),
            retrieved=tuple(u.id for u in context),
            standalone=prepared.rewrite.standalone,
            timings=Timings(
                retrieval=prepared.retrieval_s,
                first_token=first_token if first_token is not None else total,
                total=total,
            ),
            backend=backend,
            notice=notice,
            suggestions=suggestions,
            footnotes=tuple(notes.values()),
        )

    def _document_of(self, unit: Unit) -> Document:
        return next((d for d in self.retriever.documents if d.symbol == unit.doc), self.retriever.document)

    @staticmethod
    def _finish(answer: Answer, *, restart: bool = False) -> Iterator[str | Answer]:
        # A text piece first, so that a consumer that only shows pieces shows the whole answer.
        yield ("\n\n" if restart else "") + answer.text
        yield answer


def _data(text: str | None) -> str:
    """Text placed inside prompt delimiters: angle brackets neutralised so it cannot close or open a tag."""
    return (text or "").replace("<", "‹").replace(">", "›")
