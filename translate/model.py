"""What translation needs of a language model: one completion of chat messages, and two ways to get it.

`Generator.generate(messages, temperature, seed, max_tokens)` returns the model's reply. A last message with the
role "assistant" is the reply already begun (the opening phrase written in code): the model continues it, and the
returned text starts with it.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypedDict, runtime_checkable

from resolution_qa.core.errors import BackendError

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel


class Message(TypedDict):
    role: str  # "system", "user" or "assistant"
    content: str


@runtime_checkable
class Generator(Protocol):
    """A language model that completes chat messages."""

    name: str

    def generate(self, messages: Sequence[Message], *, temperature: float, seed: int, max_tokens: int) -> str: ...


def _split_prefill(messages: Sequence[Message]) -> tuple[list[Message], str]:
    if messages and messages[-1]["role"] == "assistant":
        return list(messages[:-1]), messages[-1]["content"]
    return list(messages), ""


class LlamaGenerator:
    """A GGUF model in this process (llama-cpp-python), loaded at the first call; 2 threads by default, as the
    machines this runs on share 2 cores. The longest common prompt prefix is kept between calls by llama.cpp, so
    the candidates of one piece pay for its prompt once."""

    def __init__(self, path: Path, *, n_ctx: int = 4096, n_threads: int = 2) -> None:
        self.path = Path(path)
        self.name = self.path.name
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self._model = None
        self._formatter = None
        self._lock = threading.Lock()

    def _load(self):  # type: ignore[no-untyped-def]
        if self._model is None:
            from llama_cpp import Llama
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            try:
                self._model = Llama(model_path=str(self.path), n_ctx=self.n_ctx, n_threads=self.n_threads,
                                    n_batch=512, verbose=False)
            except Exception as exc:  # llama.cpp raises ValueError/RuntimeError on a bad file
                raise BackendError(f"cannot load the GGUF model {self.path}: {exc}; check RESOLUTION_QA_GGUF_PATH") from exc
            template = self._model.metadata.get("tokenizer.chat_template")
            if template:
                self._formatter = Jinja2ChatFormatter(template=template, eos_token="", bos_token="",
                                                      add_generation_prompt=True)
        return self._model

    def _prompt(self, messages: list[Message]) -> str:
        if self._formatter is not None:
            return self._formatter(messages=messages).prompt  # type: ignore[arg-type]
        # ChatML (Qwen and many others), when the file carries no template
        turns = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
        return turns + "<|im_start|>assistant\n"

    def generate(self, messages: Sequence[Message], *, temperature: float, seed: int, max_tokens: int) -> str:
        with self._lock:  # llama.cpp is not re-entrant
            model = self._load()
            chat, prefill = _split_prefill(messages)
            out = model.create_completion(
                prompt=self._prompt(chat) + prefill,
                max_tokens=max_tokens,
                temperature=temperature,
                seed=seed,
                repeat_penalty=1.0,  # a translation repeats the source's names on purpose
                stop=["<|im_end|>", "<|endoftext|>", "\n\n"],
            )
        return prefill + out["choices"][0]["text"]  # type: ignore[index]


class ChatModelGenerator:
    """Any LangChain chat model (Ollama, an OpenAI-compatible server, a hub model): sampling settings are set on a
    copy of the model for each call. Chat APIs cannot continue a begun reply, so the opening is asked for in the
    user message and put back when the model leaves it out."""

    def __init__(self, model: BaseChatModel, name: str | None = None) -> None:
        self.model = model
        self.name = name or str(getattr(model, "model_name", None) or getattr(model, "model", None) or type(model).__name__)

    def _configured(self, temperature: float, seed: int, max_tokens: int) -> BaseChatModel:
        fields = type(self.model).model_fields
        wanted = {"temperature": temperature, "seed": seed, "max_tokens": max_tokens, "num_predict": max_tokens}
        return self.model.model_copy(update={k: v for k, v in wanted.items() if k in fields})

    def generate(self, messages: Sequence[Message], *, temperature: float, seed: int, max_tokens: int) -> str:
        chat, prefill = _split_prefill(messages)
        if prefill and chat and chat[-1]["role"] == "user":
            chat[-1] = {"role": "user", "content": f"{chat[-1]['content']}\n\nBegin your translation with: {prefill}"}
        try:
            reply = self._configured(temperature, seed, max_tokens).invoke([(m["role"], m["content"]) for m in chat])
        except Exception as exc:  # network errors, refused connections, bad model names: one line
            raise BackendError(f"the translation model {self.name} failed: {exc}") from exc
        text = str(reply.content).strip()
        if prefill and not text.lower().startswith(prefill.lower()):
            text = f"{prefill} {text[:1].lower()}{text[1:]}"
        return text
