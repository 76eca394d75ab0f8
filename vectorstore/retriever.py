"""The retriever: explicit references first, then dense (+ weighted BM25) ranking, then linked units."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field, PrivateAttr

from ingest.units import Document, Unit
from resolution_qa.errors import EmptyQuestionError, UnknownDocumentError

from .index import UnitIndex
from .lexical import LexicalIndex
from .links import related
from .references import find_references, resolve
from .types import Hit, Reference, RetrievalResult


class UnitRetriever(BaseRetriever):
    """Units of the indexed resolutions for a question, best first, as a LangChain retriever.

    `search` gives the full RetrievalResult: the k ranked hits (explicit references at rank 1), then the
    footnotes of ranked paragraphs and the paragraphs citing ranked footnotes. `invoke` returns the k ranked
    hits as LangChain Documents (and the linked units too when include_expansions is set).
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    index: UnitIndex
    embeddings: Embeddings
    documents: list[Document]
    k: int = Field(default=5, ge=1)
    lexical_weight: float = Field(default=0.0, ge=0.0, le=1.0)
    include_expansions: bool = False

    _lexical: LexicalIndex | None = PrivateAttr(default=None)
    _by_symbol: dict[str, Document] = PrivateAttr(default_factory=dict)
    _units: dict[str, Unit] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: Any, /) -> None:
        if not self.documents:
            raise ValueError("a UnitRetriever needs at least one indexed document")
        self._by_symbol = {d.symbol: d for d in self.documents}
        self._units = {u.key: u for d in self.documents for u in d.units}
        if self.lexical_weight > 0:
            self._lexical = LexicalIndex([u for d in self.documents for u in d.units], self.document.lang)

    @property
    def document(self) -> Document:
        """The first (usually the only) indexed document: the one a bare "par. 27" refers to."""
        return self.documents[0]

    # --- retrieval -------------------------------------------------------------------------------------------
    def selected(self, docs: Sequence[str] | None) -> list[Document]:
        """The indexed documents with these symbols (all of them when `docs` is empty); unknown symbols fail."""
        if not docs:
            return list(self.documents)
        unknown = [d for d in docs if d not in self._by_symbol]
        if unknown:
            raise UnknownDocumentError(
                f"{', '.join(unknown)} is not in the index (indexed: {', '.join(self._by_symbol)}); "
                "pick one of those or ingest it first"
            )
        return [self._by_symbol[d] for d in dict.fromkeys(docs)]

    def _referenced(self, references: list[Reference], default: Document) -> list[Unit]:
        units: list[Unit] = []
        for reference in references:
            document = self._by_symbol.get(reference.doc) if reference.doc else default
            if document is None:
                continue  # "résolution 64/293, par. 5": a resolution that is not indexed
            unit = resolve(reference, document)  # raises ReferenceOutOfRangeError
            if unit not in units:
                units.append(unit)
        return units

    def _linked(self, unit: Unit) -> list[Unit]:
        return related(unit, self._by_symbol[unit.doc])

    def search(self, query: str, k: int | None = None, docs: Sequence[str] | None = None) -> RetrievalResult:
        """Rank the units for a question, within the documents `docs` (symbols; default all).

        A bare "par. 27" means the first selected document. Raises EmptyQuestionError,
        ReferenceOutOfRangeError and UnknownDocumentError.
        """
        question = (query or "").strip()
        if not question:
            raise EmptyQuestionError("the question is empty; type a question about the resolution")
        k = k or self.k
        chosen = self.selected(docs)
        symbols = {d.symbol for d in chosen}
        references = find_references(question)
        referenced = self._referenced(references, chosen[0])

        only = [d.symbol for d in chosen] if len(chosen) < len(self.documents) else None
        dense = self.index.dense(self.embeddings.embed_query(question), docs=only)
        lexical = self._lexical.scores(question) if self._lexical is not None else {}
        fused = {key: sim + self.lexical_weight * lexical.get(key, 0.0) for key, sim in dense.items()}
        units = self._units

        def hit(unit: Unit, via: str, score: float | None = None) -> Hit:
            return Hit(
                unit=unit,
                score=fused.get(unit.key, 0.0) if score is None else score,
                via=via,  # type: ignore[arg-type]
                dense=dense.get(unit.key),
            )

        hits: list[Hit] = [hit(u, "reference", 1.0) for u in referenced]
        seen = {u.key for u in referenced}
        # What a named unit links to (its footnotes, the paragraph citing it) answers questions about it
        # ("which report does paragraph 1 take note of?"): rank those next, best first.
        linked = [u for r in referenced for u in self._linked(r) if u.key not in seen]
        for unit in sorted(dict.fromkeys(linked), key=lambda u: -fused.get(u.key, -1.0)):
            hits.append(hit(unit, "ranked"))
            seen.add(unit.key)
        for key in sorted(fused, key=lambda key: -fused[key]):
            if key not in seen and key in units and units[key].doc in symbols:
                hits.append(hit(units[key], "ranked"))
                seen.add(key)
        ranked = hits[:k]

        expansions: list[Hit] = []
        seen = {h.unit.key for h in ranked}
        for h in ranked:
            for unit in self._linked(h.unit):
                if unit.key not in seen:
                    via = "referrer" if h.unit.kind == "footnote" and unit.kind != "footnote" else "footnote"
                    expansions.append(hit(unit, via))
                    seen.add(unit.key)
        return RetrievalResult(
            query=question,
            hits=tuple(ranked + expansions),
            references=tuple(references),
            best_dense=max(dense.values(), default=None),
        )

    # --- LangChain -------------------------------------------------------------------------------------------
    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, k: int | None = None, **_: Any
    ) -> list[LCDocument]:
        result = self.search(query, k=k)
        k = k or self.k
        hits = result.hits if self.include_expansions else result.hits[:k]
        return [to_langchain(h) for h in hits]


def to_langchain(hit: Hit) -> LCDocument:
    """A hit as a LangChain Document: the unit's text, with where it comes from and how it was found."""
    unit = hit.unit
    return LCDocument(
        id=unit.key,
        page_content=unit.text,
        metadata={
            "doc": unit.doc,
            "unit_id": unit.id,
            "kind": unit.kind,
            "number": unit.number,
            "footnotes": ",".join(unit.footnotes),
            "lang": unit.lang,
            "score": hit.score,
            "via": hit.via,
            "dense": hit.dense,
        },
    )
