"""Settings: every knob, read from RESOLUTION_QA_* variables, handed to each layer as its own section.

Each field is declared once, in the section of the layer that uses it. `Settings` inherits every section,
so it reads one flat RESOLUTION_QA_<FIELD> variable per field (RESOLUTION_QA_K, RESOLUTION_QA_INDEX_DIR:
the names users already set; nested settings would rename them), and hands each layer only its own
section (`settings.store`, `.embedding`, `.retrieval`, `.llm`, `.answer`, `.web`): a frozen copy, so
a layer cannot read, or come to depend on, another layer's knobs.
"""

from __future__ import annotations

import ipaddress
import os
import re
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

from .backends import backend_names
from .errors import SettingsValueError

#: The name of an answer backend, one of `core.backends.backend_names()`.
Backend = str

#: Names that mean "the model `resolution-qa models fetch` rebuilds" rather than a hub name or path.
DEFAULT_EMBEDDING_MODEL = "embeddinggemma-300m"
DEFAULT_GGUF_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"


def _default_cache() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "resolution-qa"


def _default_data() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "resolution-qa"


#: Files of which one at least is in a sentence-transformers or transformers model folder.
_MODEL_FILES = frozenset({"config.json", "modules.json", "config_sentence_transformers.json", "pytorch_model.bin"})


class _Section(BaseModel):
    """A layer's settings (frozen)."""

    model_config = ConfigDict(frozen=True, validate_default=True)


class ModelFilesSettings(_Section):
    """Where `resolution-qa models fetch` puts the models (both the embedder and the GGUF live there)."""

    models_dir: Path = Field(
        default_factory=lambda: _default_cache() / "models",
        description="Folder where `resolution-qa models fetch` stores verified model files (outside git).",
    )


class StoreSettings(_Section):
    """The vector store: where the index lives (folder or Chroma server) and which documents it holds."""

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

    chroma_url: str | None = Field(
        default=None,
        description="URL of a Chroma server (http://127.0.0.1:8000); unset means the embedded store in index_dir.",
    )

    collection: str = Field(default="resolution_units", description="Chroma collection name.")


class EmbeddingSettings(ModelFilesSettings):
    """The embedding model."""

    embedding_model: str = Field(
        default=DEFAULT_EMBEDDING_MODEL,
        description=(
            "Sentence-transformers model: 'embeddinggemma-300m' (the fetched one in models_dir), "
            "a local folder, or a hub name (needs network)."
        ),
    )

    embedding_batch_size: int = Field(default=16, ge=1, description="Units embedded per batch.")

    @field_validator("embedding_model")
    @classmethod
    def _a_model_folder(cls, value: str) -> str:
        # A folder that exists but holds no model (/etc, a typo'd parent folder) made transformers raise a ValueError
        # deep in loading; a hub name or a path that does not exist is left to the loader (it says so itself).
        folder = Path(value).expanduser()
        if value == DEFAULT_EMBEDDING_MODEL or not folder.exists():
            return value
        if not folder.is_dir():
            raise ValueError(f"{value} is a file, not a sentence-transformers model folder")
        try:
            names = {child.name for child in folder.iterdir()}
        except OSError as exc:
            raise ValueError(f"the folder {value} cannot be read ({exc.strerror or exc})") from None
        if not names & _MODEL_FILES and not any(n.endswith(".safetensors") for n in names):
            raise ValueError(f"the folder {value} holds no sentence-transformers model (no config.json, modules.json "
                             "or weights)")
        return value


class RetrievalSettings(_Section):
    """Ranking: how many units, how many dense candidates, how much BM25."""

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


class LLMSettings(ModelFilesSettings):
    """The answer backend and its model: a local GGUF, Ollama or an OpenAI-compatible server."""

    backend: Backend = Field(
        default="llamacpp",
        description="Answer backend: a registered one (see `resolution-qa ask --help`): llamacpp, ollama, openai, extractive.",
    )

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

    @field_validator("backend")
    @classmethod
    def _registered(cls, value: str) -> str:
        names = backend_names()
        if value not in names:
            raise ValueError(f"unknown backend {value!r}; choose {', '.join(names)}")
        return value

    def resolved_openai_key(self) -> str | None:
        if self.openai_api_key is not None:
            return self.openai_api_key.get_secret_value()
        return os.environ.get("OPENAI_API_KEY")

    def threads(self) -> int:
        return self.llm_threads or max(1, os.cpu_count() or 1)


class AnswerSettings(_Section):
    """How answers are made from retrieved units: refusal, conversation memory."""

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

    # The judge (an LLM backend's P(yes) that a passage answers): calibrated on the dev splits by
    # benchmarks/judge.py (benchmarks/results/judge.md); the held-out splits never set these.
    # Calibrated on dev + blind_dev (benchmarks/judge.py, 67 questions naming no paragraph; judge.md): the best judge
    # P(yes) separates answerable from not with AUC 0.75, the best dense similarity 0.61 and no better with both,
    # so by default only the judge decides; 0.55 declined 2 of 8 unanswerable and 1 of 59 answerable there.
    judge_weight: float = Field(default=1.0, description="Weight of logit(best judge P(yes)) in answerability.")
    dense_weight: float = Field(default=0.0, description="Weight of the best dense similarity in answerability.")
    judge_bias: float = Field(default=-0.2, description="Bias of the answerability logistic (-logit(0.55)).")
    decline_below: float = Field(
        default=0.5, ge=0.0, le=1.0, description="Answerability below which the assistant declines to answer."
    )
    rank_weight: float = Field(
        default=0.5,
        ge=0.0,
        description=(
            "Passages are ordered by logit(P(yes)) - rank_weight x retrieval rank: on dev + blind_dev the best one is a "
            "gold passage 0.855 of the time, by retrieval alone 0.80, by the judge alone 0.73 (0.3-0.6 all give 0.855)."
        ),
    )
    keep_above: float = Field(
        default=0.8, ge=0.0, le=1.0, description="Judge P(yes) a passage needs to be cited besides the best one."
    )
    keep_margin: float = Field(
        default=0.05, ge=0.0, le=1.0, description="How far below the best passage's P(yes) another may be and be cited."
    )
    min_support: float = Field(
        default=0.3,
        ge=-1.0,
        le=1.0,
        description=(
            "Least cosine similarity (embedding model) between a model-written sentence and the closest passage of "
            "the paragraph it cites; below it the sentence is replaced by the quote."
        ),
    )
    list_keep: float = Field(
        default=0.5, ge=0.0, le=1.0,
        description="Judge P(yes) a paragraph needs to be listed in a list answer (dev: precision 0.71, recall 0.71).",
    )


class WebSettings(_Section):
    """The chat app's address, login and limits."""

    host: str = Field(default="127.0.0.1", description="Address the chat app listens on (loopback by default).")

    port: int = Field(default=7860, ge=1, le=65535, description="Port of the chat app.")

    serve_port: int = Field(
        default=7861,
        ge=1,
        le=65535,
        description="Port of `resolution-qa serve`, the OpenAI-compatible API (same host, login and limits as the chat app).",
    )

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
        default=20,
        ge=0,
        description=(
            "Questions one client address may ask in any 60 s, whatever its sessions (0: no limit). The address is "
            "the connecting one, or the one trusted_proxies forward for."
        ),
    )

    searches_per_minute: int = Field(
        default=120,
        ge=0,
        description=(
            "Searches of the Resolution tab (its public /search endpoint) one client address may make in any 60 s "
            "(0: no limit); each search is also cut to search_max_words words, so one costs milliseconds."
        ),
    )

    search_max_words: int = Field(
        default=12, ge=1, le=200, description="Words of a Resolution-tab search that are looked for (the rest ignored)."
    )

    ratings_per_minute: int = Field(
        default=30,
        ge=0,
        description="Likes, dislikes and comments on answers one client address may save in any 60 s (0: no limit).",
    )

    allowed_hosts: list[str] = Field(
        default_factory=list,
        description=(
            "Host names (or addresses) `resolution-qa serve` answers to, besides loopback and the address it listens "
            "on: the Host header and a browser's Origin must name one of them (DNS rebinding and cross-site pages are "
            "refused). Empty on a wildcard address (0.0.0.0): any Host, but never a foreign Origin."
        ),
    )

    login_failures_per_address: int = Field(
        default=5,
        ge=0,
        description=(
            "Failed logins one client address may make in login_window_s; further attempts get HTTP 429 without "
            "their password being checked, until the window frees up (0: no limit)."
        ),
    )

    login_failures_per_user: int = Field(
        default=20,
        ge=0,
        description=(
            "Failed logins for one user name, from all addresses together, in login_window_s; then that name is "
            "refused until the window frees up (0: no limit). It stops guessing spread over many addresses; the "
            "price is that such an attack also keeps the real user out while it lasts."
        ),
    )

    login_window_s: float = Field(
        default=300.0, gt=0, description="Seconds over which failed logins are counted (a moving window)."
    )

    trusted_proxies: list[str] = Field(
        default_factory=list,
        description=(
            "Addresses or networks (127.0.0.1, 10.0.0.0/8) of reverse proxies in front of the chat app or the API: "
            "only from them is X-Forwarded-For believed when counting logins and questions per client. Empty: the "
            "connecting address is the client, and requests carrying X-Forwarded-For share one budget."
        ),
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                ipaddress.ip_network(item.strip(), strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or network (e.g. 127.0.0.1, 10.0.0.0/8)") from None
        return [item.strip() for item in value]

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

    feedback_path: Path | None = Field(
        default=None,
        description=(
            "JSONL file where the chat app saves thumbs up/down and comments on answers; unset means feedback.jsonl "
            "in the data folder, beside the index (~/.local/share/resolution-qa/feedback.jsonl)."
        ),
    )

    @property
    def auth(self) -> tuple[str, str] | None:
        """(user, password) when a login is configured."""
        if self.auth_user and self.auth_password is not None:
            return self.auth_user, self.auth_password.get_secret_value()
        return None


_S = TypeVar("_S", bound=_Section)


class Settings(
    WebSettings, AnswerSettings, LLMSettings, RetrievalSettings, EmbeddingSettings, StoreSettings, BaseSettings
):
    """Settings of resolution-qa. Each field can be set with RESOLUTION_QA_<FIELD> (or a .env file)."""

    model_config = SettingsConfigDict(
        env_prefix="RESOLUTION_QA_", env_file=".env", extra="ignore", validate_default=True, frozen=False
    )

    def __init__(self, **values: Any) -> None:
        """The settings from the keywords, the environment and .env; a bad value is a SettingsValueError naming the
        variable (or keyword), the value and what is allowed, in one line, never a pydantic traceback."""
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise bad_setting(exc, given=values) from None
        except SettingsError as exc:  # a list variable that is not JSON: pydantic-settings fails before validating
            raise _unparsable(exc) from None

    def _section(self, cls: type[_S]) -> _S:
        return cls.model_validate({name: getattr(self, name) for name in cls.model_fields})

    @property
    def store(self) -> StoreSettings:
        return self._section(StoreSettings)

    @property
    def embedding(self) -> EmbeddingSettings:
        return self._section(EmbeddingSettings)

    @property
    def retrieval(self) -> RetrievalSettings:
        return self._section(RetrievalSettings)

    @property
    def llm(self) -> LLMSettings:
        return self._section(LLMSettings)

    @property
    def answer(self) -> AnswerSettings:
        return self._section(AnswerSettings)

    @property
    def web(self) -> WebSettings:
        return self._section(WebSettings)

    def with_backend(self, backend: str) -> Settings:
        """The same settings answering with another backend (checked against the registered ones)."""
        return type(self).model_validate({**self.model_dump(), "backend": backend})


# --- one-line errors for bad values ---------------------------------------------------------------------------

#: What a text setting accepts, where its type does not say.
_HINTS = {
    "embedding_model": f"{DEFAULT_EMBEDDING_MODEL!r} (the fetched model), a folder holding a sentence-transformers "
                       "model, or a hub name",
    "documents": 'a JSON list of resolution files or folders, e.g. ["A_RES_75_158.fr.txt", "resolutions/"]',
    "trusted_proxies": 'a JSON list of IP addresses or networks, e.g. ["127.0.0.1", "10.0.0.0/8"]',
    "allowed_hosts": 'a JSON list of host names, e.g. ["qa.example.org"]',
}

#: Values never echoed in an error.
_SECRET = frozenset({"auth_password", "openai_api_key"})


def _bounds(metadata: list[Any]) -> str:
    low = high = ""
    for item in metadata:
        if getattr(item, "ge", None) is not None:
            low = f"from {item.ge}"
        elif getattr(item, "gt", None) is not None:
            low = f"above {item.gt}"
        if getattr(item, "le", None) is not None:
            high = f"to {item.le}" if low.startswith("from") else f"at most {item.le}"
        elif getattr(item, "lt", None) is not None:
            high = f"below {item.lt}"
    if low.startswith("from") and not high:
        return low.replace("from", "", 1).strip() + " or more"
    return " ".join(part for part in (low, high) if part)


def allowed_values(field: str) -> str:
    """What a setting accepts, in words: "a whole number from 1 to 50", "llamacpp, ollama, ...", "a JSON list"."""
    info = Settings.model_fields.get(field)
    if info is None:
        return ""
    if field == "backend":
        return ", ".join(backend_names())
    if field in _HINTS:
        return _HINTS[field]
    annotation = info.annotation
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    optional = typing.get_origin(annotation) in (typing.Union, types.UnionType) and type(None) in typing.get_args(annotation)
    base: Any = args[0] if optional and args else annotation
    kinds: dict[Any, str] = {int: "a whole number", float: "a number", bool: "true or false", Path: "a path"}
    kind = kinds.get(base)
    if typing.get_origin(base) is list:
        kind = 'a JSON list, e.g. ["first", "second"]'
    if kind is None:
        return ""
    bounds = _bounds(list(info.metadata))
    return f"{kind}{' ' + bounds if bounds else ''}{' (or unset)' if optional else ''}"


def _shown(field: str, value: object) -> str:
    if field in _SECRET:
        return "***"
    text = value if isinstance(value, str) else repr(value)
    text = " ".join(text.split()) or repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _environ(variable: str) -> str | None:
    """The value of an environment variable, its name in any case (pydantic-settings reads them so)."""
    return next((v for k, v in os.environ.items() if k.upper() == variable), None)


def bad_setting(exc: ValidationError, *, given: dict[str, Any] | None = None) -> SettingsValueError:
    """A pydantic ValidationError of Settings as one line: the variable (the keyword when it was given as one), the
    value, what is wrong and what is allowed."""
    errors = exc.errors()
    first = errors[0]
    loc = first.get("loc") or ()
    field = str(loc[0]) if loc else "settings"
    reason = re.sub(r"^(Value error|Assertion failed), ", "", str(first.get("msg", "invalid")))
    allowed = allowed_values(field)
    if allowed and allowed not in reason:
        reason = f"{reason}; allowed: {allowed}"
    if field in (given or {}):
        name, value = field, _shown(field, first.get("input"))
    else:  # the variable as the user wrote it (a list is decoded from JSON before it is validated)
        name = f"RESOLUTION_QA_{field.upper()}"
        raw = _environ(name)
        value = _shown(field, raw if raw is not None else first.get("input"))
    more = f" (and {len(errors) - 1} more bad setting(s))" if len(errors) > 1 else ""
    return SettingsValueError(f"{name}={value}: {reason}{more}", field=field, value=value, reason=reason)


def _unparsable(exc: SettingsError) -> SettingsValueError:
    found = re.search(r'field "([^"]+)"', str(exc))
    field = found.group(1) if found else "settings"
    variable = f"RESOLUTION_QA_{field.upper()}"
    raw = _environ(variable)
    value = _shown(field, raw) if raw is not None else "(in .env)"
    allowed = allowed_values(field)
    kind = "not a JSON list" if allowed.startswith("a JSON list") else "cannot be read"
    reason = f"{kind}; allowed: {allowed}" if allowed else kind
    return SettingsValueError(f"{variable}={value}: {reason}", field=field, value=value, reason=reason)
