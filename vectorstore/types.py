"""What retrieval returns: scored units and how each was found."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from resolution_qa.core.refs import Reference
from resolution_qa.ingest.units import Unit

#: How a hit was found: an explicit reference ("par. 27"), the dense/lexical ranking, or as the
#: footnote of a retrieved paragraph / the paragraph referring to a retrieved footnote.
Via = Literal["reference", "ranked", "footnote", "referrer"]


class Hit(BaseModel):
    """A retrieved unit with its score (cosine similarity for ranked hits, 1.0 for references)."""

    model_config = ConfigDict(frozen=True)

    unit: Unit
    score: float
    via: Via = "ranked"
    dense: float | None = None  # raw dense cosine similarity, when it was computed


class RetrievalResult(BaseModel):
    """The hits for one question, best first, plus what retrieval understood of it."""

    model_config = ConfigDict(frozen=True)

    query: str
    hits: tuple[Hit, ...]
    references: tuple[Reference, ...] = ()
    best_dense: float | None = None  # highest dense similarity over the whole index (refusal signal)

    # Views of the hits by how they were found, each in the hits' order (the stages read these, never `via`).

    @property
    def named(self) -> tuple[Hit, ...]:
        """The units the question names ("par. 27"), in the order it names them."""
        return tuple(h for h in self.hits if h.via == "reference")

    @property
    def ranked(self) -> tuple[Hit, ...]:
        """The units found by the dense/lexical ranking, best first."""
        return tuple(h for h in self.hits if h.via == "ranked")

    @property
    def linked(self) -> tuple[Hit, ...]:
        """The units added for their link to a found one: a paragraph's footnotes, a footnote's paragraph."""
        return tuple(h for h in self.hits if h.via in ("footnote", "referrer"))

    @property
    def found(self) -> tuple[Hit, ...]:
        """The named and the ranked units, in the hits' order (everything but the links)."""
        return tuple(h for h in self.hits if h.via in ("reference", "ranked"))
