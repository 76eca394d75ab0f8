"""BM25 over the units' own text (bm25s, Snowball stemming, accents folded): the lexical signal fused with dense."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from functools import cache

import numpy as np

from ingest.units import Lang, Unit

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
    """BM25 scores of every unit ("doc#id") for a question, scaled so the best unit scores 1."""

    def __init__(self, units: Sequence[Unit], lang: Lang) -> None:
        import bm25s
        import Stemmer

        self._bm25s = bm25s
        self._stemmer = Stemmer.Stemmer(_STEMMER_LANGUAGE[lang])
        # The units' own text, not the embedded passages: a footnote passage repeats the words of the
        # paragraph citing it, and BM25 over those crowded out paragraphs (measured on the dev questions).
        self._keys = [u.key for u in units]
        corpus = bm25s.tokenize(
            [fold(u.text) for u in units], stopwords=list(_stopwords()), stemmer=self._stemmer, show_progress=False
        )
        self._model = bm25s.BM25()
        self._model.index(corpus, show_progress=False)

    def scores(self, question: str) -> dict[str, float]:
        tokens = self._bm25s.tokenize(
            [fold(question)], stopwords=list(_stopwords()), stemmer=self._stemmer, show_progress=False,
            return_ids=False,
        )[0]
        if not tokens:
            return {}
        raw = np.asarray(self._model.get_scores(tokens), dtype=float)
        best = float(raw.max(initial=0.0))
        if best <= 0:
            return {}
        return {key: float(value) for key, value in zip(self._keys, raw / best, strict=True)}
