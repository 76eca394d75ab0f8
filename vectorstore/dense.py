"""Dense search in one generation: the cosine similarity of a query vector to each unit's best passage."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from langchain_core.embeddings import Embeddings

from resolution_qa.core.errors import IndexUnavailableError
from resolution_qa.core.settings import StoreSettings

from .damage import damaged, short_answer_is_damage
from .reader import GenerationReader

if TYPE_CHECKING:
    from chromadb.base_types import InclusionExclusionOperator, LiteralValue, Where
    from langchain_chroma import Chroma


class DenseSearch:
    """Searches one generation through LangChain's Chroma (our embeddings, never Chroma's default function)."""

    def __init__(self, generation: GenerationReader, embeddings: Embeddings, store: StoreSettings) -> None:
        self.generation = generation
        self.embeddings = embeddings
        self.store = store
        self._chroma: Chroma | None = None

    def chroma(self) -> Chroma:
        """The generation as a LangChain vector store, opened once."""
        if self._chroma is None:
            from langchain_chroma import Chroma

            name = self.generation.name
            if name is None:
                raise IndexUnavailableError("the vector index is empty; run `resolution-qa ingest`")
            with self.generation.reading("opening the index"):
                self._chroma = Chroma(
                    client=self.generation.generations.client,
                    collection_name=name,
                    embedding_function=self.embeddings,
                    create_collection_if_not_exists=False,
                )
        return self._chroma

    def scores(
        self, vector: list[float], *, limit: int, docs: Sequence[str] | None, files_missing: bool
    ) -> dict[str, float]:
        """Similarity of the units ("doc#id") of the `limit` best passages (of the units of `docs` only, if given).

        A search returning fewer passages than the generation holds may show damage (damage.short_answer_is_damage);
        `files_missing`: the generation's vector folder was gone before its first search.
        """
        where = _of_documents(docs)
        store = self.chroma()
        with self.generation.reading("searching the index"):
            # langchain_chroma annotates `filter` as dict[str, str]; it hands any Chroma where clause on.
            found = store.similarity_search_by_vector_with_relevance_scores(vector, k=limit, filter=where)  # type: ignore[arg-type]
            expected = limit if where is None or len(found) >= limit else min(limit, self._matching(where))
            if short_answer_is_damage(len(found), expected, files_missing):
                raise damaged(
                    self.store,
                    self.generation.name,
                    f"a search returned {len(found)} of the {limit} passages asked for",
                )
        scores: dict[str, float] = {}
        for doc, distance in found:
            key = f"{doc.metadata['doc']}#{doc.metadata['unit_id']}"
            scores[key] = max(scores.get(key, -1.0), 1.0 - float(distance))  # cosine distance -> similarity
        return scores

    def _matching(self, where: Where) -> int:
        """How many passages a filter matches (what a filtered search can return at most)."""
        collection = self.generation.collection()
        if collection is None:
            return 0
        return len(collection.get(where=where, include=[])["ids"])


def _of_documents(docs: Sequence[str] | None) -> Where | None:
    """The Chroma filter keeping the passages of these documents; None for all."""
    if not docs:
        return None
    if len(docs) == 1:
        return {"doc": docs[0]}
    within: dict[InclusionExclusionOperator, list[LiteralValue]] = {"$in": list(docs)}
    return {"doc": within}
