"""The first stage: clean the question, tell its language, and make a follow-up stand alone."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import replace

from resolution_qa.core.errors import EmptyQuestionError, ResolutionQAError
from resolution_qa.core.refs import Lang
from resolution_qa.ingest.units import Document

from .glossary import spell_out
from .guard import without_instructions
from .language import detect_language
from .rewrite import rewrite
from .state import QuestionState
from .types import Answer, Turn

#: Longest question accepted, in characters (a pasted page is not a question).
MAX_QUESTION_CHARS = 4000

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


class QuestionTooLongError(ResolutionQAError):
    """A question longer than MAX_QUESTION_CHARS."""


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


def as_turn(item: Turn | Answer) -> Turn:
    return item.to_turn() if isinstance(item, Answer) else item


def understand(
    question: str,
    history: Sequence[Turn | Answer],
    docs: Sequence[str],
    documents: Sequence[Document],
    *,
    keep_turns: int,
) -> QuestionState:
    """A new QuestionState: the question cleaned, its answer language, its standalone form, its scope."""
    state = QuestionState(question=clean_question(question), history=[], docs=tuple(docs))
    turns = [as_turn(t) for t in history]
    state.history = turns[-keep_turns:] if keep_turns else []
    fallback: Lang = next((t.language for t in reversed(state.history) if t.language), None) or "en"
    asked = without_instructions(state.question)
    state.guess = detect_language(asked, fallback)
    state.rewrite = rewrite(asked, state.history, documents[0], state.guess.answer, documents=documents)
    spelt = spell_out(state.rewrite.standalone, state.guess.answer)
    if spelt != state.rewrite.standalone:
        state.rewrite = replace(state.rewrite, standalone=spelt)
    if not state.docs and len(documents) > 1 and state.rewrite.previous is not None and state.history:
        # "And what does it ask of States?" goes on about the resolution the last answer cited.
        cited = {c.doc for c in state.history[-1].citations}
        state.docs = tuple(cited) if len(cited) == 1 else ()
    return state
