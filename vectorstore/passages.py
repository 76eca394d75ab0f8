"""What is embedded for each unit: its label and text; footnotes with the words they annotate; long units in parts."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from resolution_qa.ingest.units import Document, Lang, Unit

from .links import marker_context

#: Bumped whenever the text built here changes for every unit, so an index notices and rebuilds.
PASSAGE_VERSION = "1"

#: Says what a header holds, so "when was it adopted?" or "which session?" finds it: its own text is
#: a bare list of facts ("Soixante-quinzième session Point 28 ... le 16 décembre 2020").
HEADER_CONTEXT: dict[Lang, str] = {
    "fr": (
        "En-tête de la résolution : cote, titre, session, point de l'ordre du jour, date d'adoption, "
        "rapport de la grande commission, séance plénière. "
    ),
    "en": (
        "Header of the resolution: symbol, title, session, agenda item, date of adoption, "
        "Main Committee report, plenary meeting. "
    ),
}


@dataclass(frozen=True)
class Window:
    """How much text one vector may hold: a length budget and the function that measures it."""

    size: int
    length: Callable[[str], int] = len


@dataclass(frozen=True)
class Passage:
    """One embedded text: a whole unit, or one part of a unit longer than the model's window."""

    id: str  # "A/RES/75/158#OP5"; parts after the first add "~1", "~2", ...
    unit: Unit
    part: int
    text: str

    @property
    def hash(self) -> str:
        # Other language versions ride on the unit (stored with it): adding one must rewrite the record.
        versions = "".join(f"\x00{lang}\x00{text}" for lang, text in self.unit.versions)
        return hashlib.sha256((self.text + versions).encode()).hexdigest()


def _prefix(unit: Unit, document: Document) -> str:
    if unit.kind == "header":
        return HEADER_CONTEXT[unit.lang]
    if unit.kind == "footnote":
        citing, words = marker_context(unit, document)
        # A footnote alone is often "Ibid., vol. 2237": embed the words it annotates and its resolved source.
        where = f" ({citing.label(unit.lang)})" if citing is not None else ""
        quoted = f" « {words} » —" if words else ""
        return f"{unit.label(unit.lang)}{where} :{quoted} "
    return f"{unit.label(unit.lang)} : "


def _body(unit: Unit) -> str:
    return (unit.source or unit.text) if unit.kind == "footnote" else unit.text


def _split(body: str, budget: int, window: Window) -> list[str]:
    if window.length(body) <= budget:
        return [body]
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(
        chunk_size=budget,
        chunk_overlap=budget // 10,
        length_function=window.length,
        separators=["; ", ", ", " ", ""],
        keep_separator="end",
    )
    return splitter.split_text(body)


def passages(document: Document, window: Window) -> list[Passage]:
    """The passages of a document in unit order; every part keeps its unit's label in front."""
    out: list[Passage] = []
    for unit in document.units:
        prefix = _prefix(unit, document)
        budget = max(window.size - window.length(prefix), window.size // 4)
        for part, piece in enumerate(_split(_body(unit), budget, window)):
            pid = unit.key if part == 0 else f"{unit.key}~{part}"
            out.append(Passage(id=pid, unit=unit, part=part, text=prefix + piece))
    return out
