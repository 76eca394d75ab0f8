"""Fakes for the assistant's logic tests: a bag-of-words embedder and a retriever over the parsed document."""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from ingest import Document
from resolution_qa.errors import EmptyQuestionError
from resolution_qa.settings import Settings
from vectorstore.references import find_references, resolve
from vectorstore.types import Hit, RetrievalResult

_DIM = 512


def _stem(word: str) -> str:
    word = unicodedata.normalize("NFKD", word.lower()).encode("ascii", "ignore").decode()
    return word[:6]


class BagOfWordsEmbeddings(Embeddings):
    """Deterministic lexical embedder: hashed 6-letter word prefixes, L2-normalised."""

    def _embed(self, text: str) -> list[float]:
        vector = [0.0] * _DIM
        for word in re.findall(r"\w{3,}", text):
            digest = hashlib.md5(_stem(word).encode()).digest()
            vector[int.from_bytes(digest[:4], "little") % _DIM] += 1.0
        norm = math.sqrt(sum(v * v for v in vector)) or 1.0
        return [v / norm for v in vector]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._embed(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._embed(text)


class FakeRetriever:
    """The UnitRetriever interface over the parsed document: references first, then lexical ranking."""

    def __init__(self, document: Document, k: int = 5) -> None:
        self.documents = [document]
        self.document = document
        self.embeddings = BagOfWordsEmbeddings()
        self.k = k
        self._vectors = {u.id: self.embeddings.embed_query(u.source or u.text) for u in document.units}
        self.queries: list[str] = []

    def search(self, query: str, k: int | None = None) -> RetrievalResult:
        if not query.strip():
            raise EmptyQuestionError("the question is empty")
        self.queries.append(query)
        k = k or self.k
        references = find_references(query)
        hits: list[Hit] = []
        for ref in references:
            unit = resolve(ref, self.document)  # raises ReferenceOutOfRangeError
            hits.append(Hit(unit=unit, score=1.0, via="reference"))
            hits += [Hit(unit=self.document.get(f), score=0.9, via="footnote") for f in unit.footnotes]
        q = self.embeddings.embed_query(query)
        scored = sorted(
            ((sum(a * b for a, b in zip(q, v, strict=True)), uid) for uid, v in self._vectors.items()), reverse=True
        )
        seen = {h.unit.id for h in hits}
        for score, uid in scored:
            if len([h for h in hits if h.via == "ranked"]) >= k:
                break
            if uid not in seen:
                hits.append(Hit(unit=self.document.get(uid), score=score, via="ranked", dense=score))
        return RetrievalResult(
            query=query, hits=tuple(hits), references=tuple(references), best_dense=scored[0][0] if scored else None
        )


class ScriptedChatModel(BaseChatModel):
    """Streams scripted replies word by word and records the prompts it was given.

    A reply that is an Exception is raised instead (after `fail_after` pieces); `delay` sleeps per piece.
    """

    replies: list[Any]
    prompts: list[list[BaseMessage]] = []
    delay: float = 0.0
    fail_after: int = 0

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _next(self, messages: list[BaseMessage]) -> Any:
        self.prompts.append(messages)
        if not self.replies:
            raise AssertionError("the chat model was called more often than scripted")
        return self.replies.pop(0)

    def _generate(
        self, messages: list[BaseMessage], stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any,
    ) -> ChatResult:
        reply = self._next(messages)
        if isinstance(reply, Exception):
            raise reply
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=reply))])

    def _stream(
        self, messages: list[BaseMessage], stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        import time

        reply = self._next(messages)
        if isinstance(reply, Exception):
            for i in range(self.fail_after):
                yield ChatGenerationChunk(message=AIMessageChunk(content=f"partial{i} "))
            raise reply
        for piece in re.findall(r"\S+\s*", reply):
            if self.delay:
                time.sleep(self.delay)
            yield ChatGenerationChunk(message=AIMessageChunk(content=piece))


def scripted(*replies: Any, **kwargs: Any) -> ScriptedChatModel:
    return ScriptedChatModel(replies=list(replies), prompts=[], **kwargs)


@pytest.fixture
def retriever(document: Document) -> FakeRetriever:
    return FakeRetriever(document)


@pytest.fixture
def make_assistant(settings: Settings, retriever: FakeRetriever):
    """Build an Assistant on the fake retriever with a scripted chat model (or extractive when none)."""
    from assistant import Assistant

    def build(*replies: Any, settings_update: dict | None = None, **model_kwargs: Any) -> Assistant:
        s = settings.model_copy(update={"refusal_threshold": 0.05, **(settings_update or {})})
        if not replies:
            return Assistant(s, backend="extractive", retriever=retriever)
        return Assistant(s, backend="llamacpp", retriever=retriever, chat_model=scripted(*replies, **model_kwargs))

    return build


@pytest.fixture
def chroma_retriever(settings: Settings, document: Document):
    """The real UnitRetriever on a Chroma index in tmp_path, with the bag-of-words embedder."""
    from vectorstore import open_retriever

    return open_retriever(settings, BagOfWordsEmbeddings(), documents=[document])


@pytest.fixture
def make_model():
    """A scripted chat model: make_model("reply 1", "reply 2", delay=..., fail_after=...)."""
    return scripted


@pytest.fixture(scope="session")
def real_settings(tmp_path_factory: pytest.TempPathFactory, models_dir) -> Settings:
    """Settings for the slow tests: the real models, an index of their own."""
    return Settings(index_dir=tmp_path_factory.mktemp("real-index"), models_dir=models_dir, backend="extractive")


@pytest.fixture(scope="session")
def real_retriever(real_settings: Settings):
    """The real UnitRetriever with EmbeddingGemma, built once per session (~30 s on 2 cores)."""
    from vectorstore import open_retriever

    return open_retriever(real_settings)


@pytest.fixture(scope="session")
def bow_embeddings() -> BagOfWordsEmbeddings:
    """The bag-of-words embedder, for module- or session-scoped indexes."""
    return BagOfWordsEmbeddings()
