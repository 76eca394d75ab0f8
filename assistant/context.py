"""Which retrieved units the extractive answer quotes: the named ones with their links, else the top ranked."""

from __future__ import annotations

from collections.abc import Sequence

from resolution_qa.ingest.units import Document, Unit
from resolution_qa.vectorstore.links import related
from resolution_qa.vectorstore.types import RetrievalResult

#: Units an extractive answer may quote (more buries the answer among quotes).
CONTEXT_UNITS = 3
#: Footnotes of an explicitly named paragraph quoted with it.
CONTEXT_FOOTNOTES = 3


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
