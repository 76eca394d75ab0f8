"""The retriever: explicit references first, then dense (+ weighted BM25) ranking, then linked units."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field, PrivateAttr

from resolution_qa.core.errors import EmptyQuestionError, ReferenceOutOfRangeError, UnknownDocumentError
from resolution_qa.core.inputs import check_text
from resolution_qa.core.refs import Reference, find_references, named_resolutions, resolution_symbol
from resolution_qa.core.strings import ui_text
from resolution_qa.ingest.units import Document, Unit

from .index import UnitIndex
from .lexical import LexicalIndex
from .links import related
from .references import has_topic, resolve
from .types import Hit, RetrievalResult, Via

#: Most documents an out-of-range message names one by one.
_LISTED = 5
#: A resolution number as the texts cite it: "64/293", "A/RES/64/293".
_CITED = re.compile(r"(?<![\d/])(\d{1,3})/(\d{1,4})(?![\d/])")


@dataclass(frozen=True)
class _Scores:
    """A question's dense similarity, and its fused score (dense + weighted BM25), per unit ("doc#id")."""

    dense: dict[str, float]
    fused: dict[str, float]

    def hit(self, unit: Unit, via: Via, score: float | None = None) -> Hit:
        """The unit as a hit found `via`, scored `score` (default: its fused score)."""
        return Hit(
            unit=unit,
            score=self.fused.get(unit.key, 0.0) if score is None else score,
            via=via,
            dense=self.dense.get(unit.key),
        )


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
    dense_candidates: int = Field(default=200, ge=1)  # passages the index returns per question, before fusion
    include_expansions: bool = False

    _lexical: LexicalIndex | None = PrivateAttr(default=None)
    _by_symbol: dict[str, Document] = PrivateAttr(default_factory=dict)
    _units: dict[str, Unit] = PrivateAttr(default_factory=dict)
    _cited: frozenset[str] = PrivateAttr(default_factory=frozenset)

    def model_post_init(self, context: Any, /) -> None:
        if not self.documents:
            raise ValueError("a UnitRetriever needs at least one indexed document")
        self._by_symbol = {d.symbol: d for d in self.documents}
        self._units = {u.key: u for d in self.documents for u in d.units}
        # Resolutions the indexed texts mention ("résolution 64/293"): a question about one of them is searched.
        self._cited = frozenset(
            f"A/RES/{m.group(1)}/{m.group(2)}" for u in self._units.values() for m in _CITED.finditer(u.text)
        )
        if self.lexical_weight > 0:
            self._lexical = LexicalIndex([u for d in self.documents for u in d.units])

    @property
    def document(self) -> Document:
        """The first (usually the only) indexed document: the one a bare "par. 27" refers to."""
        return self.documents[0]

    # --- retrieval -------------------------------------------------------------------------------------------
    @property
    def symbols(self) -> list[str]:
        """The symbols of the indexed documents, in index order."""
        return list(self._by_symbol)

    def selected(self, docs: Sequence[str] | None) -> list[Document]:
        """The indexed documents with these symbols (all of them when `docs` is empty); unknown symbols fail.

        Symbols may be written as users do: "75/158" and "a/res/75/158" both mean "A/RES/75/158".
        """
        if not docs:
            return list(self.documents)
        wanted = [resolution_symbol(d) for d in docs]
        unknown = [d for d in wanted if d not in self._by_symbol]
        if unknown:
            raise UnknownDocumentError(
                f"{', '.join(unknown)} is not in the index (indexed: {', '.join(self._by_symbol)}); "
                "pick one of those or ingest it first"
            )
        return [self._by_symbol[d] for d in dict.fromkeys(wanted)]

    def _scope(self, question: str, chosen: list[Document]) -> list[Document]:
        """The documents a question is about: those it names ("resolution 75/901") if indexed, else `chosen`.

        A resolution named in the question wins over a filter: the user was explicit.
        """
        named = [self._by_symbol[s] for s in named_resolutions(question) if s in self._by_symbol]
        return named or chosen

    def _bare_targets(
        self, question: str, references: list[Reference], scope: list[Document], fused: dict[str, float]
    ) -> list[Document]:
        """Where a reference that names no resolution ("par. 27") points, in a scope of one or more documents.

        One document: that one. Several: when the question says something beyond its references ("para. 1:
        which report does it take note of?"), the document whose named units (with their footnotes) match
        the question best; else every one of them (the answer shows each document's paragraph, labelled
        with its symbol, and the user can narrow down).
        """
        if len(scope) == 1 or not has_topic(question, references):
            return scope

        def match(document: Document) -> float:
            scores = [-1.0]
            for reference in references:
                if reference.doc:
                    continue
                try:
                    unit = resolve(reference, document)
                except ReferenceOutOfRangeError:
                    continue
                scores += [fused.get(u.key, -1.0) for u in (unit, *related(unit, document))]
            return max(scores)

        best = max(scope, key=match)
        return [best] if match(best) > -1.0 else scope

    def _referenced(self, references: list[Reference], targets: list[Document]) -> list[Unit]:
        """The units the references name. Raises ReferenceOutOfRangeError, and UnknownDocumentError when every
        reference names a resolution that is not indexed and that no indexed text mentions ("par. 3 de la
        résolution 75/999"): quoting other passages instead would answer a question nobody asked. A resolution
        the indexed texts cite ("paragraph 5 of resolution 64/293") is searched for: they say what they recall
        of it."""
        units: list[Unit] = []
        elsewhere: list[str] = []
        for reference in references:
            if reference.doc:
                named = self._by_symbol.get(reference.doc)
                if named is None:
                    elsewhere.append(reference.doc)  # "résolution 64/293, par. 5": a resolution that is not indexed
                    continue
                found = [resolve(reference, named)]  # raises ReferenceOutOfRangeError
            elif len(targets) == 1:
                found = [resolve(reference, targets[0])]
            else:
                found = self._in_any(reference, targets)
            units += [u for u in found if u not in units]
        unknown = [symbol for symbol in dict.fromkeys(elsewhere) if symbol not in self._cited]
        if unknown and not units and len(unknown) == len(set(elsewhere)):
            missing = ", ".join(unknown)
            raise UnknownDocumentError(
                f"{missing} is not in the index (indexed: {', '.join(self._by_symbol)}); ask about an indexed "
                "resolution, or ingest that one first (`resolution-qa ingest FILE`)"
            )
        return units

    @staticmethod
    def _in_any(reference: Reference, targets: list[Document]) -> list[Unit]:
        """The unit a bare reference names in each of these documents; out of range only when none has it."""
        found: list[Unit] = []
        errors: list[ReferenceOutOfRangeError] = []
        for document in targets:
            try:
                found.append(resolve(reference, document))
            except ReferenceOutOfRangeError as exc:
                errors.append(exc)
        if found:
            return found
        first = errors[0]
        plural, singular = ui_text("en").kinds[reference.kind]
        shown = "the last one" if reference.last else f"{singular} {reference.number}"
        if len(targets) <= _LISTED:
            which, counts = ", ".join(d.symbol for d in targets), ", ".join(str(e.maximum) for e in errors)
        else:  # a large corpus: name a few, so the message stays one readable line
            which = f"the {len(targets)} indexed resolutions ({', '.join(d.symbol for d in targets[:3])}, ...)"
            counts = f"at most {max(e.maximum for e in errors)}"
        raise ReferenceOutOfRangeError(
            f"none of {which} has {shown} (they have {counts} {plural}); name the resolution in the question or filter by document",
            kind=first.kind,
            number=first.number,
            maximum=max(e.maximum for e in errors),
            docs=tuple(d.symbol for d in targets),
        )

    def _linked(self, unit: Unit) -> list[Unit]:
        return related(unit, self._by_symbol[unit.doc])

    def search(self, query: str, k: int | None = None, docs: Sequence[str] | None = None) -> RetrievalResult:
        """Rank the units for a question, within the documents `docs` (symbols; default all).

        A question that names indexed resolutions ("par. 3 of resolution 75/901", "A/RES/75/158, par. 27")
        is answered from them. A bare "par. 27" means the only document in scope; with several, see
        `_bare_targets`. Raises EmptyQuestionError, ReferenceOutOfRangeError and UnknownDocumentError.
        """
        question = check_text((query or "").strip())  # a lone surrogate would crash the tokenizer (TypeError)
        if not question:
            raise EmptyQuestionError("the question is empty; type a question about the resolution")
        chosen = self._scope(question, self.selected(docs))
        references = find_references(question)
        if len(chosen) == 1:  # the usual case: resolve before embedding, so a bad reference costs nothing
            referenced = self._referenced(references, chosen)
        scores = self._scores(question, chosen)
        if len(chosen) > 1:
            referenced = self._referenced(references, self._bare_targets(question, references, chosen, scores.fused))
        ranked = self._ranked(referenced, scores, {d.symbol for d in chosen}, k or self.k)
        return RetrievalResult(
            query=question,
            hits=tuple(ranked + self._expansions(ranked, scores)),
            references=tuple(references),
            best_dense=max(scores.dense.values(), default=None),
        )

    def _scores(self, question: str, chosen: list[Document]) -> _Scores:
        """Dense similarity of the best units of the chosen documents, and their fusion with BM25."""
        only = [d.symbol for d in chosen] if len(chosen) < len(self.documents) else None
        dense = self.index.dense(self.embeddings.embed_query(question), limit=self.dense_candidates, docs=only)
        lexical = self._lexical.scores(question, keys=dense) if self._lexical is not None else {}
        fused = {key: sim + self.lexical_weight * lexical.get(key, 0.0) for key, sim in dense.items()}
        return _Scores(dense=dense, fused=fused)

    def _ranked(self, referenced: list[Unit], scores: _Scores, symbols: set[str], k: int) -> list[Hit]:
        """The k best hits: the referenced units, then what they link to, then the best units of `symbols`."""
        fused, units = scores.fused, self._units
        hits: list[Hit] = [scores.hit(u, "reference", 1.0) for u in referenced]
        seen = {u.key for u in referenced}
        # What a named unit links to (its footnotes, the paragraph citing it) answers questions about it
        # ("which report does paragraph 1 take note of?"): rank those next, best first.
        linked = [u for r in referenced for u in self._linked(r) if u.key not in seen]
        for unit in sorted(dict.fromkeys(linked), key=lambda u: -fused.get(u.key, -1.0)):
            hits.append(scores.hit(unit, "ranked"))
            seen.add(unit.key)
        for key in sorted(fused, key=lambda key: -fused[key]):
            if key not in seen and key in units and units[key].doc in symbols:
                hits.append(scores.hit(units[key], "ranked"))
                seen.add(key)
        return hits[:k]

    def _expansions(self, ranked: list[Hit], scores: _Scores) -> list[Hit]:
        """The footnotes of ranked paragraphs and the paragraphs citing ranked footnotes, when not ranked."""
        expansions: list[Hit] = []
        seen = {h.unit.key for h in ranked}
        for h in ranked:
            for unit in self._linked(h.unit):
                if unit.key not in seen:
                    via: Via = "referrer" if h.unit.kind == "footnote" and unit.kind != "footnote" else "footnote"
                    expansions.append(scores.hit(unit, via))
                    seen.add(unit.key)
        return expansions

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
