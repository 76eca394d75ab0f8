"""Write a run's report: report.json (every number), report.md, and a self-contained report.html with plots."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from pathlib import Path

from resolution_qa.core.files import write_atomic

from .dataset import ITEM_TYPES
from .metrics import Percentiles, TradeoffPoint
from .scoring import HIT_KS, KS, Report

PLOTS_DIR = "plots"
_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:.9em}th,td{border:1px solid #ccc;padding:.3em .6em;text-align:right}
th:first-child,td:first-child{text-align:left}thead{background:#f3f3f3}img{max-width:100%}code{background:#f3f3f3}
"""


def _f(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _ms(p: Percentiles) -> str:
    return "–" if p.p50 is None else f"{p.p50 * 1000:.1f} / {p.p95 * 1000:.1f}"  # type: ignore[operator]


def _s(p: Percentiles) -> str:
    return "–" if p.p50 is None else f"{p.p50:.2f} / {p.p95:.2f}"  # type: ignore[operator]


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _table_points(report: Report) -> list[TradeoffPoint]:
    """Thresholds at 0.05 steps, without the flat runs at both ends (all answered / all refused)."""
    steps = [p for p in report.tradeoff if round(p.threshold * 100) % 5 == 0]
    changing = [i for i in range(1, len(steps)) if steps[i].model_dump(exclude={"threshold"}) != steps[i - 1].model_dump(exclude={"threshold"})]
    if not changing:
        return steps[:1]
    return steps[max(changing[0] - 1, 0) : changing[-1] + 1]


# --- plots ---------------------------------------------------------------------------------------


def _png(fig) -> bytes:  # noqa: ANN001 - a matplotlib Figure
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def plots(report: Report) -> dict[str, bytes]:
    """PNG bytes by file name: recall@k, recall@5 and correctness by type, latencies, refusal trade-off."""
    import matplotlib

    matplotlib.use("Agg")
    charts = {
        "recall_at_k.png": _recall_at_k(report),
        "recall_by_type.png": _by_type(
            "Retrieval recall@5 by item type", "recall@5",
            {s: {t: a.recall[5] for t, a in g.by_type.items()} for s, g in report.retrieval.items()},
        ),
        "correctness_by_type.png": _by_type(
            "Answer accuracy by item type (unanswerable: refused)", "accuracy",
            {b: {t: a.accuracy for t, a in g.by_type.items()} for b, g in report.answers.items()},
        ),
        "latency.png": _latency(report),
        "refusal_tradeoff.png": _refusal_tradeoff(report),
    }
    return {name: png for name, png in charts.items() if png is not None}


def _recall_at_k(report: Report) -> bytes | None:
    if not report.retrieval:
        return None
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4))
    for system, grouped in report.retrieval.items():
        ax.plot(KS, [grouped.overall.recall[k] or 0.0 for k in KS], marker="o", label=system)
    ax.set(xlabel="k", ylabel="recall@k (answerable items)", title="Retrieval recall@k", ylim=(0, 1.02), xticks=KS)
    ax.grid(alpha=0.3)
    ax.legend()
    return _png(fig)


def _by_type(title: str, ylabel: str, series: dict[str, dict[str, float | None]]) -> bytes | None:
    """Bars per item type, one series per system or backend."""
    types = [t for t in ITEM_TYPES if any(t in v for v in series.values())]
    if not types:
        return None
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 4))
    width = 0.8 / max(len(series), 1)
    for i, (label, values) in enumerate(series.items()):
        xs = [j + i * width for j in range(len(types))]
        ax.bar(xs, [values.get(t) or 0.0 for t in types], width=width, label=label)
    ax.set_xticks([j + 0.4 - width / 2 for j in range(len(types))], types, rotation=25, ha="right")
    ax.set(ylabel=ylabel, title=title, ylim=(0, 1.05))
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize="small")
    return _png(fig)


def _latency(report: Report) -> bytes | None:
    series = {f"retrieval: {s}": [r.seconds for r in report.retrieval_items if r.system == s] for s in report.retrieval}
    series |= {f"answer: {b}": [a.total_s for a in report.answer_items if a.backend == b and a.total_s is not None]
               for b in report.answers}
    series = {k: v for k, v in series.items() if v}
    if not series:
        return None
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 0.6 * len(series) + 1.5))
    ax.boxplot(list(series.values()), vert=False, tick_labels=list(series), whis=(5, 95))
    ax.set_xscale("log")
    ax.set(xlabel="seconds (log scale; whiskers p5-p95)", title="Latency per item")
    ax.grid(axis="x", alpha=0.3)
    return _png(fig)


def _refusal_tradeoff(report: Report) -> bytes | None:
    points = [p for p in report.tradeoff if p.refusal_recall is not None and p.false_refusal_rate is not None]
    if not points:
        return None
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    ax.plot([p.false_refusal_rate for p in points], [p.refusal_recall for p in points], marker=".",
            label=f"threshold on best dense similarity ({report.tradeoff_system})")
    shown: set[tuple[float, float]] = set()
    for p in _table_points(report):
        at = (round(p.false_refusal_rate, 2), round(p.refusal_recall, 2))  # type: ignore[arg-type]
        if at not in shown:  # label each place once: flat stretches give many thresholds one point
            shown.add(at)
            ax.annotate(f"{p.threshold:.2f}", at, fontsize=7, xytext=(3, -8), textcoords="offset points")
    current = min(points, key=lambda p: abs(p.threshold - report.config.refusal_threshold))
    ax.scatter([current.false_refusal_rate], [current.refusal_recall], s=80, facecolors="none", edgecolors="red",
               label=f"configured threshold {report.config.refusal_threshold:.2f} (nearest)")
    for b, g in report.answers.items():
        r = g.overall.refusal
        if r.recall is not None and r.false_refusal_rate is not None:
            ax.scatter([r.false_refusal_rate], [r.recall], marker="x", s=60, label=f"assistant ({b})")
    ax.set(xlabel="false-refusal rate (answerable items refused)", ylabel="refusal recall (unanswerable refused)",
           title="Refusal threshold trade-off", xlim=(-0.02, 1.02), ylim=(-0.02, 1.02))
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", loc="lower right")
    return _png(fig)


# --- markdown ------------------------------------------------------------------------------------


def render_markdown(report: Report, images: Sequence[str] = ()) -> str:
    """The report as Markdown; `images` are plot file names, linked from PLOTS_DIR."""
    md = _md_heading(report)
    if report.retrieval:
        md += _md_retrieval(report)
    if report.answers:
        md += _md_answers(report)
    if report.tradeoff:
        md += _md_tradeoff(report)
    if images:
        md += ["## Plots", ""] + [f"![{name}]({PLOTS_DIR}/{name})" for name in images] + [""]
    if report.notes:
        md += ["## Notes", ""] + [f"- {n}" for n in report.notes] + [""]
    md += [f"## Failed items ({len(report.failures)})", ""]
    for f in report.failures:
        md += [f"- **{f.item_id}** ({f.type}, {f.lang}) {f.question} — gold: {', '.join(f.gold) or 'none (unanswerable)'}"]
        md += [f"  - {p}" for p in f.problems]
    return "\n".join(md) + "\n"


def _md_heading(report: Report) -> list[str]:
    """Title, what was run on which data, and how to read the numbers."""
    c = report.config
    return [
        f"# Evaluation report: {Path(c.dataset).name}",
        "",
        f"- Dataset: `{c.dataset}` (sha256 `{c.dataset_sha256[:12]}`), {report.n_items} items, "
        f"{report.n_answerable} answerable",
        f"- Retrieval systems: {', '.join(c.systems) or 'none'}; answer backends: {', '.join(c.backends) or 'none'}",
        f"- Settings: k={c.k}, refusal threshold={c.refusal_threshold}, lexical weight={c.lexical_weight}, "
        f"embedding model `{c.embedding_model}`",
        f"- Started {c.started_at}, scored {report.finished_at}" + (f"; code `{c.code}`" if c.code else ""),
        "",
        "How to read it: recall@k is the share of an item's gold units found in the top k, out of "
        "min(|gold|, k); hit@k is 1 when any gold unit is there; MRR uses the first gold unit's rank. "
        "Retrieval metrics cover answerable items only; unanswerable ones count in the refusal metrics. "
        "Latencies are p50 / p95 on a shared 2-core CPU machine, so they are noisy.",
        "",
    ]


def _md_retrieval(report: Report) -> list[str]:
    """The retrieval table, context recall, and recall@5 by item type and by question language."""
    c = report.config
    md = ["## Retrieval", ""]
    rows = []
    for s, g in report.retrieval.items():
        o = g.overall
        rows.append([s, str(o.n), *(_f(o.recall[k]) for k in (1, 5, 10)), *(_f(o.hit[k]) for k in HIT_KS[1:2]),
                     _f(o.mrr), _ms(o.latency), str(o.errors)])
    md += [_table(["system", "n", "recall@1", "recall@5", "recall@10", "hit@5", "MRR", "ms p50 / p95", "errors"], rows), ""]
    for s, g in report.retrieval.items():
        if g.overall.context_recall is not None:
            md += [f"- `{s}` with its footnote/referrer expansions at k={c.k}: recall = "
                   f"{_f(g.overall.context_recall)} (the units the assistant is given).", ""]
    systems = list(report.retrieval)
    md += ["### Recall@5 by type", "",
           _table(["type", "n", *systems], [
               [t, str(report.retrieval[systems[0]].by_type[t].n),
                *(_f(report.retrieval[s].by_type[t].recall[5]) if t in report.retrieval[s].by_type else "–" for s in systems)]
               for t in ITEM_TYPES if t in report.retrieval[systems[0]].by_type]), ""]
    lists = [(b, g.by_type["list"]) for b, g in report.answers.items() if "list" in g.by_type]
    if lists:
        md += ["List questions (\"which paragraphs ...\"): recall and precision of the paragraphs named, against gold:",
               "", _table(["backend", "n", "list recall", "list precision", "accuracy"],
                          [[b, str(a.n), _f(a.citation_recall), _f(a.citation_precision), _f(a.accuracy)]
                           for b, a in lists]), ""]
    md += ["### By question language", "",
           _table(["lang", "n", *(f"{s} R@5 / MRR" for s in systems)], [
               [lang, str(report.retrieval[systems[0]].by_lang[lang].n),
                *(f"{_f(report.retrieval[s].by_lang[lang].recall[5])} / {_f(report.retrieval[s].by_lang[lang].mrr)}"
                  for s in systems)]
               for lang in ("fr", "en") if lang in report.retrieval[systems[0]].by_lang]), ""]
    return md


def _md_answers(report: Report) -> list[str]:
    """The answers table, latencies, accuracy by item type and by question language, how it is scored."""
    md = ["## Answers", ""]
    rows = []
    for b, g in report.answers.items():
        o = g.overall
        rows.append([b, str(o.n), _f(o.accuracy), _f(o.selective_accuracy), _f(o.coverage), _f(o.correctness),
                     _f(o.citation_precision), _f(o.citation_recall),
                     f"{o.invalid_citations}/{o.citations}", str(o.invented_references), _f(o.refusal.precision),
                     _f(o.refusal.recall), _f(o.refusal.false_refusal_rate), _f(o.language_match),
                     str(o.fallbacks), str(o.errors)])
    md += [_table(["backend", "n", "accuracy", "right among given", "coverage", "correct (answerable)",
                   "citation P", "citation R",
                   "invalid citations", "invented refs", "refusal P", "refusal R", "false refusals",
                   "language match", "fallbacks", "errors"], rows), ""]
    md += ["Latency in seconds, p50 / p95 (graded turn):", "",
           _table(["backend", "retrieval", "first visible (passages)", "first answer words", "total"],
                  [[b, _s(g.overall.latency_retrieval), _s(g.overall.latency_shown) if g.overall.latency_shown else "–",
                    _s(g.overall.latency_first_token), _s(g.overall.latency_total)]
                   for b, g in report.answers.items()]), ""]
    backends = list(report.answers)
    md += ["### Accuracy by type", "",
           _table(["type", "n", *backends], [
               [t, str(report.answers[backends[0]].by_type[t].n),
                *(_f(report.answers[b].by_type[t].accuracy) if t in report.answers[b].by_type else "–" for b in backends)]
               for t in ITEM_TYPES if t in report.answers[backends[0]].by_type]), ""]
    lists = [(b, g.by_type["list"]) for b, g in report.answers.items() if "list" in g.by_type]
    if lists:
        md += ["List questions (\"which paragraphs ...\"): recall and precision of the paragraphs named, against gold:",
               "", _table(["backend", "n", "list recall", "list precision", "accuracy"],
                          [[b, str(a.n), _f(a.citation_recall), _f(a.citation_precision), _f(a.accuracy)]
                           for b, a in lists]), ""]
    md += ["### By question language", "",
           _table(["lang", "n", *(f"{b} accuracy / language match" for b in backends)], [
               [lang, str(report.answers[backends[0]].by_lang[lang].n),
                *(f"{_f(report.answers[b].by_lang[lang].accuracy)} / {_f(report.answers[b].by_lang[lang].language_match)}"
                  for b in backends)]
               for lang in ("fr", "en") if lang in report.answers[backends[0]].by_lang]), ""]
    md += ["Accuracy counts an answerable item right when the answer is not a refusal and contains one "
           "alternative of every must-group (case-insensitive), and an unanswerable item right when it is "
           "refused. Citation P/R compare cited unit ids with gold ids (precision over answers that cite "
           "something). \"Right among given\" is accuracy over the answers not declined (an answered unanswerable "
           "item counts wrong); coverage is the share not declined. Language match uses the answer's own words, quotations of the French text removed.", ""]
    return md


def _md_tradeoff(report: Report) -> list[str]:
    """Refusal recall and false-refusal rate at each threshold where they change, and at the configured one."""
    c = report.config
    md = [f"## Refusal threshold trade-off ({report.tradeoff_system}, best dense similarity)", "",
          f"Refuse when the best dense similarity of the question is below the threshold. Over "
          f"{report.n_items - report.n_answerable} unanswerable and {report.n_answerable} answerable items "
          "(thresholds where nothing changes are left out; report.json has every 0.01 step):", "",
          _table(["threshold", "refusal recall", "false-refusal rate"],
                 [[f"{p.threshold:.2f}", _f(p.refusal_recall), _f(p.false_refusal_rate)] for p in _table_points(report)]),
          ""]
    configured = next((p for p in report.tradeoff if abs(p.threshold - c.refusal_threshold) < 0.005), None)
    if configured is not None:
        md += [f"At the configured threshold {c.refusal_threshold:.2f}: refusal recall {_f(configured.refusal_recall)}, "
               f"false-refusal rate {_f(configured.false_refusal_rate)}.", ""]
    return md


def render_html(markdown: str, images: dict[str, bytes], title: str) -> str:
    """One offline HTML file: the Markdown rendered, plots inlined as base64 PNG."""
    from html import escape

    from markdown_it import MarkdownIt

    for name, data in images.items():
        markdown = markdown.replace(f"]({PLOTS_DIR}/{name})", f"](data:image/png;base64,{base64.b64encode(data).decode()})")
    body = MarkdownIt("commonmark", {"html": False}).enable("table").render(markdown)
    return (f"<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{escape(title)}</title>"
            f"<style>{_CSS}</style></head><body>\n{body}</body></html>\n")


def write_report(report: Report, out: Path, *, with_plots: bool = True) -> dict[str, Path]:
    """Write report.json, report.md (plots beside it in plots/) and report.html into out."""
    out.mkdir(parents=True, exist_ok=True)
    images = plots(report) if with_plots else {}
    if images:
        (out / PLOTS_DIR).mkdir(exist_ok=True)
        for name, data in images.items():
            write_atomic(out / PLOTS_DIR / name, data, what="the plot")
    markdown = render_markdown(report, list(images))
    paths = {"json": out / "report.json", "md": out / "report.md", "html": out / "report.html"}
    # Each file replaced in one rename (core/files.py): a full disk leaves the previous report, not half of one.
    write_atomic(paths["json"], report.model_dump_json(indent=1), what="the report")
    write_atomic(paths["md"], markdown, what="the report")
    write_atomic(paths["html"], render_html(markdown, images, f"resolution-qa eval: {Path(report.config.dataset).name}"),
                 what="the report")
    return paths
