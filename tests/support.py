"""Helpers shared by the tests, written once: ports, environments, the command line (in a subprocess or
in-process), a real Chroma server, the chat app on a loopback port, Chromium, and the eval tests' tiny set.

Fixtures live in the conftest modules; nothing imports from a conftest. Fakes live in tests/fakes.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from benchmarks.common import free_port  # noqa: F401 - one for the tests and the benchmarks

if TYPE_CHECKING:
    import gradio as gr

    from resolution_qa.assistant.types import Citation
    from resolution_qa.core.settings import Settings
    from resolution_qa.eval.dataset import EvalItem
    from resolution_qa.eval.predictions import RetrievalPrediction, RunConfig
    from resolution_qa.ingest import Document, Lang
    from resolution_qa.web.service import ChatService

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
CORPUS = FIXTURES / "corpus"  # two small resolutions, A/RES/75/901 (en) and A/RES/75/902 (fr)
ENGLISH_FIXTURE = FIXTURES / "A_RES_75_999.en.txt"



# --- ports and environments ------------------------------------------------------------------------------------


def clean_env(**overrides: str) -> dict[str, str]:
    """This process's environment without the user's RESOLUTION_QA_* variables or OpenAI key, offline and without
    telemetry, plus `overrides`: for a subprocess started where the per-test isolation does not apply."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESOLUTION_QA_") and k != "OPENAI_API_KEY"}
    env.update(HF_HUB_OFFLINE="1", ANONYMIZED_TELEMETRY="False", GRADIO_ANALYTICS_ENABLED="False")
    env.update(overrides)
    return env


def isolated_settings(**values: Any) -> Settings:
    """Settings as a test sees them (no RESOLUTION_QA_* variable of the user, no .env file) for a fixture wider
    than one test, which runs before the per-test isolation (tests/conftest.py) applies."""
    from resolution_qa.core.settings import Settings

    with pytest.MonkeyPatch.context() as mp:
        for name in list(os.environ):
            if name.startswith("RESOLUTION_QA_") or name == "OPENAI_API_KEY":
                mp.delenv(name)
        return Settings(_env_file=None, **values)


def wait_for_http(url: str, process: subprocess.Popen | None = None, timeout: float = 120.0,
                  log: Path | None = None) -> str | None:
    """GET `url` until it answers 200 (its body), `process` exits, or `timeout` passes (None)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            if log is not None:
                pytest.fail(f"the server exited with {process.returncode}:\n{log.read_text()[-3000:]}")
            return None
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return response.read().decode()
        except OSError:
            pass
        time.sleep(0.5)
    if log is not None:
        pytest.fail(f"{url} did not answer within {timeout:.0f} s:\n{log.read_text()[-3000:]}")
    return None


# --- the command line ------------------------------------------------------------------------------------------

_WITH_FAKE_EMBEDDER = (
    "import sys; sys.path.insert(0, {root!r}); from tests.fakes import BagOfWordsEmbeddings; "
    "from resolution_qa import vectorstore; "
    "vectorstore.load_embeddings = lambda settings, **kw: BagOfWordsEmbeddings.small(); "
    "from resolution_qa.cli import main; sys.argv[0] = 'resolution-qa'; main()"
)


def cli_command(*args: str, fake_embedder: bool = False) -> list[str]:
    """The argv of `resolution-qa ARGS` (python -m resolution_qa), or the same with the fake embedder in place
    of the embedding model."""
    if fake_embedder:
        return [sys.executable, "-c", _WITH_FAKE_EMBEDDER.format(root=str(ROOT)), *args]
    return [sys.executable, "-m", "resolution_qa", *args]


def run_cli(*args: str, env: dict[str, str] | None = None, input: str | None = None, timeout: float = 600,
            fake_embedder: bool = False) -> subprocess.CompletedProcess[str]:
    """`resolution-qa ARGS` in a subprocess, as a user runs it (the environment: this process's, or `env`)."""
    return subprocess.run(cli_command(*args, fake_embedder=fake_embedder), capture_output=True, text=True,
                          input=input, timeout=timeout, env=env)


def run_cli_in_process(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                       *args: str) -> tuple[int, str, str]:
    """The CLI entry point (`main`, with its error handling) in this process: (exit code, stdout, stderr)."""
    from resolution_qa.cli import main

    monkeypatch.setattr(sys, "argv", ["resolution-qa", *args])
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


# --- a real Chroma server --------------------------------------------------------------------------------------


class ChromaServer:
    """A real `chroma run` on a free loopback port, storing into `path`."""

    def __init__(self, path: Path, log: Path) -> None:
        self.path, self.log = path, log
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> ChromaServer:
        import httpx

        binary = Path(sys.executable).with_name("chroma")
        env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [str(binary), "run", "--path", str(self.path), "--host", "127.0.0.1", "--port", str(self.port)],
                stdout=out, stderr=subprocess.STDOUT, env=env,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if httpx.get(f"{self.url}/api/v2/heartbeat", timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        tail = self.log.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"`chroma run` did not answer on {self.url} within {timeout:.0f} s:\n{tail}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


# --- the chat app ----------------------------------------------------------------------------------------------


def launch_app(service: ChatService, documents: Sequence[Document], settings: Settings) -> tuple[gr.Blocks, str]:
    """Build the chat app around a started `service` and serve it on settings.port: (the app, its URL).
    Close it with `app.close()`."""
    from resolution_qa.web.app import build_app, launch

    demo = build_app(service, list(documents), settings)
    launch(demo, settings, block=False, quiet=True)
    return demo, f"http://127.0.0.1:{settings.port}/"


# --- headless Chromium -----------------------------------------------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")
# Playwright's own browser download fails offline; Debian's Chromium, with everything that phones home off.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def require_chromium() -> Path:
    """Debian's Chromium, or a skip (a failure under CI) saying how to install it."""
    if not CHROMIUM.exists():
        message = "Debian's chromium is missing: run scripts/install-browser-deps.sh"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM


# --- eval: a tiny hand-made question set -----------------------------------------------------------------------

#: Four items on the bundled resolution; tests/eval/test_scoring.py computes their scores by hand.
TINY_ITEMS: list[dict[str, Any]] = [
    {"id": "t-1", "lang": "fr", "turns": ["Que dit la résolution sur les poursuites ?"], "answerable": True,
     "gold": ["OP27"], "must": [["poursuite", "prosecut"]], "type": "lookup", "note": "OP27"},
    {"id": "t-2", "lang": "en", "turns": ["Which paragraphs mention forced labour?"], "answerable": True,
     "gold": ["PP1", "OP5", "fn1"], "must": [["travail"], ["forcé", "forced"]], "type": "list", "note": "three"},
    {"id": "t-3", "lang": "en", "turns": ["What does the resolution say about cryptocurrencies?"], "answerable": False,
     "gold": [], "must": [], "type": "unanswerable", "note": "not in the text"},
    {"id": "t-4", "lang": "fr", "turns": ["Parle-moi de la Journée mondiale.", "Et son objectif ?"], "answerable": True,
     "gold": ["OP10"], "must": [["sensibilisation"]], "type": "conversational", "note": "OP10"},
]


def write_jsonl(path: Path, rows: Sequence[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    return path


def make_config(items: Sequence[EvalItem], systems: Sequence[str] = ("ours", "bm25"),
                backends: Sequence[str] = ("extractive",)) -> RunConfig:
    from resolution_qa.eval.predictions import RunConfig

    return RunConfig(dataset="tiny.jsonl", dataset_sha256="0" * 64, item_ids=[i.id for i in items],
                     systems=list(systems), backends=list(backends), k=5, refusal_threshold=0.4,
                     lexical_weight=0.0, embedding_model="fake")


def cite(document: Document, uid: str, lang: Lang, *, label: str | None = None) -> Citation:
    """A citation of a unit of `document` (its text; `label`, or the unit's label in `lang`)."""
    from resolution_qa.assistant.types import Citation

    unit = document.get(uid)
    assert unit is not None
    return Citation(id=uid, doc=document.symbol, label=label or unit.label(lang), text=unit.text)


def ranked(item_id: str, system: str, ranking: list[list[str]], *, best: float | None, context: list[str] | None = None,
           error: str | None = None) -> RetrievalPrediction:
    """A retrieval prediction with a given ranking."""
    from resolution_qa.eval.predictions import RetrievalPrediction

    return RetrievalPrediction(item_id=item_id, system=system, query="q", query_source="question", ranking=ranking,
                               context=context or [], best_dense=best, seconds=0.01, error=error)
