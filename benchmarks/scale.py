"""Scale benchmark: ingest throughput vs raw sentence-transformers, and retrieval at 10k/100k units -> Markdown.

Run: .venv/bin/python benchmarks/scale.py [--units 1000] [--sizes 10000 100000] [--modes embedded server]
     [--queries 200] [--out benchmarks/results/scale]
Writes scale.md, scale.json and scale.png. It is not a test: timings depend on the machine.

1. Ingest: ~1k paragraphs varied from A/RES/75/158 (benchmarks/scale_data.py), ingested round by round through
   `UnitIndex.sync` on fresh embedded indexes, interleaved with the raw `SentenceTransformer.encode` of the same
   passage texts (same model object, same "document" prompt) and with the former path (batches of 16, one
   embed call each, text order); then a re-ingest that must embed nothing.
2. Scale: indexes of N units whose vectors are perturbed copies of those real embeddings (cosine 0.9 to their
   origin, re-normalised) and whose texts are the same paragraphs with numbers varied, built through
   `UnitIndex.sync` with a look-up embedder, then opened in a fresh process (sync check + retriever) and
   searched with real dev questions through `UnitRetriever.search` (real query embedding included), for an
   embedded PersistentClient and a `chroma run` server on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import psutil
from langchain_core.embeddings import Embeddings

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from common import free_port, machine_record  # noqa: E402
from foundation import percentile, questions  # noqa: E402
from scale_data import LookupEmbeddings, as_documents, perturb, varied_texts, vary_numbers  # noqa: E402

CHROMA = Path(sys.executable).with_name("chroma")
MODEL_TAG = "embeddinggemma-300m-derived"


def rss_mb(pid: int | None = None) -> float:
    return psutil.Process(pid).memory_info().rss / 2**20


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_avg() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def stats_ms(values: list[float]) -> dict[str, float]:
    return {
        "p50": round(percentile(values, 50), 1),
        "p95": round(percentile(values, 95), 1),
        "mean": round(statistics.fmean(values), 1),
        "n": len(values),
    }


def log(message: str) -> None:
    print(f"[{datetime.now().strftime('%H:%M:%S')} load {load_avg()}] {message}", file=sys.stderr, flush=True)


# --- 1. ingest throughput ------------------------------------------------------------------------------------
def ingest_benchmark(args, work: Path) -> dict:
    from resolution_qa.core.settings import Settings
    from resolution_qa.ingest import parse_file
    from resolution_qa.vectorstore import UnitIndex, load_embeddings
    from resolution_qa.vectorstore.index import window_of
    from resolution_qa.vectorstore.passages import passages

    settings = Settings(_env_file=None, index_dir=work / "unused")
    started = time.perf_counter()
    embeddings = load_embeddings(settings.embedding)
    load_s = time.perf_counter() - started
    model = embeddings._client  # the very SentenceTransformer our path uses: same weights, same threads
    prompt = embeddings.encode_kwargs.get("prompt_name")
    batch = settings.embedding_batch_size

    documents = as_documents(varied_texts(parse_file(), args.units, seed=args.seed), per_document=args.round_units)
    window = window_of(embeddings)
    texts_by_doc = [[p.text for p in passages(d, window)] for d in documents]
    model.encode(texts_by_doc[0][:4], prompt_name=prompt, normalize_embeddings=True)  # one-off warm-up

    def ours(i: int, document) -> tuple[float, int, float]:
        index = UnitIndex(Settings(_env_file=None, index_dir=work / f"ingest-{i}").store, settings.embedding, embeddings)
        cpu = time.process_time()
        report = index.sync([document])
        cpu = time.process_time() - cpu
        again = index.sync([document])
        if again.embedded:
            sys.exit(f"re-ingest of an unchanged document embedded {again.embedded} passages; expected 0")
        return report.seconds, report.embedded, cpu

    def raw(texts: list[str]) -> np.ndarray:
        return model.encode(texts, prompt_name=prompt, batch_size=batch, normalize_embeddings=True)

    def former(texts: list[str]) -> None:  # the path before this benchmark: one call per batch, text order
        for start in range(0, len(texts), batch):
            embeddings.embed_documents(texts[start : start + batch])

    rounds: list[dict] = []
    base: list[np.ndarray] = []
    for i, (document, texts) in enumerate(zip(documents, texts_by_doc, strict=True)):
        arms = ["ours", "raw", "former"] if args.former else ["ours", "raw"]
        arms = arms[i % len(arms) :] + arms[: i % len(arms)]  # rotate which arm runs first
        row: dict = {"units": len(document), "passages": len(texts), "order": arms}
        for arm in arms:
            t = time.perf_counter()
            cpu = time.process_time()  # CPU seconds of all the process's threads: robust to other jobs' load
            if arm == "ours":
                sync_s, embedded, sync_cpu = ours(i, document)
                row["ours_s"], row["embedded"], row["ours_cpu_s"] = sync_s, embedded, sync_cpu
            elif arm == "raw":
                base.append(raw(texts))
                row["raw_s"] = time.perf_counter() - t
                row["raw_cpu_s"] = time.process_time() - cpu
            else:
                former(texts)
                row["former_s"] = time.perf_counter() - t
        row["ratio"] = row["raw_s"] / row["ours_s"]
        row["cpu_ratio"] = row["raw_cpu_s"] / row["ours_cpu_s"]
        if args.former:
            row["former_ratio"] = row["raw_s"] / row["former_s"]
        rounds.append(row)
        log(f"ingest round {i + 1}/{len(documents)}: {row}")
        shutil.rmtree(work / f"ingest-{i}", ignore_errors=True)

    units = sum(r["units"] for r in rounds)
    result = {
        "model_load_s": round(load_s, 1),
        "units": units,
        "batch_size": batch,
        "round_units": args.round_units,
        "rounds": rounds,
        "ours_units_per_s": units / sum(r["ours_s"] for r in rounds),
        "raw_units_per_s": units / sum(r["raw_s"] for r in rounds),
        "median_ratio": statistics.median(r["ratio"] for r in rounds),
        "median_cpu_ratio": statistics.median(r["cpu_ratio"] for r in rounds),
        "ours_cpu_s_per_unit": sum(r["ours_cpu_s"] for r in rounds) / units,
        "raw_cpu_s_per_unit": sum(r["raw_cpu_s"] for r in rounds) / units,
        "load_during": load_avg(),
        "reingest_embedded": 0,
    }
    if args.former:
        result["former_units_per_s"] = units / sum(r["former_s"] for r in rounds)
        result["former_median_ratio"] = statistics.median(r["former_ratio"] for r in rounds)
    np.save(work / "base.npy", np.concatenate(base).astype(np.float32))
    (work / "base.json").write_text(
        json.dumps([[u.kind, u.text] for d in documents for u in d.units], ensure_ascii=False), encoding="utf-8"
    )
    return result


# --- 2. scale: children build / serve ---------------------------------------------------------------------------
def scale_corpus(work: Path, size: int, seed: int):
    """The N-unit documents and their look-up table (passage text -> row of the perturbed vectors)."""
    from resolution_qa.vectorstore.passages import Window, passages

    base_texts = json.loads((work / "base.json").read_text(encoding="utf-8"))
    base = np.load(work / "base.npy")
    if len(base) != len(base_texts):
        raise SystemExit(f"{len(base)} base vectors for {len(base_texts)} base texts: rerun the ingest part")
    rng = random.Random(seed)
    texts = [(base_texts[j % len(base_texts)][0], vary_numbers(base_texts[j % len(base_texts)][1], rng)) for j in
             range(size)]
    documents = as_documents(texts)
    vectors = perturb(base, size, cosine=0.9, seed=seed)
    row_of = {u.key: j for j, u in enumerate(u for d in documents for u in d.units)}
    window = Window(size=2000)  # the look-up embedder has no tokenizer: the index falls back to characters
    table = {p.text: row_of[p.unit.key] for d in documents for p in passages(d, window)}
    return documents, table, vectors


def child_settings(work: Path, size: int, mode: str, url: str | None):
    from resolution_qa.core.settings import Settings

    return Settings(_env_file=None, index_dir=work / f"{mode}-{size}", chroma_url=url if mode == "server" else None)


def child_build(args) -> dict:
    from resolution_qa.vectorstore import UnitIndex

    documents, table, vectors = scale_corpus(args.work, args.size, args.seed)
    lookup = LookupEmbeddings(table, vectors, queries=None, model=MODEL_TAG)  # type: ignore[arg-type]
    settings = child_settings(args.work, args.size, args.mode, args.url)
    index = UnitIndex(settings.store, settings.embedding, lookup)
    started = time.perf_counter()
    report = index.sync(documents)
    build_s = time.perf_counter() - started
    return {"build_s": round(build_s, 1), "embedded": report.embedded, "count": index.count(),
            "build_peak_rss_mb": round(peak_rss_mb())}


def child_serve(args) -> dict:
    from resolution_qa.core.errors import ResolutionQAError
    from resolution_qa.vectorstore import UnitIndex, UnitRetriever, load_embeddings

    settings = child_settings(args.work, args.size, args.mode, args.url)
    real = load_embeddings(settings.embedding)
    documents, table, vectors = scale_corpus(args.work, args.size, args.seed)
    lookup = LookupEmbeddings(table, vectors, queries=real, model=MODEL_TAG)
    del table, vectors  # what a user's process holds: the documents, not our look-up table
    rss_corpus = rss_mb()

    started = time.perf_counter()
    index = UnitIndex(settings.store, settings.embedding, lookup)
    sync_error = None
    try:
        embedded = index.sync(documents).embedded  # what open_retriever does: check the index, embed nothing
    except ResolutionQAError as exc:  # measured at 100k units (chromadb 1.5.9): "too many SQL variables"
        sync_error, embedded = str(exc), 0
        index = UnitIndex(settings.store, settings.embedding, lookup)  # search the index as built, as a retriever without the check would
    sync_s = time.perf_counter() - started
    started = time.perf_counter()
    retriever = UnitRetriever(index=index, embeddings=lookup, documents=documents, k=settings.k,
                              lexical_weight=settings.lexical_weight, dense_candidates=settings.dense_candidates)
    retriever_s = time.perf_counter() - started

    asked = questions(args.queries)
    with contextlib.suppress(ResolutionQAError):
        retriever.search(asked[0])  # one-off costs (lazy imports, caches)
    search, embed, dense, without = [], [], [], []
    failures: list[str] = []
    errors = 0
    for i, question in enumerate(asked):
        if i < args.part_queries:  # the parts on a subset: on 2 loaded cores each query embedding costs ~1 s
            t = time.perf_counter()
            vector = real.embed_query(question)
            embed.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            try:
                index.dense(vector, limit=settings.dense_candidates)
            except ResolutionQAError as exc:  # measured at 100k: HNSW gave fewer than k hits -> "damaged"
                failures.append(str(exc))
            dense.append((time.perf_counter() - t) * 1000)
            retriever.embeddings = GivenQuery(vector)  # the same search, its query embedding already done
            t = time.perf_counter()
            with contextlib.suppress(ResolutionQAError):  # an out-of-range reference: timed as well
                retriever.search(question)
            without.append((time.perf_counter() - t) * 1000)
            retriever.embeddings = lookup
        t = time.perf_counter()
        try:
            retriever.search(question)
        except ResolutionQAError as exc:
            errors += 1  # an out-of-range reference: answered with an error, still timed
            failures.append(str(exc))
        search.append((time.perf_counter() - t) * 1000)
    return {
        "reembedded": embedded + lookup.documents_embedded,
        "open_sync_s": round(sync_s, 1) if sync_error is None else f"failed after {sync_s:.0f} s",
        "sync_error": sync_error,
        "open_retriever_s": round(retriever_s, 1),
        "search_ms": stats_ms(search),
        "query_embedding_ms": stats_ms(embed),
        "chroma_query_ms": stats_ms(dense),
        "search_without_embedding_ms": stats_ms(without),
        "errors": errors,
        "error_kinds": sorted({f.split(" (")[0][:90] for f in failures}),
        "rss_corpus_mb": round(rss_corpus),
        "rss_mb": round(rss_mb()),
        "peak_rss_mb": round(peak_rss_mb()),
    }


class GivenQuery(Embeddings):
    """Answers a query with a vector computed beforehand: times a search without its query embedding."""

    def __init__(self, vector: list[float]) -> None:
        self.vector = vector

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        raise NotImplementedError("GivenQuery only answers queries")

    def embed_query(self, text: str) -> list[float]:
        return self.vector


def run_child(role: str, args, size: int, mode: str, url: str | None) -> dict:
    command = [sys.executable, __file__, "--child", role, "--size", str(size), "--mode", mode, "--work",
               str(args.work), "--seed", str(args.seed), "--queries", str(args.queries),
               "--part-queries", str(args.part_queries)] + (["--url", url] if url else [])
    done = subprocess.run(command, capture_output=True, text=True, timeout=args.child_timeout)
    if done.returncode != 0:
        raise SystemExit(f"{role} {size} {mode} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def start_server(path: Path, log_file: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with log_file.open("wb") as out:
        server = subprocess.Popen([str(CHROMA), "run", "--path", str(path), "--host", "127.0.0.1", "--port",
                                   str(port)], stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"chroma run exited with {server.returncode}; see {log_file}")
        try:
            with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2):
                return server, url
        except OSError:
            time.sleep(0.5)
    server.terminate()
    raise SystemExit(f"chroma run did not answer on {url} within 120 s; see {log_file}")


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def tree_rss_mb(pid: int) -> float:
    process = psutil.Process(pid)
    return sum(p.memory_info().rss for p in [process, *process.children(recursive=True)]) / 2**20


def scale_benchmark(args) -> list[dict]:
    rows: list[dict] = []
    for size in args.sizes:
        for mode in args.modes:
            server = None
            url = None
            try:
                if mode == "server":
                    server, url = start_server(args.work / f"server-{size}", args.work / f"server-{size}.log")
                log(f"building {size} units, {mode}")
                built = run_child("build", args, size, mode, url)
                log(f"built: {built}; serving")
                served = run_child("serve", args, size, mode, url)
                row = {"size": size, "mode": mode, **built, **served}
                if server is not None:
                    row["server_rss_mb"] = round(tree_rss_mb(server.pid))
                row["disk_mb"] = round(_du(args.work / (f"server-{size}" if server else f"{mode}-{size}")))
                rows.append(row)
                log(f"{size} {mode}: {row}")
                (args.work.parent / f"{args.work.name}-rows.json").write_text(json.dumps(rows))  # kept if killed
            finally:
                if server is not None:
                    stop(server)
                for name in (f"server-{size}", f"{mode}-{size}"):
                    shutil.rmtree(args.work / name, ignore_errors=True)
    return rows


def _du(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


# --- report -----------------------------------------------------------------------------------------------------
def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (lat, mem) = plt.subplots(1, 2, figsize=(11, 4.2))
    for mode, colour in (("embedded", "tab:blue"), ("server", "tab:orange")):
        mine = sorted((r for r in rows if r["mode"] == mode), key=lambda r: r["size"])
        if not mine:
            continue
        sizes = [r["size"] for r in mine]
        lat.plot(sizes, [r["search_ms"]["p50"] for r in mine], "o-", color=colour, label=f"{mode} search p50")
        lat.plot(sizes, [r["search_ms"]["p95"] for r in mine], "s--", color=colour, label=f"{mode} search p95")
        lat.plot(sizes, [r["chroma_query_ms"]["p95"] for r in mine], "^:", color=colour,
                 label=f"{mode} Chroma query p95")
        mem.plot(sizes, [r["rss_mb"] for r in mine], "o-", color=colour, label=f"{mode}: retriever process")
        if mode == "server":
            mem.plot(sizes, [r["server_rss_mb"] for r in mine], "s--", color=colour, label="server: chroma process")
    lat.axhline(250, color="grey", lw=0.8, label="goal: p95 250 ms")
    lat.set_yscale("log")  # query embeddings under load and Chroma queries differ by orders of magnitude
    for axis, title, unit in ((lat, "Retrieval latency (query embedding included)", "ms"), (mem, "RSS", "MiB")):
        axis.set_xscale("log")
        axis.set_xlabel("units in the index")
        axis.set_ylabel(unit)
        axis.set_title(title)
        axis.legend(fontsize=7)
        axis.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def markdown(result: dict) -> str:
    m, ing = result["machine"], result["ingest"]
    lines = [
        "# Scale benchmark: ingest throughput and retrieval at 10k/100k units",
        "",
        f"Measured {result['when']} by `benchmarks/scale.py` ({result['command']}); raw numbers in "
        "[scale.json](scale.json), plot in [scale.png](scale.png).",
        "",
        "## Machine",
        "",
        f"- CPU: {m['cpu']}; {m['logical_cores']} logical cores ({m['physical_cores']} physical); RAM {m['ram_gib']} GiB",
        f"- Python {m['python']}; " + "; ".join(f"{k} {v}" for k, v in m["libraries"].items()),
        f"- Load average (1/5/15 min) before: {result['load_before']}, after ingest: {result['load_after_ingest']}, "
        f"after: {result['load_after']}. The machine is shared (other jobs ran): timings are noisy upper bounds.",
        "",
        "## Ingest throughput",
        "",
        f"{ing['units']} paragraphs varied from A/RES/75/158 (opening clause of a real paragraph + clauses of other "
        "paragraphs of the same kind up to its length, numbers and some words varied), in "
        f"{len(ing['rounds'])} rounds of ~{ing.get('round_units', 125)} units. Each round runs, in rotating order: our path "
        "(`UnitIndex.sync` on a fresh embedded index: passages, embedding, Chroma write), the raw "
        f"`SentenceTransformer.encode` of the same passage texts (same model object, prompt `document`, "
        f"batch_size={ing['batch_size']}, normalised)"
        + (", and the former path (one `embed_documents` call per batch of 16, text order)." if "former_units_per_s"
           in ing else ".")
        + " Every round then re-ingests the same document: it embedded 0 passages each time.",
        "",
        *([f"The ingest part comes from a separate run ({ing['when']}, {ing['command']}; load average before "
           f"{ing['load_before']}, after {ing['load_after']})."] if "command" in ing else []),
        "",
        "| what | measured |",
        "| --- | ---: |",
        f"| ours (`UnitIndex.sync`), units/s | {ing['ours_units_per_s']:.2f} |",
        f"| raw `encode`, units/s | {ing['raw_units_per_s']:.2f} |",
        f"| ours / raw (total time) | {ing['ours_units_per_s'] / ing['raw_units_per_s']:.1%} |",
        f"| ours / raw (median of the per-round ratios) | {ing['median_ratio']:.1%} |",
    ]
    if "median_cpu_ratio" in ing:
        lines += [
            f"| CPU seconds per unit, ours / raw (all threads) | {ing['ours_cpu_s_per_unit']:.2f} / "
            f"{ing['raw_cpu_s_per_unit']:.2f} |",
            f"| ours / raw in CPU time (median of the per-round ratios) | {ing['median_cpu_ratio']:.1%} |",
        ]
    if "former_units_per_s" in ing:
        lines += [
            f"| former path, units/s | {ing['former_units_per_s']:.2f} |",
            f"| former / raw (median of the per-round ratios) | {ing['former_median_ratio']:.1%} |",
        ]
    lines += [
        f"| re-ingest of unchanged units: passages embedded | {ing['reingest_embedded']} |",
        "",
        "## Retrieval at scale",
        "",
        "Each index holds N units: the ingest's paragraphs with their numbers varied again (distinct ids, "
        "125 units per synthetic resolution), their vectors perturbed copies of the real embeddings above "
        "(exact cosine 0.9 to their origin, unit norm). Built through `UnitIndex.sync` with a look-up embedder "
        "(so the project's passages, metadata and batched Chroma writes are what is timed), then opened in a "
        "fresh process the way `open_retriever` does (sync check that embeds nothing + `UnitRetriever`: units, "
        f"BM25) and queried with {result['queries']} real dev questions through `UnitRetriever.search` "
        "(k=5, lexical_weight 0.05, dense_candidates 200), the real EmbeddingGemma query embedding included. "
        "'Chroma query' is `UnitIndex.dense` alone with a precomputed vector. RSS: the retriever process after "
        "the queries (model + units + BM25), and the `chroma run` process in server mode.",
        "",
        "| units | mode | build s | open: sync check s | open: retriever s | search p50 ms | search p95 ms "
        "| query embedding p50/p95 ms | search without embedding p50/p95 ms | Chroma query p50/p95 ms "
        "| RSS retriever MiB | RSS server MiB | disk MiB |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in result["scale"]:
        lines.append(
            f"| {r['size']:,} | {r['mode']} | {r['build_s']} | {r['open_sync_s']} | {r['open_retriever_s']} | "
            f"{r['search_ms']['p50']:.0f} | **{r['search_ms']['p95']:.0f}** | "
            f"{r['query_embedding_ms']['p50']:.0f}/{r['query_embedding_ms']['p95']:.0f} | "
            + (f"{w['p50']:.0f}/{w['p95']:.0f} | " if (w := r.get('search_without_embedding_ms')) else "- | ")
            + f"{r['chroma_query_ms']['p50']:.0f}/{r['chroma_query_ms']['p95']:.0f} | {r['rss_mb']} | "
            f"{r.get('server_rss_mb', '-')} | {r['disk_mb']} |"
        )
    reembedded = sorted({r["reembedded"] for r in result["scale"]})
    lines += [
        "",
        f"Opening an up-to-date index embedded {', '.join(map(str, reembedded))} passages at every size. "
        "Goal: search p95 <= 250 ms at 100k units.",
        "",
        "![latency and RSS vs index size](scale.png)",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=1000, help="varied paragraphs embedded for real")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--modes", nargs="+", choices=["embedded", "server"], default=["embedded", "server"])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--part-queries", type=int, default=50,
                        help="of those, how many also time the query embedding and the Chroma query alone")
    parser.add_argument("--no-former", dest="former", action="store_false", help="skip the former-path arm")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--round-units", type=int, default=125, help="units per ingest round (one arm each)")
    parser.add_argument("--ingest-only", action="store_true", help="skip the scale part")
    parser.add_argument("--reuse-base", type=Path,
                        help="skip the ingest part: take base.json/base.npy (real texts and vectors) from this folder")
    parser.add_argument("--render", type=Path, help="only rewrite the .md/.png from this scale.json")
    parser.add_argument("--ingest-json", type=Path, help="with --render: take the ingest part from this json")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "scale",
                        help="path prefix of the .md/.json/.png results")
    parser.add_argument("--work", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--child", choices=["build", "serve"], help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--mode", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--child-timeout", type=int, default=3600, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        print(json.dumps((child_build if args.child == "build" else child_serve)(args)))
        return

    if args.render:
        result = json.loads(args.render.read_text(encoding="utf-8"))
        if args.ingest_json:
            other = json.loads(args.ingest_json.read_text(encoding="utf-8"))
            result["ingest"] = {**other["ingest"], "when": other["when"], "command": other["command"],
                                "load_before": other["load_before"], "load_after": other["load_after"]}
        write(result, args.out)
        return

    result: dict = {
        "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": "`" + " ".join(["benchmarks/scale.py", *sys.argv[1:]]) + "`",
        "machine": machine_record(("torch", "sentence-transformers", "transformers", "chromadb", "langchain-chroma", "bm25s")),
        "load_before": load_avg(),
        "queries": args.queries,
    }
    with tempfile.TemporaryDirectory(prefix="rqa-scale-") as tmp:
        args.work = Path(tmp)
        if args.reuse_base:
            for name in ("base.json", "base.npy"):
                shutil.copy(args.reuse_base / name, args.work / name)
            result["ingest"] = {}
        else:
            result["ingest"] = ingest_benchmark(args, args.work)
        result["load_after_ingest"] = load_avg()
        result["scale"] = [] if args.ingest_only else scale_benchmark(args)
    result["load_after"] = load_avg()
    write(result, args.out)


def write(result: dict, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if not result.get("ingest"):
        return  # a --reuse-base run: render later with --render ... --ingest-json ...
    if result["scale"]:
        plot(result["scale"], out.with_suffix(".png"))
    text = markdown(result)
    out.with_suffix(".md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
