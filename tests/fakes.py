"""Fakes for fast logic tests: a bag-of-words embedder, a retriever over the parsed document, a scripted chat model."""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections.abc import Iterator
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from resolution_qa.core.errors import EmptyQuestionError
from resolution_qa.ingest import Document
from resolution_qa.vectorstore.references import find_references, resolve
from resolution_qa.vectorstore.types import Hit, RetrievalResult

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
