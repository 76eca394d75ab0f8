"""The one settings object: every knob of the project, read from RESOLUTION_QA_* variables."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

Backend = Literal["llamacpp", "ollama", "openai", "extractive"]

#: Names that mean "the model `resolution-qa models fetch` rebuilds" rather than a hub name or path.
DEFAULT_EMBEDDING_MODEL = "embeddinggemma-300m"
DEFAULT_GGUF_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"


def _default_cache() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "resolution-qa"


def _default_data() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "resolution-qa"


class Settings(BaseSettings):
    """Settings of resolution-qa. Each field can be set with RESOLUTION_QA_<FIELD> (or a .env file)."""

    model_config = SettingsConfigDict(
        env_prefix="RESOLUTION_QA_", env_file=".env", extra="ignore", validate_default=True
    )

    # --- files -------------------------------------------------------------------------------
    models_dir: Path = Field(
        default_factory=lambda: _default_cache() / "models",
        description="Folder where `resolution-qa models fetch` stores verified model files (outside git).",
    )
    index_dir: Path = Field(
        default_factory=lambda: _default_data() / "chroma",
        description="Folder of the embedded Chroma store (PersistentClient).",
    )
    documents: list[Path] = Field(
        default_factory=list,
        description=(
            "Resolution text files to ingest, or folders of them (their *.txt files, sorted); empty means the "
            "bundled A/RES/75/158 (French)."
        ),
    )

    # --- vector store --------------------------------------------------------------------------
    chroma_url: str | None = Field(
        default=None,
        description="URL of a Chroma server (http://127.0.0.1:8000); unset means the embedded store in index_dir.",
    )
    collection: str = Field(default="resolution_units", description="Chroma collection name.")

    # --- embeddings ----------------------------------------------------------------------------
    embedding_model: str = Field(
        default=DEFAULT_EMBEDDING_MODEL,
        description=(
            "Sentence-transformers model: 'embeddinggemma-300m' (the fetched one in models_dir), "
            "a local folder, or a hub name (needs network)."
        ),
    )
    embedding_batch_size: int = Field(default=16, ge=1, description="Units embedded per batch.")

    # --- retrieval -----------------------------------------------------------------------------
    k: int = Field(default=5, ge=1, le=50, description="Units retrieved per question.")
    dense_candidates: int = Field(
        default=200,
        ge=1,
        description=(
            "Passages fetched from the vector store per question before fusion with BM25; 200 is all of a "
            "one-resolution index (~130 passages), and keeps a query fast in a large corpus."
        ),
    )
    lexical_weight: float = Field(
        default=0.05,
        ge=0.0,
        le=1.0,
        description=(
            "Weight of BM25 (scaled so the best unit scores 1) added to the dense cosine similarity, for questions "
            "in any language (0 = dense only). 0.05 was measured to help French and English dev questions."
        ),
    )

    # --- answering -----------------------------------------------------------------------------
    backend: Backend = Field(default="llamacpp", description="Answer backend: llamacpp, ollama, openai or extractive.")
    gguf_path: Path | None = Field(
        default=None, description="GGUF file for the llamacpp backend; unset means the fetched Qwen2.5-Coder-1.5B."
    )
    llm_threads: int | None = Field(default=None, ge=1, description="llama.cpp threads; unset means the CPU count.")
    llm_context: int = Field(default=4096, ge=512, description="llama.cpp context window in tokens.")
    llm_max_tokens: int = Field(default=320, ge=16, description="Most tokens an LLM answer may have.")
    llm_temperature: float = Field(default=0.0, ge=0.0, le=2.0, description="Sampling temperature of the LLM.")
    llm_timeout_s: float = Field(
        default=120.0, gt=0, description="Seconds an LLM answer may take before the extractive fallback answers."
    )
    ollama_model: str = Field(default="qwen2.5:7b-instruct", description="Model name for the ollama backend.")
    ollama_url: str = Field(default="http://127.0.0.1:11434", description="Base URL of the Ollama server.")
    openai_base_url: str = Field(
        default="http://127.0.0.1:8080/v1", description="Base URL of an OpenAI-compatible endpoint."
    )
    openai_model: str = Field(default="gpt-4o-mini", description="Model name for the openai backend.")
    openai_api_key: SecretStr | None = Field(
        default=None,
        description="API key for the openai backend; falls back to OPENAI_API_KEY. Never logged.",
    )
    refusal_threshold: float = Field(
        default=0.34,
        ge=-1.0,
        le=1.0,
        description=(
            "Best dense cosine similarity below which the assistant says the resolution does not address the "
            "question (calibrated on eval/data/dev.jsonl: 0.34 refuses 2 of 105 answerable questions; see "
            "benchmarks/results/answers.md)."
        ),
    )
    history_turns: int = Field(default=6, ge=0, description="Most previous turns kept in a conversation.")

    # --- chat app ------------------------------------------------------------------------------
    host: str = Field(default="127.0.0.1", description="Address the chat app listens on (loopback by default).")
    port: int = Field(default=7860, ge=1, le=65535, description="Port of the chat app.")
    auth_user: str | None = Field(
        default=None,
        description="User name the chat app asks for; set it with auth_password to require a login (unset: none).",
    )
    auth_password: SecretStr | None = Field(
        default=None, description="Password of auth_user for the chat app. Never logged, printed or shown."
    )
    allow_public_without_auth: bool = Field(
        default=False,
        description="Let the chat app listen on a non-loopback host without a login (refused otherwise).",
    )
    answer_concurrency: int = Field(
        default=4,
        ge=1,
        le=64,
        description=(
            "Questions the chat app works on at once (threads). Retrieval and extractive answers share one "
            "embedding model and interleave on the CPU cores; LLM generation is serialized by the assistant's own "
            "lock, so a few more slots than cores let short answers pass while one is generated."
        ),
    )
    queue_max_size: int = Field(
        default=32,
        ge=1,
        description=(
            "Questions that may wait for a slot; past it a user is told the queue is full and to retry, rather "
            "than wait minutes behind LLM answers (~10 s each on 2 cores)."
        ),
    )
    rate_limit_per_minute: int = Field(
        default=20, ge=0, description="Questions one chat session may ask in any 60 s (0: no limit)."
    )
    max_request_bytes: int = Field(
        default=65536,
        ge=1024,
        description=(
            "Largest HTTP request body the chat app reads (bytes); bigger ones get 413 before any handler runs. "
            "A 4,000-character question is under 25 KB as JSON."
        ),
    )
    session_ttl_s: float = Field(
        default=3600.0, gt=0, description="Seconds a chat session's conversation is kept after its last question."
    )

    def resolved_openai_key(self) -> str | None:
        if self.openai_api_key is not None:
            return self.openai_api_key.get_secret_value()
        return os.environ.get("OPENAI_API_KEY")

    def threads(self) -> int:
        return self.llm_threads or max(1, os.cpu_count() or 1)
