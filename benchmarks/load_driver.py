"""Drive a running chat app over HTTP with concurrent sessions: latencies, errors, cross-talk and server memory."""

from __future__ import annotations

import re
import statistics
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import psutil

#: The unit a chat answer cites first: its first citation link (app_render.cite_link).
_FIRST_CITE = re.compile(r'href="#u-[A-Za-z0-9-]*?-((?:OP|PP|fn)\d+)"')


@dataclass(frozen=True)
class Step:
    """One question of a scripted session and the paragraph its answer must cite first."""

    question: str
    expected: str


def session_script(session: int, questions: int, paragraphs: int) -> list[Step]:
    """Alternating "Que dit le paragraphe m ?" and "Et le paragraphe suivant ?" (answered from this session's
    history). At a given step every session up to (paragraphs - 1) // 2 asks about a different paragraph,
    so an answer given to the wrong session cites the wrong paragraph."""
    steps: list[Step] = []
    asked = 1
    for k in range(questions):
        if k % 2 == 0:
            asked = 1 + (2 * session + 5 * k) % (paragraphs - 1)  # 1 .. paragraphs-1: a "next" one exists
            steps.append(Step(f"Que dit le paragraphe {asked} ?", f"OP{asked}"))
        else:
            steps.append(Step("Et le paragraphe suivant ?", f"OP{asked + 1}"))
    return steps


@dataclass(frozen=True)
class TurnResult:
    """What one question got: the paragraph cited first, the time to the final answer, or an error."""

    session: int
    step: int
    expected: str
    cited: str | None
    latency_s: float
    error: str | None = None

    @property
    def crossed(self) -> bool:
        """Answered, but about another paragraph than this session asked for."""
        return self.error is None and self.cited != self.expected


@dataclass
class LoadRun:
    """All turns of a run, its wall time and the server's RSS sampled as questions completed."""

    sessions: int
    questions: int
    turns: list[TurnResult] = field(default_factory=list)
    wall_s: float = 0.0
    rss: list[tuple[int, int]] = field(default_factory=list)  # (questions done, bytes)

    @property
    def errors(self) -> list[TurnResult]:
        return [t for t in self.turns if t.error is not None]

    @property
    def crossed(self) -> list[TurnResult]:
        return [t for t in self.turns if t.crossed]

    def latencies(self) -> list[float]:
        return sorted(t.latency_s for t in self.turns if t.error is None)

    def percentile(self, q: float) -> float:
        values = self.latencies()
        if not values:
            return float("nan")
        if len(values) == 1:
            return values[0]
        return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]

    @property
    def throughput(self) -> float:
        """Answered questions per second of wall time."""
        return (len(self.turns) - len(self.errors)) / self.wall_s if self.wall_s else 0.0

    def rss_growth(self, start_fraction: float = 0.5) -> int:
        """Bytes the server grew from the sample at `start_fraction` of the run to the last sample."""
        if len(self.rss) < 2:
            return 0
        first = self.rss[min(len(self.rss) - 1, int(len(self.rss) * start_fraction))][1]
        return self.rss[-1][1] - first


def _first_cited(chat: list[dict]) -> tuple[str | None, str | None]:
    bubble = str(chat[-1].get("content", "")) if chat else ""
    if 'class="failure"' in bubble:
        return None, re.sub(r"<[^>]+>", " ", bubble).strip()[:200]
    found = _FIRST_CITE.search(bubble)
    return (found.group(1), None) if found else (None, "no citation in the answer")


def run_load(
    url: str,
    sessions: int,
    questions: int,
    *,
    paragraphs: int = 52,
    server_pid: int | None = None,
    auth: tuple[str, str] | None = None,
    timeout_s: float = 600.0,
    on_turn: Callable[[TurnResult], None] | None = None,
) -> LoadRun:
    """Run `sessions` concurrent chat sessions of `questions` scripted questions each against `url` (/chat)."""
    from gradio_client import Client

    run = LoadRun(sessions, questions)
    server = psutil.Process(server_pid) if server_pid is not None else None
    lock = threading.Lock()

    def record(turn: TurnResult) -> None:
        with lock:
            run.turns.append(turn)
            if server is not None:
                run.rss.append((len(run.turns), server.memory_info().rss))
        if on_turn is not None:
            on_turn(turn)

    def one_session(i: int) -> None:
        try:
            client = Client(url, auth=auth, verbose=False, download_files=False)
        except Exception as exc:  # counted as errors for every question of the session
            for k, step in enumerate(session_script(i, questions, paragraphs)):
                record(TurnResult(i, k, step.expected, None, 0.0, f"connect: {type(exc).__name__}: {exc}"))
            return
        for k, step in enumerate(session_script(i, questions, paragraphs)):
            started = time.perf_counter()
            try:
                job = client.submit(step.question, api_name="/chat")
                _, chat, _, _ = job.result(timeout=timeout_s)
                cited, error = _first_cited(chat)
            except Exception as exc:
                cited, error = None, f"{type(exc).__name__}: {str(exc)[:200]}"
            record(TurnResult(i, k, step.expected, cited, time.perf_counter() - started, error))
        client.close()

    if server is not None:
        run.rss.append((0, server.memory_info().rss))
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=sessions) as pool:
        list(pool.map(one_session, range(sessions)))
    run.wall_s = time.perf_counter() - started
    return run
