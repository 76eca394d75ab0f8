"""One LangChain chat model per LLM backend (llamacpp, ollama, openai), built from settings."""

from __future__ import annotations

import warnings

from langchain_core.language_models import BaseChatModel

from resolution_qa.core.errors import BackendError
from resolution_qa.core.model_files import gguf_path
from resolution_qa.core.settings import Backend, Settings

#: Backends that need no model at all.
NO_LLM: frozenset[str] = frozenset({"extractive"})
#: A placeholder key: local OpenAI-compatible servers (llama-server, vLLM) accept any.
_NO_KEY = "not-needed"


def make_chat_model(settings: Settings, backend: Backend) -> BaseChatModel | None:
    """The chat model of `backend` (None for extractive); the llamacpp one loads the GGUF now."""
    if backend == "extractive":
        return None
    if backend == "llamacpp":
        return _llamacpp(settings)
    if backend == "ollama":
        from langchain_ollama import ChatOllama

        return ChatOllama(
            model=settings.ollama_model,
            base_url=settings.ollama_url,
            temperature=settings.llm_temperature,
            num_predict=settings.llm_max_tokens,
            num_ctx=settings.llm_context,
            client_kwargs={"timeout": settings.llm_timeout_s},
        )
    if backend == "openai":
        from langchain_openai import ChatOpenAI

        return ChatOpenAI(
            base_url=settings.openai_base_url,
            api_key=settings.resolved_openai_key() or _NO_KEY,
            model=settings.openai_model,
            temperature=settings.llm_temperature,
            max_completion_tokens=settings.llm_max_tokens,
            timeout=settings.llm_timeout_s,
            max_retries=1,
        )
    raise BackendError(f"unknown backend {backend!r}; choose llamacpp, ollama, openai or extractive")


def _llamacpp(settings: Settings) -> BaseChatModel:
    path = gguf_path(settings)
    with warnings.catch_warnings():
        # langchain-community announces its sunset on import; ChatLlamaCpp still works with 0.3.x.
        warnings.simplefilter("ignore", DeprecationWarning)
        from langchain_community.chat_models import ChatLlamaCpp
    try:
        return ChatLlamaCpp(
            model_path=str(path),
            n_ctx=settings.llm_context,
            n_threads=settings.threads(),
            n_batch=512,  # the class default (8) makes prompt evaluation several times slower
            temperature=settings.llm_temperature,
            max_tokens=settings.llm_max_tokens,
            repeat_penalty=1.0,  # quoting the sources repeats their words on purpose
            streaming=True,
            verbose=False,
        )
    except Exception as exc:  # llama.cpp raises ValueError/RuntimeError on a bad or unsupported file
        raise BackendError(f"cannot load the GGUF model {path}: {exc}; check RESOLUTION_QA_GGUF_PATH") from exc
