"""Answer backends as registrations: each is one module with a `BACKEND`, listed as a `resolution_qa.backends` entry point.

`core.backends` knows the names (settings validation, CLI choices) without importing anything; this module
loads a backend when one is used. To add a backend, write a module with `BACKEND = ChatBackend(...)` and add
one line to the entry-point table of pyproject.toml (or of your own package).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from langchain_core.language_models import BaseChatModel

from resolution_qa.core.backends import backend_names, registered
from resolution_qa.core.errors import BackendError
from resolution_qa.core.settings import LLMSettings

from ..reader import ChatReader, Reader

__all__ = ["ChatBackend", "ChatReader", "backend_names", "chat_reader", "get_backend", "make_chat_model"]


@dataclass(frozen=True)
class ChatBackend:
    """What a backend registers: how to build its chat model and how to name what it runs."""

    name: str
    summary: str  # one line for `--help` and the docs
    build: Callable[[LLMSettings], BaseChatModel | None]  # None: the backend answers without a language model
    describe: Callable[[LLMSettings], str]  # the model it runs, as the chat app's status line shows it
    reader: Callable[[LLMSettings, BaseChatModel | None], Reader] | None = None  # the model's narrow roles

    def make_reader(self, llm: LLMSettings, chat_model: BaseChatModel | None = None) -> Reader | None:
        """The judge-and-writer of this backend (None for extractive); over `chat_model` when one is given."""
        if self.reader is None:
            return None
        return self.reader(llm, chat_model)

    @property
    def uses_llm(self) -> bool:
        return self.name != "extractive"


def chat_reader(build: Callable[[LLMSettings], BaseChatModel | None]) -> Callable[..., Reader]:
    """The reader of a backend served by a LangChain chat model (built now unless one is given)."""

    def make(llm: LLMSettings, chat_model: BaseChatModel | None = None) -> Reader:
        model = chat_model if chat_model is not None else build(llm)
        assert model is not None
        return ChatReader(model)

    return make


def get_backend(name: str) -> ChatBackend:
    """The registered backend called `name`; BackendError naming the registered ones when there is none."""
    entry = registered().get(name)
    if entry is None:
        raise BackendError(f"unknown backend {name!r}; choose {', '.join(backend_names())}")
    backend = entry.load()
    if not isinstance(backend, ChatBackend):
        raise BackendError(f"backend {name!r} ({entry.value}) is not a ChatBackend; check its entry point")
    return backend


def make_chat_model(llm: LLMSettings, backend: str | None = None) -> BaseChatModel | None:
    """The chat model of `backend` (default: llm.backend); None for a backend without one. Loads it now."""
    return get_backend(backend or llm.backend).build(llm)
