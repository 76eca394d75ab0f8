"""The ollama backend: a model served by Ollama (any size), through langchain-ollama."""

from __future__ import annotations

from langchain_core.language_models import BaseChatModel

from resolution_qa.core.settings import LLMSettings

from . import ChatBackend, chat_reader


def _build(llm: LLMSettings) -> BaseChatModel:
    from langchain_ollama import ChatOllama

    return ChatOllama(
        model=llm.ollama_model,
        base_url=llm.ollama_url,
        temperature=llm.llm_temperature,
        num_predict=llm.llm_max_tokens,
        num_ctx=llm.llm_context,
        client_kwargs={"timeout": llm.llm_timeout_s},
    )


BACKEND = ChatBackend(
    name="ollama",
    summary="a model served by Ollama (RESOLUTION_QA_OLLAMA_MODEL, _OLLAMA_URL)",
    build=_build,
    reader=chat_reader(_build),
    describe=lambda llm: f"{llm.ollama_model} ({llm.ollama_url})",
)
