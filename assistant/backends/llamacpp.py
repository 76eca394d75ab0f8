"""The llamacpp backend: a GGUF model in this process through llama-cpp-python (the default: offline)."""

from __future__ import annotations

import warnings

from langchain_core.language_models import BaseChatModel

from resolution_qa.core.errors import BackendError
from resolution_qa.core.model_files import gguf_path
from resolution_qa.core.settings import DEFAULT_GGUF_NAME, LLMSettings

from ..reader import ChatReader, Reader
from . import ChatBackend


def _build(llm: LLMSettings) -> BaseChatModel:
    path = gguf_path(llm)
    with warnings.catch_warnings():
        # langchain-community announces its sunset on import; ChatLlamaCpp still works with 0.3.x.
        warnings.simplefilter("ignore", DeprecationWarning)
        from langchain_community.chat_models import ChatLlamaCpp
    try:
        return ChatLlamaCpp(
            model_path=str(path),
            n_ctx=llm.llm_context,
            n_threads=llm.threads(),
            n_batch=512,  # the class default (8) makes prompt evaluation several times slower
            temperature=llm.llm_temperature,
            max_tokens=llm.llm_max_tokens,
            repeat_penalty=1.0,  # quoting the sources repeats their words on purpose
            streaming=True,
            verbose=False,
        )
    except Exception as exc:  # llama.cpp raises ValueError/RuntimeError on a bad or unsupported file
        raise BackendError(f"cannot load the GGUF model {path}: {exc}; check RESOLUTION_QA_GGUF_PATH") from exc


def _reader(llm: LLMSettings, chat_model: BaseChatModel | None = None) -> Reader:
    """A given chat model (a test's scripted one) is read through; else the GGUF in this process."""
    if chat_model is not None:
        return ChatReader(chat_model)
    from ..llama_reader import LlamaReader

    return LlamaReader(llm)


BACKEND = ChatBackend(
    name="llamacpp",
    summary="a GGUF model in this process (default: the fetched Qwen2.5-Coder-1.5B; RESOLUTION_QA_GGUF_PATH)",
    build=_build,
    reader=_reader,
    describe=lambda llm: llm.gguf_path.name if llm.gguf_path is not None else DEFAULT_GGUF_NAME,
)
