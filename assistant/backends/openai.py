"""The openai backend: any OpenAI-compatible endpoint (llama.cpp's server, vLLM, OpenAI), through langchain-openai."""

from __future__ import annotations

from langchain_core.language_models import BaseChatModel

from resolution_qa.core.settings import LLMSettings

from . import ChatBackend, chat_reader

#: A placeholder key: local OpenAI-compatible servers (llama-server, vLLM) accept any.
_NO_KEY = "not-needed"


def _build(llm: LLMSettings) -> BaseChatModel:
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        base_url=llm.openai_base_url,
        api_key=llm.resolved_openai_key() or _NO_KEY,
        model=llm.openai_model,
        temperature=llm.llm_temperature,
        max_completion_tokens=llm.llm_max_tokens,
        timeout=llm.llm_timeout_s,
        max_retries=1,
    )


BACKEND = ChatBackend(
    name="openai",
    summary="any OpenAI-compatible endpoint (RESOLUTION_QA_OPENAI_BASE_URL, _OPENAI_MODEL)",
    build=_build,
    reader=chat_reader(_build),
    describe=lambda llm: f"{llm.openai_model} ({llm.openai_base_url})",
)
