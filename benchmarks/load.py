"""Load and soak the real chat app on loopback: concurrent scripted sessions, latency, throughput, server memory.

    .venv/bin/python benchmarks/load.py                          # 20 sessions x 5 questions, extractive
    .venv/bin/python benchmarks/load.py --soak 1000              # then a 1000-question soak (4 sessions)
    .venv/bin/python benchmarks/load.py --sessions 40 --questions 10 --concurrency 8

The app is built as `resolution-qa chat` builds it (configured index, EmbeddingGemma, the backend asked
for) and served in this process on a free 127.0.0.1 port; sessions are gradio_client clients in threads,
each asking alternately "Que dit le paragraphe m ?" and "Et le paragraphe suivant ?" (so answers given to
another session, or follow-ups read against another history, show as "crossed"). The report goes to
benchmarks/results/load.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import free_port, machine  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"


def row(name: str, run) -> str:  # noqa: ANN001  (benchmarks.load_driver.LoadRun, imported late)
    rss = f"{run.rss[0][1] / 2**20:.0f} → {run.rss[-1][1] / 2**20:.0f} MiB" if run.rss else "-"
    growth = f"{run.rss_growth(0.5) / 2**20:+.1f} MiB" if run.rss else "-"
    return (f"| {name} | {run.sessions} × {run.questions} | {len(run.errors)} | {len(run.crossed)} | "
            f"{run.wall_s:.0f} s | {run.throughput:.2f} | {run.percentile(0.5):.2f} s | "
            f"{run.percentile(0.95):.2f} s | {max(run.latencies(), default=float('nan')):.2f} s | {rss} | {growth} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--questions", type=int, default=5, help="questions per session")
    parser.add_argument("--soak", type=int, default=0, help="questions of a soak run after the load run (0: none)")
    parser.add_argument("--soak-sessions", type=int, default=4)
    parser.add_argument("--backend", default="extractive")
    parser.add_argument("--concurrency", type=int, default=None, help="answer_concurrency (default: settings)")
    parser.add_argument("--out", type=Path, default=RESULTS / "load.md")
    args = parser.parse_args()

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    from benchmarks.load_driver import run_load
    from resolution_qa.core.settings import Settings
    from resolution_qa.web.app import create_app, launch

    update: dict[str, object] = {"backend": args.backend, "port": free_port(), "rate_limit_per_minute": 0}
    if args.concurrency is not None:
        update["answer_concurrency"] = args.concurrency
    settings = Settings(**update)  # type: ignore[arg-type]
    before = machine()
    started = time.perf_counter()
    demo, service = create_app(settings)
    status = service.status()
    if not status.ready or status.backend != args.backend:
        print(f"the assistant is not ready with {args.backend}: {status.problem}", file=sys.stderr)
        return 2
    launch(demo, settings, block=False, quiet=True)
    load_s = time.perf_counter() - started
    url = f"http://127.0.0.1:{settings.port}/"
    paragraphs = sum(1 for u in service.documents()[0].units if u.kind == "operative")  # type: ignore[index]
    print(f"app up in {load_s:.0f} s on {url}; {args.sessions} sessions x {args.questions} questions", flush=True)
    runs = [("load", run_load(url, args.sessions, args.questions, paragraphs=paragraphs, server_pid=os.getpid()))]
    print(row(*runs[-1]), flush=True)
    if args.soak:
        per_session = max(2, args.soak // args.soak_sessions)
        runs.append(("soak", run_load(url, args.soak_sessions, per_session, paragraphs=paragraphs,
                                      server_pid=os.getpid())))
        print(row(*runs[-1]), flush=True)
    after = machine()
    demo.close()

    lines = [
        "# Chat app under load (benchmarks/load.py)",
        "",
        f"Machine: {before} at the start; {after.split('load average ')[1].split(',')[0]} at the end. "
        "It was shared with other jobs while measuring, so times are upper bounds.",
        "",
        f"App: `{args.backend}` backend, answer_concurrency={settings.answer_concurrency}, "
        f"queue_max_size={settings.queue_max_size}, rate limit off for the run; up (models + index) in {load_s:.0f} s. "
        "Server and clients share this process: RSS is the server's models plus the clients.",
        "",
        "Each session is one gradio_client client asking, over /chat on 127.0.0.1, alternately \"Que dit le "
        "paragraphe m ?\" (m distinct per session at each step) and \"Et le paragraphe suivant ?\" (resolved from "
        "that session's own history). Latency: submit to final answer. *crossed*: answers whose first citation is "
        "not the paragraph that session asked for. RSS growth: from the sample at half the run to the last.",
        "",
        "| run | sessions × questions | errors | crossed | wall | answers/s | p50 | p95 | max | server RSS | "
        "2nd-half growth |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |",
        *(row(name, run) for name, run in runs),
        "",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {args.out}")
    return 1 if any(run.errors or run.crossed for _, run in runs) else 0


if __name__ == "__main__":
    raise SystemExit(main())
