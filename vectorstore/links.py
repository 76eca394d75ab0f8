"""How units point at each other: footnote markers, the paragraphs citing a footnote, "Ibid." chains."""

from __future__ import annotations

import re

from resolution_qa.ingest.parser import LINK, clean
from resolution_qa.ingest.units import Document, Unit

_SUPERSCRIPT = "⁰¹²³⁴⁵⁶⁷⁸⁹"
_SUP_TO_INT = str.maketrans(_SUPERSCRIPT, "0123456789")
_MARKER = re.compile(rf"(?<=\S)([{_SUPERSCRIPT}]{{1,2}})")
_IBID = re.compile(r"^\s*\*?ibid\b", re.IGNORECASE)


def ibid_source(footnote: Unit, document: Document) -> Unit | None:
    """The footnote an "Ibid." footnote relies on: the nearest earlier one that names its source."""
    if footnote.kind != "footnote" or footnote.number is None or not _IBID.match(footnote.text):
        return None
    for number in range(footnote.number - 1, 0, -1):
        earlier = document.get(f"fn{number}")
        if earlier is not None and not _IBID.match(earlier.text):
            return earlier
    return None


def related(unit: Unit, document: Document) -> list[Unit]:
    """Units a reader needs with this one: a paragraph's footnotes; a footnote's citing paragraphs and Ibid. source."""
    if unit.kind == "footnote":
        found = document.referring_to(unit.id)
        source = ibid_source(unit, document)
        return found + ([source] if source is not None else [])
    return [f for f in (document.get(fid) for fid in unit.footnotes) if f is not None]


def marker_context(footnote: Unit, document: Document, *, max_words: int = 40) -> tuple[Unit | None, str]:
    """(citing unit, the words its marker annotates): the text between the previous marker and this one."""
    if footnote.number is None:
        return None, ""
    for unit in document.referring_to(footnote.id):
        raw = LINK.sub(r"\1", unit.raw)  # the parser's linear pattern (a quadratic copy took 29 s)
        previous_end = 0
        for m in _MARKER.finditer(raw):
            if int(m.group(1).translate(_SUP_TO_INT)) == footnote.number:
                words = clean(raw[previous_end : m.start()]).split()
                return unit, " ".join(words[-max_words:])
            previous_end = m.end()
    return None, ""
