"""The model in narrow roles: judge whether a passage answers a question, and write one sentence from one passage.

A small model judges and fills short slots far better than it writes free text: the judge's score is the
probability of "yes" (token probabilities, never generated text), and the writer is held to one sentence from
one passage, which code then checks. Each LLM backend provides a Reader; `ChatReader` serves any LangChain chat
model (Ollama, an OpenAI-compatible server), `llama_reader.LlamaReader` a GGUF in this process.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from resolution_qa.core.refs import Lang

from . import glossary
from .prompts import (
    JUDGE_ASK,
    NO_WORDS,
    PREMISE_ASK,
    READER_PASSAGE,
    READER_SYSTEM,
    START,
    VERIFY_ASK,
    WRITE_ASK,
    WRITE_HINTS,
    YES_WORDS,
)

#: Longest sentence the writer may produce, in tokens (one sentence of a UN text, not a paragraph).
SENTENCE_TOKENS = 90


@dataclass(frozen=True)
class Passage:
    """What the model reads: a unit (or the part of it that matters), under its label."""

    key: str  # the unit's key (symbol#id): the model's state after reading it is cached under it
    label: str
    text: str
    lang: Lang = "fr"  # the language of the text


@runtime_checkable
class Reader(Protocol):
    """What an LLM backend does for the answer engine."""

    def judge(self, question: str, passages: Sequence[Passage], *, premise: bool = False) -> list[float]:
        """P(yes) to "does the passage contain the answer to the question?" (with `premise`: "does it say that what
        the question takes for granted is true?"), one per passage."""
        ...

    def write(self, question: str, passage: Passage, lang: Lang, start: str = "") -> Iterator[str]:
        """One sentence in `lang` answering the question from this passage alone, streamed in pieces; the
        sentence begins with `start` (not repeated in the pieces), which the writer continues."""
        ...

    def verify(self, sentence: str, passage: Passage) -> float:
        """P(yes) to "does the passage say what this sentence says?" (the check of a written sentence)."""
        ...


def passage_message(passage: Passage) -> str:
    return READER_PASSAGE.format(label=passage.label, text=passage.text)


def judge_message(question: str, *, premise: bool = False) -> str:
    return (PREMISE_ASK if premise else JUDGE_ASK).format(question=question)


def verify_message(sentence: str) -> str:
    return VERIFY_ASK.format(sentence=sentence)


def write_message(question: str, passage: Passage, lang: Lang) -> str:
    hints = ""
    if lang == "en" and passage.lang == "fr":
        found = glossary.hints(passage.text)
        hints = WRITE_HINTS.format(hints=found) if found else ""
    return WRITE_ASK[lang].format(question=question, hints=hints)


def p_yes(log_probs: dict[str, float]) -> float:
    """P(yes) among the yes/no words of a first token's top log-probabilities (0.5 when neither is there)."""
    yes = sum(math.exp(v) for k, v in log_probs.items() if k.strip() in YES_WORDS)
    no = sum(math.exp(v) for k, v in log_probs.items() if k.strip() in NO_WORDS)
    return yes / (yes + no) if yes + no > 0 else 0.5


def first_sentence(text: str) -> str:
    """The first sentence of a reply, on one line (a model that goes on after it is cut)."""
    line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    m = re.search(r"(?<=[.!?])\s+(?=[A-ZÀ-Ý«\"“])", line)
    return line[: m.start()] if m else line


def _first_top_logprobs(logprobs: Any) -> dict[str, float]:
    """The first token's top log-probabilities, as OpenAI ({"content": [...]}) or Ollama ([...]) return them."""
    tokens = logprobs.get("content") if isinstance(logprobs, dict) else logprobs
    if not tokens or not isinstance(tokens, list) or not tokens[0].get("top_logprobs"):
        return {}
    return {t["token"]: t["logprob"] for t in tokens[0]["top_logprobs"]}


class ChatReader:
    """A Reader over any LangChain chat model: judging uses the server's log-probabilities when it returns them
    (OpenAI-compatible servers, llama.cpp's server), else the yes/no it writes."""

    def __init__(self, model: BaseChatModel) -> None:
        self.model = model
        self._judge_model: Any = self._with_logprobs(model)

    @staticmethod
    def _with_logprobs(model: BaseChatModel) -> Any:
        # Only chat models that declare log-probabilities are asked for them (ChatOpenAI, ChatOllama); a model that
        # declares max_tokens is also cut to one token (ChatOllama has none: its stream is left after one word).
        fields = set(type(model).model_fields)
        if not {"logprobs", "top_logprobs"} <= fields:
            return model
        return model.bind(logprobs=True, top_logprobs=10, **({"max_tokens": 1} if "max_tokens" in fields else {}))

    def _messages(self, passage: Passage, ask: str) -> list[BaseMessage]:
        return [SystemMessage(READER_SYSTEM), HumanMessage(passage_message(passage) + ask)]

    def judge(self, question: str, passages: Sequence[Passage], *, premise: bool = False) -> list[float]:
        return [self._judge_one(judge_message(question, premise=premise), p) for p in passages]

    def verify(self, sentence: str, passage: Passage) -> float:
        return self._judge_one(verify_message(sentence), passage)

    def _judge_one(self, ask: str, passage: Passage) -> float:
        """P(yes) from the first token's log-probabilities when the server returns them, else from the first word
        (yes 1, no 0, else 0.5). The stream is left there: a server that goes on, or trickles, costs one word."""
        written = ""
        for chunk in self._judge_model.stream(self._messages(passage, ask)):
            top = _first_top_logprobs((chunk.response_metadata or {}).get("logprobs"))
            if top:
                return p_yes(top)
            written += chunk.content if isinstance(chunk.content, str) else ""
            if re.search(r"\w+\W", written):
                break
        word = written.strip().split()[0].strip(".,!").lower() if written.strip() else ""
        return 1.0 if word == "yes" else 0.0 if word == "no" else 0.5

    def write(self, question: str, passage: Passage, lang: Lang, start: str = "") -> Iterator[str]:
        # A chat server cannot be made to continue a started answer: it is asked to begin with `start`.
        ask = write_message(question, passage, lang) + (START.format(start=start) if start else "")
        written = ""
        for chunk in self.model.stream(self._messages(passage, ask)):
            piece = chunk.content if isinstance(chunk.content, str) else ""
            written += piece
            if "\n" in written.strip() or len(written) > SENTENCE_TOKENS * 8:
                break
            yield ""  # nothing to show yet, but the caller may stop here (its deadline; a server that trickles)
        sentence = first_sentence(written)
        yield sentence[len(start):] if start and sentence.startswith(start) else (" " if start else "") + sentence
