"""What retrieval returns: scored units and how each was found."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from resolution_qa.ingest.units import Kind, Unit

#: How a hit was found: an explicit reference ("par. 27"), the dense/lexical ranking, or as the
#: footnote of a retrieved paragraph / the paragraph referring to a retrieved footnote.
Via = Literal["reference", "ranked", "footnote", "referrer"]


class Reference(BaseModel):
    """An explicit reference found in a question ("paragraphe 27" -> operative 27)."""

    model_config = ConfigDict(frozen=True)

    kind: Kind
    number: int | None
    text: str  # the words that made the reference, as written
    doc: str | None = None  # the resolution the question names with it ("A/RES/75/158, par. 27"), if any
    last: bool = False  # "the last preambular paragraph": number is None; resolve() against a document

    @property
    def unit_id(self) -> str:
        """The unit id; for a `last` reference only the kind's prefix + "last" (vectorstore.references.resolve knows more)."""
        if self.kind == "header":
            return "header"
        prefix = {"preambular": "PP", "operative": "OP", "footnote": "fn"}[self.kind]
        return f"{prefix}{'last' if self.last else self.number}"


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

    @property
    def ids(self) -> list[str]:
        return [h.unit.id for h in self.hits]
