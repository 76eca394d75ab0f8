"""The extractive backend: no language model; answers quote the retrieved passages."""

from __future__ import annotations

from . import ChatBackend

BACKEND = ChatBackend(
    name="extractive",
    summary="no LLM: quotes the passages that answer, with their labels",
    build=lambda llm: None,
    describe=lambda llm: "no LLM: quotes the retrieved paragraphs",
)
