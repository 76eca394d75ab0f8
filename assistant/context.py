"""Which retrieved units an answer may rest on, and how they are put in the model's prompt."""

from __future__ import annotations

from collections.abc import Sequence

from resolution_qa.ingest.units import Document, Unit
from resolution_qa.vectorstore.links import related
from resolution_qa.vectorstore.types import RetrievalResult

from .citations import display_label
from .extractive import PassageScorer
from .prompts import INSTRUCTION, LANGUAGE_NAME, PREVIOUS_QUESTION
from .state import QuestionState

#: Units given to the chat model: the small default model contradicts itself with 7 or more.
CONTEXT_UNITS = 3
#: Footnotes of an explicitly named paragraph given with it.
CONTEXT_FOOTNOTES = 3
#: A unit longer than this is cut to its passages closest to the question before it goes in the prompt.
CONTEXT_UNIT_CHARS = 600


def select_context(result: RetrievalResult, documents: Sequence[Document]) -> list[Unit]:
    """The units the answer may rest on, best first: the named ones (+ their footnotes), else the top ranked."""
    named = [h.unit for h in result.hits if h.via == "reference"][:CONTEXT_UNITS]
    if named:
        # A named unit's links answer questions about it ("which report does paragraph 1 note?"):
        # a paragraph's footnotes, a footnote's paragraph and the source of its "Ibid.".
        by_symbol = {d.symbol: d for d in documents}
        linked = [u for unit in named for u in related(unit, by_symbol[unit.doc]) if u not in named]
        return named + list(dict.fromkeys(linked))[:CONTEXT_FOOTNOTES]
    ranked = [h.unit for h in result.hits if h.via == "ranked"]
    return (ranked or [h.unit for h in result.hits])[:CONTEXT_UNITS]


def data(text: str | None) -> str:
    """Text placed inside prompt delimiters: angle brackets neutralised so it cannot close or open a tag."""
    return (text or "").replace("<", "‹").replace(">", "›")


class PromptBuilder:
    """The variables of ANSWER_PROMPT for a question: its sources (tagged S1, S2...), its question, its language."""

    def __init__(self, scorer: PassageScorer, documents: Sequence[Document]) -> None:
        self.scorer = scorer
        self.documents = {d.symbol: d for d in documents}
        self.multi_doc = len(documents) > 1

    def inputs(self, state: QuestionState) -> dict[str, str]:
        """Questions and unit texts are data inside delimiters."""
        rw = state.rewrite
        assert rw is not None
        question = state.asked
        context = state.context
        long = any(len(u.text) > CONTEXT_UNIT_CHARS for u in context)
        vector = self.scorer.embed_query(question) if long else None
        sources = "\n".join(
            f'<source tag="S{i}"{self._resolution_attribute(unit)} '
            f'label="{display_label(unit, state.lang, multi_doc=self.multi_doc)}">'
            f"{data(self._unit_text(unit, vector))}</source>"
            for i, unit in enumerate(context, start=1)
        )
        previous = PREVIOUS_QUESTION.format(question=data(rw.previous)) if rw.previous else ""
        return {
            "language": LANGUAGE_NAME[state.lang],
            "sources": sources,
            "previous": previous,
            "question": data(question),
            "instruction": INSTRUCTION[state.lang],
        }

    def _resolution_attribute(self, unit: Unit) -> str:
        """In a corpus, which resolution a source comes from: its symbol and title."""
        if not self.multi_doc:
            return ""
        title = self.documents[unit.doc].title
        return f' resolution="{unit.doc}"' + (f' title="{data(title).replace(chr(34), chr(39))}"' if title else "")

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
