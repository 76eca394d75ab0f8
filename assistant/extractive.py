"""The no-LLM backend: quote the clauses of the retrieved units closest to the question, with their labels."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from langchain_core.embeddings import Embeddings

from resolution_qa.core.strings import extractive_intro, ui_text
from resolution_qa.ingest.units import Lang, Unit

from .citations import display_label

#: Longest quote taken from one unit; longer units are cut into clauses and the best one is quoted.
CLAUSE_CHARS = 320
#: A clause shorter than this is merged with its neighbour (a lone "et à" says nothing).
MIN_CLAUSE_CHARS = 60


def clauses(text: str, limit: int = CLAUSE_CHARS) -> list[str]:
    """Cut a unit's text into quotable clauses at their boundaries (";", then ", ")."""
    if len(text) <= limit:
        return [text]
    out: list[str] = []
    for clause in re.split(r"(?<=;)\s+", text):
        if len(clause) <= limit:
            out.append(clause)
            continue
        current = ""
        for part in re.split(r"(?<=,)\s+", clause):
            if current and len(current) + len(part) + 1 > limit:
                out.append(current)
                current = part
            else:
                current = f"{current} {part}".strip()
        if current:
            out.append(current)
    merged: list[str] = []
    for piece in out:
        if merged and (len(piece) < MIN_CLAUSE_CHARS or len(merged[-1]) < MIN_CLAUSE_CHARS):
            merged[-1] = f"{merged[-1]} {piece}"
        else:
            merged.append(piece)
    return merged


def _cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norm = (sum(x * x for x in a) ** 0.5) * (sum(y * y for y in b) ** 0.5)
    return dot / norm if norm else 0.0


@dataclass(frozen=True)
class Quote:
    """A clause (or the whole text) quoted from a unit."""

    unit: Unit
    text: str
    whole: bool  # the quote is the unit's entire text
    lang: Lang = "fr"  # the language of the version quoted
    original: str | None = None  # when `text` is an unofficial translation: the same part in the unit's own language


def quotable(unit: Unit, lang: Lang | None = None) -> str:
    """What is quoted of a unit: a footnote's full reference, else its text (in `lang`'s version when indexed)."""
    if unit.kind == "footnote" and unit.source and unit.lang_of(lang or unit.lang) == unit.lang:
        return unit.source
    return unit.text_in(lang or unit.lang)


class ClauseScorer:
    """Embeds clauses once (cached by unit and language version) and ranks them against a question or a sentence."""

    def __init__(self, embeddings: Embeddings) -> None:
        self._embeddings = embeddings
        self._cache: dict[tuple[str, str], list[tuple[str, list[float]]]] = {}

    def _clauses(self, unit: Unit, lang: Lang | None = None) -> list[tuple[str, list[float]]]:
        key = (unit.key, unit.lang_of(lang or unit.lang))
        if key not in self._cache:
            texts = clauses(quotable(unit, lang))
            self._cache[key] = list(zip(texts, self._embeddings.embed_documents(texts), strict=True))
        return self._cache[key]

    def embed_query(self, text: str) -> list[float]:
        return self._embeddings.embed_query(text)

    def ranked_clauses(
        self, unit: Unit, query_vector: Sequence[float], lang: Lang | None = None
    ) -> list[tuple[str, float]]:
        """The unit's clauses (of its `lang` version) in document order, each with its similarity to the query."""
        return [(text, _cosine(query_vector, vector)) for text, vector in self._clauses(unit, lang)]

    def best_clause(self, unit: Unit, query_vector: Sequence[float], lang: Lang | None = None) -> tuple[str, float]:
        return max(self.ranked_clauses(unit, query_vector, lang), key=lambda item: item[1])


def extract(
    question: str, units: Sequence[Unit], scorer: ClauseScorer, *, whole: Collection[str] = (), lang: Lang | None = None
) -> list[Quote]:
    """One quote per unit, from its `lang` version when indexed: the whole unit for units named in `whole`, else its
    clause closest to the question."""
    vector = scorer.embed_query(question)
    quotes: list[Quote] = []
    for unit in units:
        text = quotable(unit, lang)
        version = unit.lang_of(lang or unit.lang)
        if unit.id in whole or len(text) <= CLAUSE_CHARS:
            quote = Quote(unit, _shorten(text, 2 * CLAUSE_CHARS), len(text) <= 2 * CLAUSE_CHARS, version)
        else:
            quote = Quote(unit, scorer.best_clause(unit, vector, lang)[0], False, version)
        if not unit.official_in(version):
            # An unofficial translation is quoted with the official words beside it: the clause of the original
            # closest in meaning to the translated quote (multilingual embeddings; clauses do not align one to one).
            own = quotable(unit, unit.lang)
            original = (
                _shorten(own, 2 * CLAUSE_CHARS) if quote.whole or len(own) <= CLAUSE_CHARS
                else scorer.best_clause(unit, scorer.embed_query(quote.text), unit.lang)[0]
            )
            quote = Quote(quote.unit, quote.text, quote.whole, quote.lang, original)
        quotes.append(quote)
    return quotes


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(",;: ")


def render(quotes: Sequence[Quote], lang: Lang, *, multi_doc: bool = False) -> str:
    """The answer text: a short intro, then one quoted clause per line with its label."""
    lines = [extractive_intro(lang, {q.lang for q in quotes}, len({q.unit.doc for q in quotes}) > 1)]
    for quote in quotes:
        quoted = quote.text.strip()
        if not quote.whole and quoted != quotable(quote.unit, quote.lang).strip():
            quoted = quoted.rstrip(".,;: ") + " …"
        label = display_label(quote.unit, lang, multi_doc=multi_doc)
        if quote.original is not None:  # an unofficial translation: say so, and give the official words
            label = f"{label}; {ui_text(lang).unofficial_quote.format(original=quote.original.strip())}"
        lines.append(f"- « {quoted} » ({label})" if lang == "fr" else f"- “{quoted}” ({label})")
    return "\n".join(lines)
