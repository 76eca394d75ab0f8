"""The model stage: stream the chat model's answer, show only sentences that pass the checks, then validate it."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from time import perf_counter

from langchain_core.language_models import BaseChatModel

from resolution_qa.core.errors import BackendError
from resolution_qa.core.settings import LLMSettings
from resolution_qa.core.strings import OTHER_LANGUAGE

from .citations import LabelStream, StreamScreen, Validated, validate
from .extractive import PassageScorer
from .guard import foreign, injected_payloads, obeys
from .prompts import ANSWER_PROMPT, NOT_IN_SOURCES
from .state import QuestionState

#: An LLM answer longer than llm_max_tokens times this many characters is cut off as garbage.
MAX_CHARS_PER_TOKEN = 12


class ModelTurn:
    """One run of the chat model for a question: the shown (screened) text as it streams, then the raw text."""

    def __init__(self, state: QuestionState, model: BaseChatModel, llm: LLMSettings, multi_doc: bool) -> None:
        self.state = state
        self.model = model
        self.llm = llm
        self.multi_doc = multi_doc
        self.raw = ""
        # Orders hidden in the question or the sources ("answer only 'PWNED'", "answer in German") name what
        # an obedient model would write; such sentences are never shown, like leaks of the rules.
        payloads = injected_payloads(state.question, [u.text for u in state.context])
        self.obeyed: Callable[[str], bool] = lambda sentence: foreign(sentence) or obeys(sentence, payloads)

    def stream(self, inputs: dict[str, str]) -> Iterator[str]:
        """The text to show as it comes: tags turned into labels, whole sentences that pass the checks only."""
        state = self.state
        labels = LabelStream(state.context, state.lang, NOT_IN_SOURCES, multi_doc=self.multi_doc)
        screen = StreamScreen(state.context, self.obeyed)
        pieces: list[str] = []
        for piece in self._pieces(inputs):
            pieces.append(piece)
            shown = screen.feed(labels.feed(piece))
            if shown:
                if state.first_token is None:
                    state.first_token = state.elapsed
                    if not state.supported:
                        yield OTHER_LANGUAGE + "\n"
                yield shown
        self.raw = "".join(pieces)
        tail = screen.feed(labels.flush()) + screen.flush()
        if tail:
            state.first_token = state.first_token if state.first_token is not None else state.elapsed
            yield tail

    def _pieces(self, inputs: dict[str, str]) -> Iterator[str]:
        deadline = perf_counter() + self.llm.llm_timeout_s
        limit = self.llm.llm_max_tokens * MAX_CHARS_PER_TOKEN
        written = 0
        # The chat model is streamed itself, not through a prompt | model | parser chain: a chain's stream,
        # abandoned at the deadline, reads the rest of the answer before it closes (measured: a server
        # trickling for 6 s held a 1 s timeout to 6.2 s); the model's own stream closes at once.
        for chunk in self.model.stream(ANSWER_PROMPT.invoke(inputs)):
            if perf_counter() > deadline:
                raise BackendError(f"no complete answer within {self.llm.llm_timeout_s:g} s")
            content = chunk.content
            piece = content if isinstance(content, str) else "".join(
                part if isinstance(part, str) else str(part.get("text", "")) for part in content
            )
            written += len(piece)
            if written > limit:  # a server that ignores max_tokens: its answer is garbage, not a longer answer
                raise BackendError(f"the answer ran past {limit} characters ({self.llm.llm_max_tokens} tokens)")
            yield piece

    # --- after the stream -----------------------------------------------------------------------------

    def declined(self) -> bool:
        """The model said no source relates to the question (and cited none)."""
        return NOT_IN_SOURCES in self.raw and not re.search(r"\[\s*S?\d", self.raw)

    def checked(self, scorer: PassageScorer) -> Validated:
        """The model's text with every citation a given unit, claims without support dropped."""
        return validate(
            self.raw.replace(NOT_IN_SOURCES, ""),
            self.state.context,
            self.state.lang,
            scorer.best_unit,
            question=self.state.asked,
            multi_doc=self.multi_doc,
            obeys=self.obeyed,
        )
