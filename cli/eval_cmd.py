"""`resolution-qa eval`: run the question set through retrieval systems and answer backends, write the report."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import typer

from resolution_qa.core.backends import backend_names

from .app import app, fail

#: The repository (cli/ sits at its top; the module is reached through the src/resolution_qa/cli symlink).
_ROOT = Path(__file__).resolve().parents[1]
_DEFAULT_DATASET = _ROOT / "eval" / "data" / "dev.jsonl"


def _split(values: str, allowed: tuple[str, ...], what: str) -> list[str]:
    names = [v.strip() for v in values.split(",") if v.strip()]
    if names == ["none"]:
        return []
    unknown = [n for n in names if n not in allowed]
    if unknown:
        raise typer.BadParameter(f"unknown {what} {unknown[0]!r}; choose from {', '.join(allowed)} (or none)")
    return list(dict.fromkeys(names))


def _code_version() -> str:
    """The commit of the working tree the run starts from, for the report ("" outside a git checkout)."""
    root = _ROOT
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=root, capture_output=True,
                               text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return ""
    if head.returncode != 0:
        return ""
    return head.stdout.strip() + ("+changes" if dirty.stdout.strip() else "")


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@app.command("eval")
def eval_command(
    dataset: Path = typer.Option(_DEFAULT_DATASET, "--dataset", "-d", help="JSONL question set (see eval/data/README.md)."),
    backend: list[str] = typer.Option(
        ["extractive"], "--backend", "-b",
        help=f"Answer backend to run; repeat for several ({', '.join(backend_names())}), or 'none'.",
    ),
    systems: str = typer.Option("ours,dense,bm25,naive", "--systems", help="Retrieval systems, comma-separated, or 'none'."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Output folder (default: eval-out/<dataset name>)."),
    resume: bool = typer.Option(False, "--resume", help="Continue an interrupted run in --out."),
    limit: int | None = typer.Option(None, "--limit", min=1, help="Only the first N items (resuming with a larger N extends the run)."),
    plots: bool = typer.Option(True, "--plots/--no-plots", help="Draw the plots (matplotlib)."),
) -> None:
    """Evaluate retrieval, citations and answers on a question set; write report.json/.md/.html and predictions.jsonl."""
    from resolution_qa.core.settings import Settings
    from resolution_qa.eval.baselines import SYSTEMS
    from resolution_qa.eval.components import RealComponents
    from resolution_qa.eval.dataset import load_dataset
    from resolution_qa.eval.predictions import RunConfig
    from resolution_qa.eval.report import write_report
    from resolution_qa.eval.runner import PREDICTIONS, execute
    from resolution_qa.eval.scoring import build_report

    backends = _split(",".join(backend), backend_names(), "backend")
    system_names = _split(systems, SYSTEMS, "system")
    if not backends and not system_names:
        fail("nothing to evaluate: give at least one --backend or one of --systems")
    settings = Settings()
    out = out or Path("eval-out") / dataset.stem
    components = RealComponents(settings, index_dir=out / "index")
    data = load_dataset(dataset, document=components.document)
    items = list(data.items[:limit] if limit else data.items)
    config = RunConfig(
        dataset=str(dataset), dataset_sha256=data.sha256, item_ids=[i.id for i in items], systems=system_names,
        backends=backends, k=settings.k, refusal_threshold=settings.refusal_threshold,
        lexical_weight=settings.lexical_weight, embedding_model=settings.embedding_model, code=_code_version(),
    )
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        config, predictions = execute(items, config, components, out, resume=resume)
    except KeyboardInterrupt:
        typer.echo(f"interrupted: the work done is kept in {out / PREDICTIONS}; run the same command with --resume "
                   "to continue", err=True)
        raise typer.Exit(130) from None
    finally:
        signal.signal(signal.SIGTERM, previous)
    notes = []
    if "ours" in system_names or backends:
        notes.append(f"ours and the assistants retrieve from the run's own index of {components.document.symbol} "
                     "(index/ in the output folder), built with these settings; the user's index is not used.")
    report = build_report(items, predictions, config, components.document, notes=notes)
    paths = write_report(report, out, with_plots=plots)
    for name, grouped in report.retrieval.items():
        o = grouped.overall
        typer.echo(f"retrieval {name:6} recall@5 {o.recall[5] or 0:.3f}  MRR {o.mrr or 0:.3f}  (n={o.n})")
    for name, grouped in report.answers.items():
        o = grouped.overall
        typer.echo(f"answers   {name:10} accuracy {o.accuracy or 0:.3f}  invalid citations {o.invalid_citations}  "
                   f"refusal R {o.refusal.recall if o.refusal.recall is not None else float('nan'):.2f}  (n={o.n})")
    typer.echo(f"{len(report.failures)} items with a failure; report: {paths['html']} ({paths['md'].name}, "
               f"{paths['json'].name}, {PREDICTIONS})")
