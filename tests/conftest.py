"""Fixtures shared by the whole suite: isolated settings, the bundled document, the fakes, the command line, and
the session's one real index; plus the checks that keep each marker to one meaning.

Markers (registered in pyproject.toml; README "Tests"): `slow` needs a real model (the embedding model or the
GGUF), `server` opens sockets or starts subprocesses, `browser` drives headless Chromium, `llm` runs the real
llama.cpp model (and is slow too). A test that uses a fixture needing a marker must carry it (checked at
collection), and a test without `server` or `browser` cannot open an internet socket or start a process
(checked while it runs).
"""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from resolution_qa.assistant.reader import Reader
from resolution_qa.core.settings import Settings
from resolution_qa.ingest import Document, parse_file
from tests.fakes import BagOfWordsEmbeddings, FakeLLMServer, FakeRetriever, ScriptedReader, scripted
from tests.support import isolated_settings, run_cli, run_cli_in_process

# The real models live where `resolution-qa models fetch` put them; the README's test command
# fetches them first. Captured once, before any test monkeypatches the environment.
_MODELS_DIR = Settings().models_dir

#: Fixtures that need a real model (the test must be marked slow) or a socket/subprocess (marked server).
SLOW_FIXTURES = frozenset({"real_embeddings", "real_settings", "real_retriever", "real_index_env", "llm_model"})
SERVER_FIXTURES = frozenset({"cli", "chroma_server", "llm_server", "app_url"})


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test sees the user's RESOLUTION_QA_* variables, .env file or index."""
    for name in list(os.environ):
        if name.startswith("RESOLUTION_QA_") or name == "OPENAI_API_KEY":
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RESOLUTION_QA_MODELS_DIR", str(_MODELS_DIR))
    monkeypatch.setenv("RESOLUTION_QA_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("ANONYMIZED_TELEMETRY", "False")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.chdir(tmp_path)  # so no stray .env is read


# --- one meaning per marker ------------------------------------------------------------------------------------


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test using a real-model fixture is marked slow, one using a server fixture is marked server, an llm test
    is slow too: otherwise collection fails, saying which marker is missing."""
    wrong = []
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        for marker, fixtures in (("slow", SLOW_FIXTURES), ("server", SERVER_FIXTURES)):
            used = sorted(names & fixtures)
            if used and item.get_closest_marker(marker) is None:
                wrong.append(f"{item.nodeid}: uses {', '.join(used)}, so mark it {marker}")
        if item.get_closest_marker("llm") and item.get_closest_marker("slow") is None:
            wrong.append(f"{item.nodeid}: llm tests are slow too")
    if wrong:
        raise pytest.UsageError("tests with a missing marker:\n" + "\n".join(wrong))


@pytest.fixture(autouse=True)
def _no_socket_or_process_unless_marked(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Outside `server` and `browser` tests, opening an internet socket or starting a process fails the test."""
    if request.node.get_closest_marker("server") or request.node.get_closest_marker("browser"):
        return
    node = request.node.nodeid
    connect, connect_ex, bind = socket.socket.connect, socket.socket.connect_ex, socket.socket.bind

    def refuse(what: str) -> AssertionError:
        return AssertionError(f"{node} {what}: mark it @pytest.mark.server (tests/conftest.py)")

    def guarded(method: Callable[..., Any], what: str) -> Callable[..., Any]:
        def call(self: socket.socket, *args: Any, **kwargs: Any) -> Any:
            if self.family in (socket.AF_INET, socket.AF_INET6):
                raise refuse(what)
            return method(self, *args, **kwargs)

        return call

    def no_process(self: subprocess.Popen, args: Any, *rest: Any, **kwargs: Any) -> None:
        raise refuse(f"starts a process ({args!r:.120})")

    monkeypatch.setattr(socket.socket, "connect", guarded(connect, "opens a socket"))
    monkeypatch.setattr(socket.socket, "connect_ex", guarded(connect_ex, "opens a socket"))
    monkeypatch.setattr(socket.socket, "bind", guarded(bind, "listens on a socket"))
    monkeypatch.setattr(subprocess.Popen, "__init__", no_process)


# --- settings, the document, fakes -----------------------------------------------------------------------------


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings on a temporary index, the real models folder, and the extractive backend."""
    return Settings(index_dir=tmp_path / "index", models_dir=_MODELS_DIR, backend="extractive")


@pytest.fixture(scope="session")
def document() -> Document:
    """The bundled A/RES/75/158, parsed."""
    return parse_file()


@pytest.fixture(scope="session")
def models_dir() -> Path:
    return _MODELS_DIR


@pytest.fixture(scope="session")
def bow_embeddings() -> BagOfWordsEmbeddings:
    """The fake embedder, for module- or session-scoped indexes (its call records are shared: don't count)."""
    return BagOfWordsEmbeddings()


@pytest.fixture
def retriever(document: Document) -> FakeRetriever:
    return FakeRetriever(document)


@pytest.fixture
def make_assistant(settings: Settings, retriever: FakeRetriever):
    """Build an Assistant on the fake retriever: make_assistant() is extractive; make_assistant("sentence", ...,
    scores={"OP27": 0.9}) reads with a ScriptedReader (the judge's scores, the writer's sentences in order);
    make_assistant(reader=...) with any Reader."""
    from resolution_qa.assistant import Assistant

    def build(*sentences: Any, settings_update: dict | None = None, reader: Reader | None = None,
              **reader_kwargs: Any) -> Assistant:
        # The fake embedder is lexical: it cannot tell that an English sentence says what a French passage says.
        s = settings.model_copy(update={"refusal_threshold": 0.05, "min_support": -1.0, **(settings_update or {})})
        if reader is None and not sentences and not reader_kwargs:
            return Assistant(s, backend="extractive", retriever=retriever)
        reader = reader or ScriptedReader(*sentences, **reader_kwargs)
        return Assistant(s, backend="llamacpp", retriever=retriever, reader=reader)

    return build


@pytest.fixture(scope="session")
def chroma_retriever(tmp_path_factory: pytest.TempPathFactory, document: Document):
    """The real UnitRetriever on a Chroma index of the bundled resolution with the fake embedder, built once per
    session; read-only (tests that write to an index build their own)."""
    from resolution_qa.vectorstore import open_retriever

    settings = isolated_settings(index_dir=tmp_path_factory.mktemp("fake-index") / "index", backend="extractive")
    return open_retriever(settings, BagOfWordsEmbeddings(), documents=[document])


@pytest.fixture
def make_model():
    """A scripted chat model: make_model("reply 1", "reply 2", delay=..., fail_after=...)."""
    return scripted


@pytest.fixture
def llm_server() -> Iterator[FakeLLMServer]:
    """A fake OpenAI- and Ollama-compatible LLM server on a loopback port (tests/fakes.py), started."""
    with FakeLLMServer().start() as server:
        yield server


# --- the command line ------------------------------------------------------------------------------------------


@pytest.fixture
def cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    """`resolution-qa ARGS` in a subprocess, as a user runs it: cli(*args, input=..., env=..., timeout=...)."""
    return run_cli


@pytest.fixture
def model_loads(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The embedding model replaced by the fake embedder; the list records each load."""
    from resolution_qa import vectorstore

    loads: list[Any] = []

    def fake_load(settings: Any, **_: Any) -> BagOfWordsEmbeddings:
        loads.append(settings)
        return BagOfWordsEmbeddings.small()

    monkeypatch.setattr(vectorstore, "load_embeddings", fake_load)
    return loads


@pytest.fixture
def cli_main(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """The CLI entry point in this process: cli_main(*args) -> (exit code, stdout, stderr)."""

    def invoke(*args: str) -> tuple[int, str, str]:
        return run_cli_in_process(monkeypatch, capsys, *args)

    return invoke


# --- the real model and the session's one real index (slow tests) ---------------------------------------------


@pytest.fixture(scope="session")
def real_embeddings(models_dir: Path):
    """The fetched EmbeddingGemma, loaded once per session (never from a hub).

    Its query vectors are kept for the session: the dev questions are asked by several slow tests (quality,
    regression gate), and the model gives a text the same vector every time, so each is embedded once."""
    from resolution_qa.core.settings import DEFAULT_EMBEDDING_MODEL
    from resolution_qa.vectorstore import load_embeddings

    embeddings = load_embeddings(isolated_settings(models_dir=models_dir, embedding_model=DEFAULT_EMBEDDING_MODEL))
    embed_query, vectors = embeddings.embed_query, {}

    def cached_embed_query(text: str) -> list[float]:
        if text not in vectors:
            vectors[text] = embed_query(text)
        return list(vectors[text])

    object.__setattr__(embeddings, "embed_query", cached_embed_query)  # a pydantic model: set on the instance
    return embeddings


@pytest.fixture(scope="session")
def real_settings(tmp_path_factory: pytest.TempPathFactory, models_dir: Path) -> Settings:
    """Settings of the session's real index: default retrieval settings, the real models, extractive answers.

    The index is read-only: a test that writes to an index builds its own (with the fake embedder, or copies
    this folder). A subprocess reads it with RESOLUTION_QA_INDEX_DIR=real_settings.index_dir."""
    return isolated_settings(index_dir=tmp_path_factory.mktemp("real-index"), models_dir=models_dir,
                             backend="extractive")


@pytest.fixture(scope="session")
def real_retriever(real_settings: Settings, real_embeddings) -> Iterator[Any]:
    """The real UnitRetriever on the session's one real index of the bundled resolution (EmbeddingGemma), built
    once (~30 s on 2 cores). At the end of the session the index must still be the one built here."""
    from resolution_qa.vectorstore import open_retriever
    from resolution_qa.vectorstore.index import UnitIndex

    retriever = open_retriever(real_settings, real_embeddings)
    built = (retriever.index.generation, retriever.index.count())
    yield retriever
    now = UnitIndex(real_settings.store, real_settings.embedding, real_embeddings)
    assert (now.generation, now.count()) == built, "a test wrote to the session's real index; copy it instead"


@pytest.fixture(scope="session")
def llm_model(models_dir: Path) -> Any:
    """The real GGUF reader (llama.cpp in this process), loaded once per session and shared by every llm test: its
    passages' states stay warm in memory from one module to the next. Its settings are the defaults but its own
    per-sentence deadline, the most patient the tests ask for (900 s: on a machine at load 6-8 two dev sentences took
    over the default 120 s): a loaded machine is slow, not wrong. The sentence length is the same for every test
    (min(90 tokens, llm_max_tokens >= 120))."""
    from resolution_qa.assistant.llama_reader import LlamaReader

    return LlamaReader(isolated_settings(models_dir=models_dir, backend="llamacpp", llm_timeout_s=900.0).llm)


@pytest.fixture
def real_index_env(real_settings: Settings, real_retriever) -> dict[str, str]:
    """The environment for a subprocess (`resolution-qa ...`) on the session's real index."""
    return {**os.environ, "RESOLUTION_QA_INDEX_DIR": str(real_settings.index_dir),
            "RESOLUTION_QA_MODELS_DIR": str(real_settings.models_dir)}
