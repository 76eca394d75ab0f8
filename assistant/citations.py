"""How a unit is cited in an answer (its label in the answer's language, its Citation), and sentence splitting."""

from __future__ import annotations

import re

from resolution_qa.core.refs import Lang
from resolution_qa.ingest.units import Unit

from .types import Citation

# --- citations -----------------------------------------------------------------------------------


def display_label(unit: Unit, lang: Lang, *, multi_doc: bool = False) -> str:
    """Label of a unit: "par. 27", or "A/RES/75/158, par. 27" when answers can cite several documents."""
    return unit.citation(lang) if multi_doc else unit.label(lang)


def cite(unit: Unit, lang: Lang, *, multi_doc: bool = False) -> Citation:
    return Citation(
        id=unit.id,
        doc=unit.doc,
        label=display_label(unit, lang, multi_doc=multi_doc),
        # The official text: the version in the answer's language when one is indexed, never an unofficial translation
        # (the answer quotes that, labelled; a citation is what a user may quote as the resolution's words).
        text=unit.text_in(lang) if unit.official_in(lang) else unit.text,
        footnotes=unit.footnotes,
        source=unit.source if unit.source and unit.source != unit.text else None,
    )


# --- sentences -----------------------------------------------------------------------------------

# Sentence splitters on PyPI (pysbd, sentencex) cut "par. 27" and "para. 80" in two, which is the
# one abbreviation our answers are full of; this splitter only cuts before a capital, a quote or
# a tag, and never after a known abbreviation.
_ABBREVIATIONS = frozenset(
    {"par", "para", "paras", "paragr", "al", "vol", "vols", "no", "nos", "n°", "p", "pp", "art", "arts", "ibid",
     "cf", "mr", "mrs", "ms", "dr", "st", "res", "doc", "suppl", "sess", "fig", "op", "e.g", "i.e", "mme", "mm", "m",
     "chap", "sect", "ch", "annex", "ann"}
)
_BOUNDARY = re.compile(r"(?<=[.!?…])[\"»”')\]]*\s+(?=[A-ZÀ-ÝŒ«\"“(\[])")


def split_sentences(text: str) -> list[str]:
    """Sentences of one line of text."""
    sentences: list[str] = []
    start = 0
    for m in _BOUNDARY.finditer(text):
        before = text[start : m.start()]
        word = re.search(r"(\S+)[.!?…]$", before)
        token = word.group(1).lower() if word else ""
        if token in _ABBREVIATIONS or re.fullmatch(r"(?:[a-z]\.)*[a-z]", token) or re.fullmatch(r"\d{1,2}\.", before.strip()):
            continue  # "par. 27", "U.N.", initials and list numbers ("1. ...") do not end a sentence
        sentences.append(text[start : m.start()].strip())
        start = m.end()
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return [s for s in sentences if s]
