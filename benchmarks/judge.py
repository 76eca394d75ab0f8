"""The judge alone: its scores on the dev splits, how well they separate answerable from unanswerable questions
and gold from other passages, the calibration fitted on them, and its cost per passage.

    .venv/bin/python benchmarks/judge.py                 # judge dev + blind_dev (resumable), then the report
    .venv/bin/python benchmarks/judge.py --report-only   # rebuild the report from the saved scores

Scores go to benchmarks/results/judge-<split>.jsonl (one line per item: every candidate with its dense
similarity and P(yes)); the report to benchmarks/results/judge.md, the curves to judge.png. Only the dev
splits are read: the fitted numbers become AnswerSettings' defaults, so held-out items must never be here.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import machine  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
DATA = ROOT / "eval" / "data"
SPLITS = ("dev", "blind_dev")


def load_items(split: str) -> list[dict]:
    return [json.loads(line) for line in (DATA / f"{split}.jsonl").read_text(encoding="utf-8").splitlines() if line]


def judge_split(split: str, assistant, stage, limit: int | None) -> Path:  # noqa: ANN001 - built in main()
    """Judge the candidates of every item of a split (`assistant` is extractive: it answers the previous turns)."""
    from resolution_qa.assistant.select import select

    out = RESULTS / f"judge-{split}.jsonl"
    done = {json.loads(line)["id"] for line in out.read_text().splitlines() if line} if out.exists() else set()
    items = [i for i in load_items(split) if i["id"] not in done][: limit or None]
    with out.open("a", encoding="utf-8") as f:
        for n, item in enumerate(items, 1):
            history: list = []
            for question in item["turns"][:-1]:
                history.append(assistant.ask(question, history))
            state = assistant.prepare(item["turns"][-1], history)
            row: dict = {"id": item["id"], "type": item["type"], "lang": item["lang"],
                         "answerable": item["answerable"], "gold": item["gold"], "candidates": []}
            if state.out_of_range is None:
                select(state, assistant.retriever.documents, assistant.answer_settings, judged=True)
                units, dense = state.candidates, state.candidate_dense
                started = time.perf_counter()
                scores = stage.reader.judge(state.asked, [stage.passage(u) for u in units])
                seconds = time.perf_counter() - started
                row.update(listing=state.listing, seconds=seconds, candidates=[
                    {"id": u.id, "dense": d, "p": p, "named": u.id in state.named, "tokens": len(u.text) // 4}
                    for u, d, p in zip(units, dense, scores, strict=True)])
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
            f.flush()
            print(f"[{split}] {n}/{len(items)} {item['id']}", flush=True)
    return out


def rows() -> list[dict]:
    found = []
    for split in SPLITS:
        path = RESULTS / f"judge-{split}.jsonl"
        if path.exists():
            found += [json.loads(line) for line in path.read_text().splitlines() if line]
    return found


def report(build_s: list[float]) -> str:
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    from resolution_qa.assistant.policy import logit

    data = [r for r in rows() if r["candidates"] and not any(c["named"] for c in r["candidates"])]
    y = np.array([r["answerable"] for r in data], dtype=int)
    best_p = np.array([max(c["p"] for c in r["candidates"]) for r in data])
    best_d = np.array([max((c["dense"] or 0.0) for c in r["candidates"]) for r in data])
    x = np.column_stack([[logit(p) for p in best_p], best_d])
    fit = LogisticRegression(C=10.0).fit(x, y)
    z = fit.decision_function(x)
    lines = ["# The judge: P(yes) that a passage contains the answer", "",
             f"Machine: {machine()}.", "",
             f"Items (dev + blind_dev, questions naming no paragraph): {len(data)} "
             f"({int(y.sum())} answerable, {int((1 - y).sum())} not).", "",
             "| signal | AUC answerable vs not |", "| --- | ---: |",
             f"| best dense similarity (today's refusal signal) | {roc_auc_score(y, best_d):.3f} |",
             f"| best judge P(yes) | {roc_auc_score(y, best_p):.3f} |",
             f"| both, logistic (fitted here) | {roc_auc_score(y, z):.3f} |", "",
             f"Fitted: z = {fit.coef_[0][0]:.3f} × logit(best P(yes)) + {fit.coef_[0][1]:.3f} × best dense "
             f"+ {fit.intercept_[0]:.3f} (no better than the judge alone, so the defaults use the judge alone).", "",
             "Declining when the best judge P(yes) is below a threshold (the defaults: 0.55):", "",
             "| best P(yes) below | unanswerable declined | answerable declined |", "| ---: | ---: | ---: |"]
    prob = 1 / (1 + np.exp(-z))
    plain = np.array([not r.get("listing") for r in data])
    for t in (0.5, 0.55, 0.6, 0.65, 0.7, 0.75):
        declined = (best_p < t) & plain
        lines.append(f"| {t:.2f} | {declined[y == 0].mean():.2f} | {declined[y == 1].mean():.2f} |")
    lines += ["", *ranking_table()]
    gold_p = [c["p"] for r in rows() for c in r["candidates"] if c["id"] in r["gold"]]
    other_p = [c["p"] for r in rows() if r["answerable"] for c in r["candidates"] if c["id"] not in r["gold"]]
    lines += ["", f"Passages: gold {len(gold_p)}, median P(yes) {statistics.median(gold_p):.2f}; other candidates of "
              f"answerable items {len(other_p)}, median {statistics.median(other_p):.2f}; AUC gold vs other "
              f"{roc_auc_score([1] * len(gold_p) + [0] * len(other_p), gold_p + other_p):.3f}.", ""]
    per = [r["seconds"] / len(r["candidates"]) for r in rows() if r.get("seconds")]
    lines += ["Cost per passage, its state cached (question tokens only): "
              f"median {statistics.median(per):.2f} s, p95 {np.percentile(per, 95):.2f} s.", ""]
    if build_s:
        lines += [f"Building a passage's state (once per passage): median {statistics.median(build_s):.2f} s, "
                  f"p95 {np.percentile(build_s, 95):.2f} s over {len(build_s)} passages.", ""]
    _plot(y, prob, gold_p, other_p)
    lines.append("![calibration and separation](judge.png)")
    return "\n".join(lines) + "\n"


def ranking_table() -> list[str]:
    """How often the passage ranked first is a gold one: by retrieval, by the judge, and by both (the default)."""
    from resolution_qa.assistant.policy import logit

    answerable = [r for r in rows() if r["answerable"] and r["candidates"] and not r.get("listing")]

    def top1(score) -> float:  # noqa: ANN001 - (candidate, rank) -> float
        hits = 0
        for r in answerable:
            c = r["candidates"]
            best = max(range(len(c)), key=lambda i: score(c[i], i))
            hits += c[best]["id"] in r["gold"]
        return hits / len(answerable)

    lines = [f"The passage ranked first is a gold one ({len(answerable)} answerable, non-list questions):", "",
             "| ranked by | gold first |", "| --- | ---: |",
             f"| retrieval order | {top1(lambda c, i: -i):.3f} |",
             f"| dense similarity | {top1(lambda c, i: c['dense'] or 0.0):.3f} |",
             f"| judge P(yes) | {top1(lambda c, i: c['p']):.3f} |"]
    for w in (0.3, 0.5, 0.6, 1.0):
        lines.append(f"| logit(P(yes)) - {w} × rank{' (default)' if w == 0.5 else ''} | "
                     f"{top1(lambda c, i, w=w: logit(c['p']) - w * i):.3f} |")
    return lines + [""]


def _plot(y, prob, gold_p, other_p) -> None:  # noqa: ANN001 - numpy arrays
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    bins = np.linspace(0, 1, 6)
    idx = np.digitize(prob, bins[1:-1])
    centers = [prob[idx == k].mean() for k in range(5) if (idx == k).any()]
    rates = [y[idx == k].mean() for k in range(5) if (idx == k).any()]
    a.plot([0, 1], [0, 1], ":", color="grey")
    a.plot(centers, rates, "o-")
    a.set(title="Calibration (dev): answerable rate by predicted", xlabel="predicted", ylabel="observed")
    b.hist([gold_p, other_p], bins=20, label=["gold passages", "other candidates"])
    b.set(title="Judge P(yes)", xlabel="P(yes)")
    b.legend()
    fig.tight_layout()
    fig.savefig(RESULTS / "judge.png", dpi=90)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument("--limit", type=int)
    args = parser.parse_args()
    build_s: list[float] = []
    if not args.report_only:
        from resolution_qa.assistant import Assistant
        from resolution_qa.core.settings import Settings

        settings = Settings(backend="llamacpp")
        assistant = Assistant(settings)
        stage = assistant.reading
        assert stage is not None, "the llamacpp backend has a reader"
        follow = Assistant(settings.with_backend("extractive"), retriever=assistant.retriever)
        for unit in assistant.retriever.document.units:  # build each passage's state once, timed (with one judging)
            started = time.perf_counter()
            stage.reader.judge("?", [stage.passage(unit)])
            build_s.append(time.perf_counter() - started)
        for split in SPLITS:
            judge_split(split, follow, stage, args.limit)
    (RESULTS / "judge.md").write_text(report(build_s), encoding="utf-8")
    print((RESULTS / "judge.md").read_text())


if __name__ == "__main__":
    main()
