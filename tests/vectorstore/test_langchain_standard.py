"""LangChain's own standard retriever tests, unmodified, against UnitRetriever on a real Chroma in a temporary folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langchain_tests.integration_tests import RetrieversIntegrationTests

from resolution_qa.core.settings import Settings
from resolution_qa.ingest import Document
from resolution_qa.vectorstore import open_retriever
from resolution_qa.vectorstore.retriever import UnitRetriever
from tests.fakes import BagOfWordsEmbeddings


class TestUnitRetrieverStandard(RetrieversIntegrationTests):
    @pytest.fixture(autouse=True)
    def _built_index(self, tmp_path: Path, document: Document) -> None:
        # The suite builds retrievers from constructor params: hand it an index built in this test's tmp folder.
        built = open_retriever(Settings(index_dir=tmp_path / "index"), BagOfWordsEmbeddings.small(), documents=[document])
        self._params = {"index": built.index, "embeddings": built.embeddings, "documents": built.documents}

    @property
    def retriever_constructor(self) -> type[UnitRetriever]:
        return UnitRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return self._params

    @property
    def retriever_query_example(self) -> str:
        return "Que demande la résolution aux gouvernements pour protéger les victimes de la traite ?"
