"""The real components of a run: one embedder shared by our retriever, the baselines and the assistants."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from langchain_core.embeddings import Embeddings

from resolution_qa.assistant.types import Answerer
from resolution_qa.core.errors import EvalRunError
from resolution_qa.core.settings import Settings
from resolution_qa.ingest import BUNDLED_PATH, Document, parse_file

from .baselines import SYSTEMS, BM25Only, DenseOnly, NaiveChunks, Ours, RetrievalSystem


class RealComponents:
    """Loads the embedding model once, on first need, and builds systems and assistants around it."""

    def __init__(self, settings: Settings, index_dir: Path, path: Path = BUNDLED_PATH) -> None:
        # The run's own embedded index, beside its report: the user's index (which may hold other
        # resolutions, or sit on a server) is neither used nor touched; a resumed run reuses it.
        self.settings = settings.model_copy(update={"index_dir": index_dir, "chroma_url": None, "documents": []})
        self.path = path
        self.text = path.read_text(encoding="utf-8")
        self.document: Document = parse_file(path)

    @cached_property
    def embeddings(self) -> Embeddings:
        from resolution_qa.vectorstore.embeddings import load_embeddings

        return load_embeddings(self.settings.embedding)

    @cached_property
    def retriever(self):  # noqa: ANN201 - vectorstore's UnitRetriever
        from resolution_qa.vectorstore import open_retriever

        return open_retriever(self.settings, self.embeddings, documents=[self.document])

    def retrieval_system(self, name: str) -> RetrievalSystem:
        if name == "ours":
            return Ours(self.retriever)
        if name == "dense":
            return DenseOnly(self.document, self.embeddings)
        if name == "bm25":
            return BM25Only(self.document)
        if name == "naive":
            return NaiveChunks(self.text, self.document, self.embeddings)
        raise EvalRunError(f"unknown retrieval system {name!r}; choose from {', '.join(SYSTEMS)}")

    def assistant(self, backend: str) -> Answerer:
        from resolution_qa.assistant import Assistant

        return Assistant(self.settings, backend=backend, retriever=self.retriever)  # type: ignore[arg-type]
