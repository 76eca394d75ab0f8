"""Concurrent users asking LLM-backed questions: the GGUF in this process, or behind llama.cpp's OpenAI-compatible
server, both through `resolution-qa serve`'s endpoint.

    .venv/bin/python benchmarks/llm_load.py                      # 1, 4, 8 users x 6 questions, both set-ups
    .venv/bin/python benchmarks/llm_load.py --users 1,2 --questions 2 --setups inprocess
    .venv/bin/python benchmarks/llm_load.py --questions 1 --server-users 1,4   # what a busy 2-core machine allows

Set-ups (the same fetched GGUF, the same index and embedding model, the same answer path):

- `inprocess`: the `llamacpp` backend, the model in the API's own process (what `resolution-qa serve` and the chat
  app run by default);
- `server`: the `openai` backend pointed at `python -m llama_cpp.server` (llama-cpp-python's OpenAI-compatible
  server, the `llamacpp-server` extra) in its own process, `--interrupt_requests False` so that one user's request
  does not cut another's.

Each user is an `openai` client in a thread asking its questions one after another over POST /v1/chat/completions
(streamed) on 127.0.0.1: whatever the backend does (judge, writer, checks) is measured from the outside, as a user
sees it. Latency: request to the last chunk; answers per minute: answered questions / wall time. An error is a
request that failed, or an answer that fell back to quoting (its `notice` says the LLM failed). The report, with the
machine described, goes to benchmarks/results/llm_load.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import free_port, machine  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"

#: Topical questions (no paragraph number: retrieval and the model decide), French and English.
QUESTIONS: tuple[str, ...] = (
    "Que demande la résolution aux États pour que les victimes ne soient pas poursuivies ?",
    "What does the resolution say about the COVID-19 pandemic?",
    "Quel rapport le Secrétaire général doit-il présenter, et quand ?",
    "Which conventions on forced labour does the resolution mention?",
    "Que dit la résolution sur la demande qui favorise l'exploitation ?",
    "What does the resolution ask States to do about online recruitment of victims?",
    "Que dit le texte sur le Fonds de contributions volontaires des Nations Unies pour les victimes de la traite ?",
    "What does the resolution say about the World Day against Trafficking in Persons?",
    "Comment la résolution traite-t-elle les femmes et les filles migrantes ?",
    "What does the resolution say about data collection on trafficking?",
    "Que demande la résolution au sujet de la coopération internationale ?",
    "What does the resolution say about the role of the private sector?",
)


# --- llama.cpp's OpenAI-compatible server --------------------------------------------------------------------------


class LlamaServer:
    """`python -m llama_cpp.server` on a loopback port, serving one GGUF under `alias`. Used by this benchmark and by
    the `openai` backend's real-server test (tests/cli/test_serve_llamacpp_server.py)."""

    def __init__(self, model: Path, *, port: int | None = None, threads: int | None = None, n_ctx: int = 4096,
                 alias: str = "resolution-qa-gguf", log: Path | None = None) -> None:
        self.model, self.alias, self.n_ctx = model, alias, n_ctx
        self.port = port or free_port()
        self.threads = threads or os.cpu_count() or 1
        self.log = log or Path(os.devnull)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def command(self) -> list[str]:
        return [sys.executable, "-m", "llama_cpp.server", "--model", str(self.model), "--model_alias", self.alias,
                "--host", "127.0.0.1", "--port", str(self.port), "--n_ctx", str(self.n_ctx),
                "--n_threads", str(self.threads), "--n_threads_batch", str(self.threads),
                "--interrupt_requests", "False"]

    def start(self, timeout: float = 300.0) -> LlamaServer:
        import httpx

        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(self.command(), stdout=out, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if httpx.get(f"{self.url}/models", timeout=2.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        self.stop()
        tail = self.log.read_text(errors="replace")[-2000:] if self.log.is_file() else ""
        raise RuntimeError(f"llama_cpp.server did not answer on {self.url} within {timeout:.0f} s:\n{tail}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=20)

    def __enter__(self) -> LlamaServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --- users ---------------------------------------------------------------------------------------------------------


@dataclass
class Asked:
    user: int
    question: str
    seconds: float
    first_text_s: float | None = None
    error: str | None = None
    cited: int = 0
    backend: str = ""


@dataclass
class Level:
    setup: str
    users: int
    wall_s: float
    asked: list[Asked] = field(default_factory=list)

    @property
    def answered(self) -> list[Asked]:
        return [a for a in self.asked if a.error is None]

    @property
    def errors(self) -> list[Asked]:
        return [a for a in self.asked if a.error is not None]

    def percentile(self, q: float) -> float:
        values = sorted(a.seconds for a in self.answered)
        if not values:
            return float("nan")
        return values[min(len(values) - 1, max(0, round(q * (len(values) - 1))))]

    @property
    def per_minute(self) -> float:
        return 60.0 * len(self.answered) / self.wall_s if self.wall_s else 0.0

    def first_text_p50(self) -> float:
        values = [a.first_text_s for a in self.answered if a.first_text_s is not None]
        return statistics.median(values) if values else float("nan")


def ask_streamed(client, model: str, question: str, user: int) -> Asked:  # noqa: ANN001 (openai.OpenAI)
    started = time.perf_counter()
    first: float | None = None
    last_extra: dict = {}
    try:
        stream = client.chat.completions.create(model=model, stream=True,
                                                messages=[{"role": "user", "content": question}])
        for chunk in stream:
            if first is None and chunk.choices and chunk.choices[0].delta.content:
                first = time.perf_counter() - started
            if chunk.model_extra and "answer" in chunk.model_extra:
                last_extra = chunk.model_extra
    except Exception as exc:  # a failed request is counted, not raised
        return Asked(user, question, time.perf_counter() - started, first, f"{type(exc).__name__}: {exc}"[:200])
    seconds = time.perf_counter() - started
    answer = last_extra.get("answer") or {}
    error = None
    if not answer:
        error = "no final answer in the stream"
    elif answer.get("notice") and "extractive" in answer.get("backend", ""):
        error = f"fell back to quoting: {answer['notice'][:160]}"
    return Asked(user, question, seconds, first, error, len(answer.get("citations") or ()), answer.get("backend", ""))


def run_level(url: str, model: str, setup: str, users: int, questions: int) -> Level:
    import openai

    results: list[Asked] = []
    lock = threading.Lock()

    def user(n: int) -> None:
        client = openai.OpenAI(base_url=url, api_key="benchmark", max_retries=0, timeout=1800)
        for i in range(questions):
            asked = ask_streamed(client, model, QUESTIONS[(n * questions + i) % len(QUESTIONS)], n)
            with lock:
                results.append(asked)
            if asked.error is not None:
                print(f"  {setup}, {users} users: {asked.question[:50]}...: {asked.error}", flush=True)

    threads = [threading.Thread(target=user, args=(n,)) for n in range(users)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return Level(setup, users, time.perf_counter() - started, results)


# --- set-ups -------------------------------------------------------------------------------------------------------


def serve_api(settings, retriever, backend: str):  # noqa: ANN001, ANN201 (Settings, Retriever; imported late)
    """The API as `resolution-qa serve` builds it, in this process, answering with `backend` only."""
    from resolution_qa.assistant import Assistant
    from resolution_qa.web.openai_api import ApiServer, OpenAIService, build_api

    assistant = Assistant(settings.with_backend(backend), retriever=retriever)
    api_settings = settings.model_copy(update={"backend": backend, "serve_port": free_port(),
                                               "rate_limit_per_minute": 0, "queue_max_size": 64})
    service = OpenAIService(api_settings, lambda s: assistant, backends=()).start()
    return ApiServer(build_api(service), api_settings).start(), assistant


def level_row(level: Level) -> str:
    backends = ", ".join(sorted({a.backend for a in level.answered if a.backend})) or "-"
    return (f"| {level.setup} | {level.users} | {len(level.asked)} | {len(level.errors)} | {level.wall_s:.0f} s | "
            f"{level.per_minute:.2f} | {level.percentile(0.5):.1f} s | {level.percentile(0.95):.1f} s | "
            f"{level.first_text_p50():.1f} s | {backends} |")


def write_report(args: argparse.Namespace, gguf: Path, settings, before: str, levels: list[Level],  # noqa: ANN001
                 notes: list[str], *, final: bool = False) -> None:
    """The Markdown report (rewritten after each level, so an interrupted run keeps what it measured)."""
    after = machine()

    lines = [
        "# LLM answers under concurrent users (benchmarks/llm_load.py)",
        "",
        f"Machine at the start: {before}.  ",
        f"{'At the end' if final else 'After the last level (the run was cut short)'}: {after}.  ",
        "The machine was shared with other jobs while measuring, so times are upper bounds.",
        "",
        f"Model: `{gguf.name}` ({settings.llm.threads()} threads, context {settings.llm_context}); embedding model "
        f"`{settings.embedding_model}`; the API built as `resolution-qa serve` builds it, in this process, on "
        "127.0.0.1; users are `openai` clients in threads, each asking "
        f"{args.questions} topical questions (French and English, no paragraph number) one after another, streamed. "
        "A warm-up question (not counted) runs first in each set-up.",
        "",
        "- `inprocess`: the `llamacpp` backend (GGUF in the API's process).",
        "- `server`: the `openai` backend → `python -m llama_cpp.server` (same GGUF, `--interrupt_requests False`); "
        "llama-cpp-python's server answers one request at a time (it has no parallel slots).",
        "",
        "Set-up times: " + "; ".join(notes) + ".",
        "",
        "| set-up | users | questions | errors | wall | answers/min | p50 latency | p95 latency | p50 first text |"
        " answered by |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
        *(level_row(level) for level in levels),
        "",
        "Latency: request to the last chunk of the streamed answer. Errors: failed requests, and answers that fell "
        "back to quoting the text because the LLM failed.",
    ]
    errors = [f"- {level.setup}, {level.users} users: {e.question[:60]}…: {e.error}" for level in levels
              for e in level.errors]
    if errors:
        lines += ["", "Errors:", "", *errors[:30]]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    if args.json is not None:
        with args.json.open("w", encoding="utf-8") as out:
            for level in levels:
                for a in level.asked:
                    out.write(json.dumps({"setup": level.setup, "users": level.users, **a.__dict__},
                                         ensure_ascii=False) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", default="1,4,8", help="concurrent users per level, comma-separated")
    parser.add_argument("--questions", type=int, default=6, help="questions per user")
    parser.add_argument("--setups", default="inprocess,server", help="inprocess, server, or both")
    parser.add_argument("--server-users", default=None, help="user levels of the server set-up (default: --users)")
    parser.add_argument("--threads", type=int, default=None, help="llama.cpp threads (default: CPU count)")
    parser.add_argument("--out", type=Path, default=RESULTS / "llm_load.md")
    parser.add_argument("--json", type=Path, default=None, help="also write every request as JSON lines")
    args = parser.parse_args(argv)
    levels_users = [int(u) for u in args.users.split(",") if u.strip()]
    setups = [s.strip() for s in args.setups.split(",") if s.strip()]
    server_users = [int(u) for u in (args.server_users or args.users).split(",") if u.strip()]

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    from resolution_qa.core.model_files import gguf_path
    from resolution_qa.core.settings import Settings
    from resolution_qa.vectorstore import open_retriever

    settings = Settings()
    if args.threads:
        settings = settings.model_copy(update={"llm_threads": args.threads})
    gguf = gguf_path(settings.llm)
    before = machine()
    retriever = open_retriever(settings)
    levels: list[Level] = []
    notes: list[str] = []
    for setup in setups:
        llama: LlamaServer | None = None
        if setup == "server":
            log = Path(tempfile.gettempdir()) / "llm_load-llama-server.log"
            log.unlink(missing_ok=True)
            llama = LlamaServer(gguf, threads=settings.llm.threads(), n_ctx=settings.llm_context, log=log).start()
            run_settings = settings.model_copy(update={"openai_base_url": llama.url, "openai_model": llama.alias})
            backend = "openai"
        elif setup == "inprocess":
            run_settings, backend = settings, "llamacpp"
        else:
            parser.error(f"unknown set-up {setup!r}; give inprocess or server")
        started = time.perf_counter()
        server, _ = serve_api(run_settings, retriever, backend)
        notes.append(f"`{setup}`: up in {time.perf_counter() - started:.0f} s")
        try:
            model = f"resolution-qa-{backend}"
            ask_streamed(__import__("openai").OpenAI(base_url=server.url, api_key="x", max_retries=0, timeout=1800),
                         model, QUESTIONS[0], -1)  # warm-up (not counted): first-use loads, caches
            user_levels = server_users if setup == "server" else levels_users
            for users in user_levels:
                level = run_level(server.url, model, setup, users, args.questions)
                levels.append(level)
                print(level_row(level), flush=True)
                write_report(args, gguf, settings, before, levels, notes)
        finally:
            server.stop()
            if llama is not None:
                llama.stop()
    write_report(args, gguf, settings, before, levels, notes, final=True)
    print(f"report: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
