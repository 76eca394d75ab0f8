"""BM25 over the units' own text (bm25s, Snowball stemming in each unit's language, accents folded): the lexical signal fused with dense."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from functools import cache

import numpy as np

from resolution_qa.ingest.units import Lang, Unit

_STEMMER_LANGUAGE: dict[Lang, str] = {"fr": "french", "en": "english"}


def fold(text: str) -> str:
    """Lower case without accents, so "résolution" and "resolution" meet."""
    return "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))


@cache
def _stopwords() -> tuple[str, ...]:
    from bm25s.stopwords import STOPWORDS_EN_PLUS, STOPWORDS_FRENCH

    # Questions come in both languages whatever the document's: drop the function words of both.
    return tuple(sorted({fold(w) for w in (*STOPWORDS_FRENCH, *STOPWORDS_EN_PLUS)}))


class LexicalIndex:
    """BM25 scores of every unit ("doc#id") for a question, scaled so the best unit scores 1.

    Each unit is stemmed with its own language's stemmer, so a corpus of French and English resolutions
    shares one index (one IDF); a question is stemmed with the stemmer of every language in the index,
    since it may ask about any of them.
    """

    def __init__(self, units: Sequence[Unit]) -> None:
        import bm25s
        import Stemmer

        self._bm25s = bm25s
        # The units' own text, not the embedded passages: a footnote passage repeats the words of the
        # paragraph citing it, and BM25 over those crowded out paragraphs (measured on the dev questions).
        self._keys = [u.key for u in units]
        self._position = {key: i for i, key in enumerate(self._keys)}
        langs: list[Lang] = list(dict.fromkeys(u.lang for u in units))
        self._stemmers = {lang: Stemmer.Stemmer(_STEMMER_LANGUAGE[lang]) for lang in langs}
        corpus: list[list[str]] = [[] for _ in units]
        for lang in langs:
            at = [i for i, u in enumerate(units) if u.lang == lang]
            tokens = self._tokenize([fold(units[i].text) for i in at], lang)
            for i, unit_tokens in zip(at, tokens, strict=True):
                corpus[i] = unit_tokens
        self._model = bm25s.BM25()
        self._model.index(corpus, show_progress=False)

    def _tokenize(self, texts: list[str], lang: Lang) -> list[list[str]]:
        return self._bm25s.tokenize(
            texts, stopwords=list(_stopwords()), stemmer=self._stemmers[lang], show_progress=False, return_ids=False
        )

    def query_tokens(self, question: str) -> list[str]:
        """The question's stems in each indexed language (a stem two languages share counts once)."""
        tokens: list[str] = []
        for lang in self._stemmers:
            stems = self._tokenize([fold(question)], lang)[0]
            known = set(tokens)
            tokens += [t for t in stems if t not in known] if known else stems
        return tokens

    def scores(self, question: str, keys: Iterable[str] | None = None) -> dict[str, float]:
        """Scaled scores of every unit, or only of `keys` (a dict of every unit costs tens of ms at 100k units)."""
        tokens = self.query_tokens(question)
        if not tokens:
            return {}
        raw = np.asarray(self._model.get_scores(tokens), dtype=float)
        best = float(raw.max(initial=0.0))
        if best <= 0:
            return {}
        if keys is not None:
            return {key: float(raw[self._position[key]] / best) for key in keys if key in self._position}
        return {key: float(value) for key, value in zip(self._keys, raw / best, strict=True)}
