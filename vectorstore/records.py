"""What the index stores: each passage's metadata, and each generation's record of how it was built."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from langchain_core.embeddings import Embeddings
from pydantic import BaseModel, ConfigDict

from resolution_qa.ingest.parser import PARSER_VERSION
from resolution_qa.ingest.units import Document, Unit

from .embeddings import fingerprint
from .passages import PASSAGE_VERSION, Passage

#: The metadata of one stored passage (Chroma metadata holds str, int, float or bool values, never None).
Record = dict[str, str | int]


class IndexInfo(BaseModel):
    """What a collection records about how it was built; a difference means its vectors must not be mixed."""

    model_config = ConfigDict(frozen=True)

    embedding: str
    parser_version: str
    passage_version: str
    sources: tuple[str, ...] = ()  # the files the documents came from ("<bundled>" for the bundled one)

    def mismatch(self, other: IndexInfo) -> str | None:
        """Why an index built as `self` cannot serve `other`, or None."""
        for field, what in (
            ("embedding", "embedding model"),
            ("parser_version", "parser version"),
            ("passage_version", "passage format"),
        ):
            old, new = getattr(self, field), getattr(other, field)
            if old != new:
                return f"{what} changed ({old} -> {new})"
        return None

    def metadata(self) -> dict[str, str]:
        """The collection metadata that records it."""
        return {
            "rqa_embedding": self.embedding,
            "rqa_parser_version": self.parser_version,
            "rqa_passage_version": self.passage_version,
            "rqa_sources": json.dumps(list(self.sources)),
        }

    @classmethod
    def of(cls, meta: Mapping[str, Any]) -> IndexInfo | None:
        """What a collection's metadata records; None when resolution-qa did not build it."""
        if "rqa_embedding" not in meta:
            return None
        return cls(
            embedding=str(meta["rqa_embedding"]),
            parser_version=str(meta.get("rqa_parser_version", "")),
            passage_version=str(meta.get("rqa_passage_version", "")),
            sources=tuple(json.loads(str(meta.get("rqa_sources", "[]")))),
        )


def expected_info(embeddings: Embeddings, sources: Sequence[str] = ()) -> IndexInfo:
    """How an index of these sources built now, with this embedder, is recorded."""
    return IndexInfo(
        embedding=fingerprint(embeddings),
        parser_version=PARSER_VERSION,
        passage_version=PASSAGE_VERSION,
        sources=tuple(sources),
    )


def passage_record(passage: Passage, order: int, document: Document, source: str) -> Record:
    """The metadata stored with a passage: its unit (whole, as JSON), where it stands, its hash."""
    unit = passage.unit
    meta: Record = {
        "doc": unit.doc,
        "unit_id": unit.id,
        "kind": unit.kind,
        "footnotes": ",".join(unit.footnotes),
        "lang": unit.lang,
        "part": passage.part,
        "order": order,
        "hash": passage.hash,
        "unit": unit.model_dump_json(),
        "doc_title": document.title,
        "doc_lang": document.lang,
        "source": source,
    }
    if unit.number is not None:
        meta["number"] = unit.number  # Chroma metadata cannot hold None
    return meta


def documents_of(records: Iterable[Mapping[str, Any]]) -> list[Document]:
    """The documents stored passages belong to, rebuilt from their metadata (no source file needed)."""
    by_doc: dict[str, list[tuple[int, Unit]]] = {}
    heads: dict[str, tuple[str, str]] = {}
    for meta in records:
        if int(meta.get("part", 0)) != 0:
            continue
        unit = Unit.model_validate_json(str(meta["unit"]))
        by_doc.setdefault(unit.doc, []).append((int(meta.get("order", 0)), unit))
        heads[unit.doc] = (str(meta.get("doc_title", "")), str(meta.get("doc_lang", unit.lang)))
    return [
        Document.model_validate(  # validated: the stored language must be one the parser writes
            {
                "symbol": symbol,
                "lang": heads[symbol][1],
                "title": heads[symbol][0],
                "units": tuple(u for _, u in sorted(units, key=lambda pair: pair[0])),
            }
        )
        for symbol, units in by_doc.items()
    ]
