"""Benchmark of the retrieval foundation: cold ingest, warm re-ingest, query latency, peak RSS -> Markdown.

Run: .venv/bin/python benchmarks/foundation.py [--queries N] [--out benchmarks/results/foundation.md]
It uses the fetched EmbeddingGemma and a temporary index; it is not a test (timings depend on the machine).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import psutil
from common import cpu_model

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT / "eval" / "data" / "dev.jsonl"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def questions(n: int) -> list[str]:
    items = [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines() if line.strip()]
    asked = [item["turns"][-1] for item in items]
    while len(asked) < n:  # cycle when more queries than items are asked for
        asked += asked[: n - len(asked)]
    return asked[:n]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=120, help="queries to time (at least 100)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "foundation.md")
    args = parser.parse_args()
    if args.queries < 100:
        parser.error("--queries must be at least 100")

    from resolution_qa.core.errors import ResolutionQAError
    from resolution_qa.core.settings import Settings
    from resolution_qa.ingest import parse_file
    from resolution_qa.vectorstore import ingest, load_embeddings, open_retriever

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="rqa-bench-") as tmp:
        settings = Settings(_env_file=None, index_dir=Path(tmp) / "index")
        t = time.perf_counter()
        embeddings = load_embeddings(settings.embedding)
        load_s = time.perf_counter() - t
        rss_model = rss_mb()

        t = time.perf_counter()
        document = parse_file()
        parse_s = time.perf_counter() - t

        t = time.perf_counter()
        cold = ingest(settings, embeddings, [document])
        cold_s = time.perf_counter() - t
        t = time.perf_counter()
        warm = ingest(settings, embeddings, [document])
        warm_s = time.perf_counter() - t
        if warm.embedded != 0:
            sys.exit(f"warm re-ingest embedded {warm.embedded} passages; expected 0")

        t = time.perf_counter()
        retriever = open_retriever(settings, embeddings, documents=[document])
        open_s = time.perf_counter() - t
        asked = questions(args.queries)
        retriever.search(asked[0])  # first call pays one-off costs (lazy imports, caches)
        latencies: list[float] = []
        errors = 0
        for question in asked:
            t = time.perf_counter()
            try:
                retriever.search(question)
            except ResolutionQAError:
                errors += 1  # an out-of-range reference is answered with an error: still timed
            latencies.append((time.perf_counter() - t) * 1000)
        load_after = os.getloadavg()

    memory = psutil.virtual_memory().total / 2**30
    rows = [
        ("Embedding model load (EmbeddingGemma-300M, CPU)", f"{load_s:.1f} s"),
        ("Parse A/RES/75/158", f"{parse_s * 1000:.0f} ms"),
        (f"Cold ingest ({cold.added} units, {cold.embedded} passages embedded, empty index)", f"{cold_s:.1f} s"),
        (f"Warm re-ingest (unchanged text: {warm.embedded} embedded, {warm.unchanged} unchanged)", f"{warm_s:.2f} s"),
        ("Open retriever on the up-to-date index (sync check + BM25 build)", f"{open_s:.2f} s"),
        (f"Query latency p50 ({len(latencies)} dev questions, `search`, k=5)", f"{percentile(latencies, 50):.0f} ms"),
        ("Query latency p95", f"{percentile(latencies, 95):.0f} ms"),
        ("Query latency mean / max", f"{statistics.fmean(latencies):.0f} / {max(latencies):.0f} ms"),
        ("RSS after model load", f"{rss_model:.0f} MiB"),
        ("Peak RSS (whole run)", f"{peak_rss_mb():.0f} MiB"),
    ]
    lines = [
        "# Foundation benchmark: ingest and retrieval",
        "",
        f"Measured {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} by `benchmarks/foundation.py` "
        f"(one process, temporary Chroma index, default settings: k={settings.k}, "
        f"lexical_weight={settings.lexical_weight}).",
        "",
        "## Machine",
        "",
        f"- CPU: {cpu_model()}; {os.cpu_count()} logical cores ({psutil.cpu_count(logical=False)} physical)",
        f"- RAM: {memory:.1f} GiB",
        f"- OS: {platform.platform()}",
        f"- Python {platform.python_version()}; torch {version('torch')}; sentence-transformers "
        f"{version('sentence-transformers')}; chromadb {version('chromadb')}; langchain-chroma "
        f"{version('langchain-chroma')}",
        f"- Load average (1/5/15 min) before: {load_before[0]:.1f}/{load_before[1]:.1f}/{load_before[2]:.1f}, "
        f"after: {load_after[0]:.1f}/{load_after[1]:.1f}/{load_after[2]:.1f} — the machine was shared, "
        "so timings are noisy upper bounds.",
        "",
        "## Results",
        "",
        "| what | measured |",
        "| --- | ---: |",
        *[f"| {name} | {value} |" for name, value in rows],
        "",
        f"{errors} of the timed questions ended in a domain error (e.g. \"paragraphe 60\": out of range), as designed.",
        "",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
