"""The Reader of a GGUF model in this process: passage states cached, judged by token probabilities, grammar-bound sentences.

Every prompt is [system][passage][question and request]. The model's state after [system][passage] depends on the
passage only, so it is computed once per passage and kept (the KV cells of that sequence, ~28 KB a token for
Qwen2.5-1.5B: 2-11 MB a paragraph); judging a passage then costs the question's tokens alone. Measured on 2 cores:
building a state takes 1-4.6 s (79-390 tokens), judging from it 0.4-0.5 s.
"""

from __future__ import annotations

import ctypes
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from time import perf_counter

import numpy as np

from resolution_qa.core.errors import BackendError
from resolution_qa.core.model_files import gguf_path
from resolution_qa.core.refs import Lang
from resolution_qa.core.settings import LLMSettings

from .prompts import NO_WORDS, READER_SYSTEM, YES_WORDS
from .reader import (
    SENTENCE_TOKENS,
    Passage,
    first_sentence,
    judge_message,
    passage_message,
    verify_message,
    write_message,
)

#: A sentence, and only that: no line break, no markup, no brackets (so no tag, link or HTML can be written).
SENTENCE_GRAMMAR = r"""
root ::= [^\n<>\[\]{}|`*#_]+
"""

_SENTINEL = "\u2063QUESTION\u2063"


@dataclass(frozen=True)
class _State:
    """The KV cells of one sequence after [system][passage], and its tokens."""

    data: bytes
    tokens: tuple[int, ...]


class LlamaReader:
    """Judges and writes with a llama.cpp model; one at a time (llama.cpp is not re-entrant)."""

    def __init__(self, llm: LLMSettings, *, cache_mb: int = 1536, disk_mb: int = 2048) -> None:
        from llama_cpp import Llama, LlamaGrammar

        path = gguf_path(llm)
        try:
            self.model = Llama(
                model_path=str(path),
                n_ctx=llm.llm_context,
                n_threads=llm.threads(),
                n_batch=512,
                verbose=False,
            )
        except Exception as exc:  # llama.cpp raises ValueError/RuntimeError on a bad or unsupported file
            raise BackendError(f"cannot load the GGUF model {path}: {exc}; check RESOLUTION_QA_GGUF_PATH") from exc
        self.settings = llm
        self.grammar = LlamaGrammar.from_string(SENTENCE_GRAMMAR, verbose=False)
        self._lock = threading.RLock()
        self._states: OrderedDict[str, _State] = OrderedDict()
        self._cache_bytes = cache_mb * 1024 * 1024
        # States also go to disk, so that a new process (a CLI call, the app after a restart) does not read every
        # passage again: keyed by the model file and the exact prefix tokens, so a new prompt or text never reuses
        # an old state.
        self._disk = llm.models_dir / ".llama-states" / f"{path.name}-{path.stat().st_size}"
        self._disk_bytes = disk_mb * 1024 * 1024
        self._prefix_template, self._suffix_template = self._template()
        self._yes = self._first_tokens(YES_WORDS)
        self._no = self._first_tokens(NO_WORDS)

    # --- prompt pieces, as tokens -------------------------------------------------------------------

    def _template(self) -> tuple[str, str]:
        """The chat template split around the user's text: (up to the user's text, after it)."""
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        template = self.model.metadata.get("tokenizer.chat_template")
        if template:
            formatter = Jinja2ChatFormatter(template=template, eos_token="", bos_token="")
            rendered = formatter(
                messages=[
                    {"role": "system", "content": READER_SYSTEM},
                    {"role": "user", "content": _SENTINEL + "{user}" + _SENTINEL},
                ]
            ).prompt
            before, _, rest = rendered.partition(_SENTINEL + "{user}" + _SENTINEL)
            if rest:
                return before, rest
        # ChatML (Qwen and many others), when the file carries no template.
        return (
            f"<|im_start|>system\n{READER_SYSTEM}<|im_end|>\n<|im_start|>user\n",
            "<|im_end|>\n<|im_start|>assistant\n",
        )

    def _tokens(self, text: str, *, special: bool) -> list[int]:
        # Data (passages, questions) is tokenized with special=False: a "<|im_end|>" inside a document stays text.
        return self.model.tokenize(text.encode("utf-8"), add_bos=False, special=special)

    def _first_tokens(self, words: Sequence[str]) -> list[int]:
        return sorted({self._tokens(w, special=False)[0] for w in words})

    def _prefix(self, passage: Passage) -> list[int]:
        return self._tokens(self._prefix_template, special=True) + self._tokens(passage_message(passage), special=False)

    def _suffix(self, ask: str) -> list[int]:
        return self._tokens(ask, special=False) + self._tokens(self._suffix_template, special=True)

    # --- passage states ---------------------------------------------------------------------------

    def _state(self, passage: Passage) -> _State:
        state = self._states.get(passage.key)
        if state is not None and self._current_prefix(passage) == state.tokens:
            self._states.move_to_end(passage.key)
            return state
        tokens = self._prefix(passage)
        state = self._from_disk(tokens)
        if state is None:
            self._clear()
            self.model.eval(tokens)
            state = _State(self._save(), tuple(tokens))
            self._to_disk(state)
        self._states[passage.key] = state
        self._evict()
        return state

    def _disk_path(self, tokens: Sequence[int]) -> Path:
        return self._disk / (hashlib.sha256(np.asarray(tokens, dtype=np.int32).tobytes()).hexdigest() + ".kv")

    def _from_disk(self, tokens: Sequence[int]) -> _State | None:
        path = self._disk_path(tokens)
        try:
            return _State(path.read_bytes(), tuple(tokens))
        except OSError:
            return None

    def _to_disk(self, state: _State) -> None:
        """Best effort: a full or read-only disk only costs the next process some time."""
        try:
            self._disk.mkdir(parents=True, exist_ok=True)
            files = sorted(self._disk.glob("*.kv"), key=lambda p: p.stat().st_mtime)
            used = sum(p.stat().st_size for p in files)
            while files and used + len(state.data) > self._disk_bytes:
                oldest = files.pop(0)
                used -= oldest.stat().st_size
                oldest.unlink(missing_ok=True)
            target = self._disk_path(state.tokens)
            partial = target.with_suffix(".partial")
            partial.write_bytes(state.data)
            partial.replace(target)  # atomic: a killed process leaves no torn state behind
        except OSError:
            pass

    def _ready(self, passage: Passage) -> _State:
        """The model holding [system][passage]; a stored state that does not restore is computed again."""
        state = self._state(passage)
        try:
            self._load(state)
        except BackendError:
            self._states.pop(passage.key, None)
            self._disk_path(state.tokens).unlink(missing_ok=True)
            self._clear()
            self.model.eval(list(state.tokens))
            state = _State(self._save(), state.tokens)
            self._states[passage.key] = state
            self._load(state)
        return state

    def _current_prefix(self, passage: Passage) -> tuple[int, ...]:
        # The same key with another text (a re-ingested paragraph) must not reuse the old state.
        return tuple(self._prefix(passage))

    def _evict(self) -> None:
        while sum(len(s.data) for s in self._states.values()) > self._cache_bytes and len(self._states) > 1:
            self._states.popitem(last=False)

    def _clear(self) -> None:
        import llama_cpp

        self.model.reset()
        llama_cpp.llama_memory_clear(llama_cpp.llama_get_memory(self.model.ctx), True)

    def _save(self) -> bytes:
        import llama_cpp

        ctx = self.model.ctx
        size = llama_cpp.llama_state_seq_get_size(ctx, 0)
        buffer = (ctypes.c_uint8 * size)()
        written = llama_cpp.llama_state_seq_get_data(ctx, buffer, size, 0)
        return bytes(buffer[:written])

    def _load(self, state: _State) -> None:
        import llama_cpp

        self._clear()
        data = (ctypes.c_uint8 * len(state.data)).from_buffer_copy(state.data)
        if llama_cpp.llama_state_seq_set_data(self.model.ctx, data, len(state.data), 0) != len(state.data):
            raise BackendError("llama.cpp could not restore a cached passage state")
        self.model.n_tokens = len(state.tokens)
        self.model.input_ids[: len(state.tokens)] = state.tokens

    def warm(self, passages: Sequence[Passage]) -> int:
        """Compute (and keep on disk) the state of each passage not kept yet, one at a time, so that questions can
        go between them; the number computed. A newcomer's first question then costs what the tenth does."""
        built = 0
        for passage in passages:
            with self._lock:
                if passage.key in self._states or self._disk_path(self._prefix(passage)).is_file():
                    continue
                self._state(passage)
                built += 1
        return built

    # --- the two roles --------------------------------------------------------------------------------

    def judge(self, question: str, passages: Sequence[Passage], *, premise: bool = False) -> list[float]:
        return self._p_yes(judge_message(question, premise=premise), passages)

    def verify(self, sentence: str, passage: Passage) -> float:
        return self._p_yes(verify_message(sentence), [passage])[0]

    def _p_yes(self, ask: str, passages: Sequence[Passage]) -> list[float]:
        """P(yes) as the first token after [system][passage][ask], for each passage (its state reused)."""
        import llama_cpp

        suffix = self._suffix(ask)
        scores: list[float] = []
        with self._lock:
            for passage in passages:
                self._ready(passage)
                self.model.eval(suffix)
                logits = np.ctypeslib.as_array(
                    llama_cpp.llama_get_logits_ith(self.model.ctx, -1), shape=(self.model.n_vocab(),)
                )
                top = float(logits.max())
                yes = float(np.exp(logits[self._yes] - top).sum())
                no = float(np.exp(logits[self._no] - top).sum())
                scores.append(yes / (yes + no) if yes + no > 0 else 0.5)
        return scores

    def write(self, question: str, passage: Passage, lang: Lang, start: str = "") -> Iterator[str]:
        deadline = perf_counter() + self.settings.llm_timeout_s
        with self._lock:
            state = self._ready(passage)
            prompt = list(state.tokens) + self._suffix(write_message(question, passage, lang))
            prompt += self._tokens(start, special=False)  # the answer begun for the model: it continues it
            written = ""
            for chunk in self.model.create_completion(
                prompt=prompt,
                max_tokens=min(SENTENCE_TOKENS, self.settings.llm_max_tokens),
                temperature=self.settings.llm_temperature,
                repeat_penalty=1.0,  # the sentence repeats the passage's words on purpose
                grammar=self.grammar,
                stream=True,
            ):
                if perf_counter() > deadline:
                    raise BackendError(f"no complete sentence within {self.settings.llm_timeout_s:g} s")
                piece = chunk["choices"][0]["text"]  # type: ignore[index]
                written += piece
                if first_sentence(start + written) != (start + written).strip():
                    break  # a second sentence has begun
                yield piece
