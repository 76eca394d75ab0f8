"""The no-LLM backend: quote the passages of the retrieved units closest to the question, with their labels."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from langchain_core.embeddings import Embeddings

from resolution_qa.core.strings import extractive_intro
from resolution_qa.ingest.units import Lang, Unit

from .citations import display_label

#: Longest quote taken from one unit; longer units are cut into passages and the best one is quoted.
PASSAGE_CHARS = 320
#: A passage shorter than this is merged with its neighbour (a lone "et à" says nothing).
MIN_PASSAGE_CHARS = 60


def passages(text: str, limit: int = PASSAGE_CHARS) -> list[str]:
    """Cut a unit's text into quotable passages at clause boundaries (";", then ", ")."""
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
        if merged and (len(piece) < MIN_PASSAGE_CHARS or len(merged[-1]) < MIN_PASSAGE_CHARS):
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
    """A passage quoted from a unit."""

    unit: Unit
    passage: str
    whole: bool  # the passage is the unit's entire text
    lang: Lang = "fr"  # the language of the version quoted


def quotable(unit: Unit, lang: Lang | None = None) -> str:
    """What is quoted of a unit: a footnote's full reference, else its text (in `lang`'s version when indexed)."""
    if unit.kind == "footnote" and unit.source and unit.lang_of(lang or unit.lang) == unit.lang:
        return unit.source
    return unit.text_in(lang or unit.lang)


class PassageScorer:
    """Embeds passages once (cached by unit and language version) and ranks them against a question or a sentence."""

    def __init__(self, embeddings: Embeddings) -> None:
        self._embeddings = embeddings
        self._cache: dict[tuple[str, str], list[tuple[str, list[float]]]] = {}

    def _passages(self, unit: Unit, lang: Lang | None = None) -> list[tuple[str, list[float]]]:
        key = (unit.key, unit.lang_of(lang or unit.lang))
        if key not in self._cache:
            texts = passages(quotable(unit, lang))
            self._cache[key] = list(zip(texts, self._embeddings.embed_documents(texts), strict=True))
        return self._cache[key]

    def embed_query(self, text: str) -> list[float]:
        return self._embeddings.embed_query(text)

    def ranked_passages(
        self, unit: Unit, query_vector: Sequence[float], lang: Lang | None = None
    ) -> list[tuple[str, float]]:
        """The unit's passages (of its `lang` version) in document order, each with its similarity to the query."""
        return [(text, _cosine(query_vector, vector)) for text, vector in self._passages(unit, lang)]

    def best_passage(self, unit: Unit, query_vector: Sequence[float], lang: Lang | None = None) -> tuple[str, float]:
        return max(self.ranked_passages(unit, query_vector, lang), key=lambda item: item[1])

    def best_unit(self, sentence: str, units: Sequence[Unit]) -> Unit:
        """The unit with the passage closest to the sentence; ties go to the better-ranked unit."""
        vector = self.embed_query(sentence)
        scores = [self.best_passage(unit, vector)[1] for unit in units]
        return units[max(range(len(units)), key=lambda i: (scores[i], -i))]


def extract(
    question: str, units: Sequence[Unit], scorer: PassageScorer, *, whole: Sequence[str] = (), lang: Lang | None = None
) -> list[Quote]:
    """One quote per unit, from its `lang` version when indexed: the whole unit for units named in `whole`, else its
    passage closest to the question."""
    vector = scorer.embed_query(question)
    quotes: list[Quote] = []
    for unit in units:
        text = quotable(unit, lang)
        version = unit.lang_of(lang or unit.lang)
        if unit.id in whole or len(text) <= PASSAGE_CHARS:
            quotes.append(Quote(unit, _shorten(text, 2 * PASSAGE_CHARS), len(text) <= 2 * PASSAGE_CHARS, version))
        else:
            quotes.append(Quote(unit, scorer.best_passage(unit, vector, lang)[0], False, version))
    return quotes


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(",;: ")


def render(quotes: Sequence[Quote], lang: Lang, *, multi_doc: bool = False) -> str:
    """The answer text: a short intro, then one quoted passage per line with its label."""
    lines = [extractive_intro(lang, {q.lang for q in quotes}, len({q.unit.doc for q in quotes}) > 1)]
    for quote in quotes:
        passage = quote.passage.strip()
        if not quote.whole and passage != quotable(quote.unit, quote.lang).strip():
            passage = passage.rstrip(".,;: ") + " …"
        label = display_label(quote.unit, lang, multi_doc=multi_doc)
        lines.append(f"- « {passage} » ({label})" if lang == "fr" else f"- “{passage}” ({label})")
    return "\n".join(lines)
