"""`resolution-qa translate [SYMBOL]`: an English rendering of every unit, made once and checked, kept by content hash."""

from __future__ import annotations

from pathlib import Path

import typer

from .app import app, fail


def load_documents(settings, symbol: str | None) -> list:  # type: ignore[no-untyped-def]
    """The configured resolutions (RESOLUTION_QA_DOCUMENTS, else the bundled one), language versions merged; only
    `symbol` when given (an unknown symbol is one line naming the known ones)."""
    from resolution_qa.ingest import expand_sources
    from resolution_qa.vectorstore import BUNDLED_SOURCE, parse_sources

    sources = [str(p) for p in expand_sources(settings.documents)] or [BUNDLED_SOURCE]
    documents = parse_sources(sources)
    if symbol is None:
        return documents
    chosen = [d for d in documents if d.symbol == symbol]
    if not chosen:
        fail(f"no resolution {symbol} among the documents ({', '.join(d.symbol for d in documents)}); "
             "set RESOLUTION_QA_DOCUMENTS to add its file")
    return chosen


def make_generator(settings):  # type: ignore[no-untyped-def]
    """The translation model of the configured backend: the GGUF in this process, or the backend's chat model."""
    from resolution_qa.translate.model import ChatModelGenerator, LlamaGenerator

    llm = settings.llm
    if llm.backend == "llamacpp":
        from resolution_qa.core.model_files import gguf_path

        # 2 threads: the translation runs for half an hour beside other work on small machines
        return LlamaGenerator(gguf_path(llm), n_ctx=llm.llm_context, n_threads=llm.llm_threads or 2)
    from resolution_qa.assistant.backends import make_chat_model

    model = make_chat_model(llm)
    if model is None:
        fail(f"the {llm.backend} backend has no language model to translate with; use llamacpp, ollama or openai")
    return ChatModelGenerator(model)


def _specs(count: int):  # type: ignore[no-untyped-def]
    from resolution_qa.translate.render import DEFAULT_SPECS, Spec

    specs = list(DEFAULT_SPECS[:count])
    specs += [Spec(0.6, seed) for seed in range(2, 2 + count - len(specs))]  # more samples beyond the defaults
    return specs


@app.command()
def translate(
    symbol: str | None = typer.Argument(None, help="Resolution symbol (A/RES/75/158); default: every configured one."),
    units: str | None = typer.Option(None, "--units", help="Only these units, comma-separated: OP27,PP3,fn1."),
    candidates: int = typer.Option(3, "--candidates", min=1, max=8, help="Most candidates written per piece."),
    min_candidates: int = typer.Option(1, "--min-candidates", min=1, max=8,
                                       help="Candidates always written per piece; more only while none passes the checks."),
    out: Path | None = typer.Option(None, "--out", help="Renderings file (default: the repository's file for the "
                                    "bundled resolution, else <index_dir>/translations/)."),
    report: Path | None = typer.Option(None, "--report", help="Write the flagged units and their reasons here (Markdown)."),
    recheck: bool = typer.Option(False, "--recheck", help="Write no translation: check the kept renderings again "
                                 "with today's checks and flag those that now fail."),
    retry_flagged: bool = typer.Option(False, "--retry-flagged",
                                       help="Try flagged units again with the other candidates; keep the better."),
    flag_missing: str | None = typer.Option(None, "--flag-missing", metavar="REASON",
                                            help="Write no translation: flag each unit without one, with REASON."),
) -> None:
    """Write the English rendering of each unit that has none for its current text (resumable: finished units are kept)."""
    from resolution_qa.core.settings import Settings
    from resolution_qa.translate.run import select, translate_document
    from resolution_qa.translate.store import RenderingStore, store_path

    settings = Settings()
    documents = load_documents(settings, symbol)
    ids = [u.strip() for u in units.split(",") if u.strip()] if units else None
    for document in documents:  # a wrong unit id is reported before seconds of model loading
        select(document, ids)
    if recheck:
        from resolution_qa.translate.run import recheck as run_recheck
        from resolution_qa.translate.store import RenderingStore, store_path

        for document in documents:
            path = out or store_path(document.symbol, "en", settings.store.index_dir)
            changed = run_recheck(document, RenderingStore(path))
            typer.echo(f"{document.symbol}: {len(changed)} renderings changed status or spelling -> {path}")
            for record in changed:
                typer.echo(f"  {record.status} {record.id}" + (f": {'; '.join(record.reasons)}" if record.reasons else ""))
        return
    if flag_missing is not None:
        _flag(documents, flag_missing, out, report, settings)
        return
    generator = make_generator(settings)
    scorer = _scorer(settings)
    for document in documents:
        path = out or store_path(document.symbol, "en", settings.store.index_dir)
        store = RenderingStore(path)
        with _bar(document, ids) as advance:
            summary = translate_document(document, generator, store, ids=ids, specs=_specs(candidates),
                                         scorer=scorer, min_candidates=min(min_candidates, candidates),
                                         retry_flagged=retry_flagged, progress=advance)
        typer.echo(f"{document.symbol}: {len(summary.done)} rendered, {summary.kept} kept, "
                   f"{summary.official} official, {len(summary.flagged)} flagged -> {path}")
        for record in summary.flagged:
            typer.echo(f"  flagged {record.id}: {'; '.join(record.reasons)}")
        if report is not None:
            from resolution_qa.translate.report import write_report

            write_report(report, document, RenderingStore(path))


def _scorer(settings):  # type: ignore[no-untyped-def]
    from resolution_qa.translate.similarity import EmbeddingScorer
    from resolution_qa.vectorstore import load_embeddings

    return EmbeddingScorer(load_embeddings(settings.embedding))


def _bar(document, ids):  # type: ignore[no-untyped-def]
    from contextlib import contextmanager

    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    total = len(ids) if ids else len(document.units)

    @contextmanager
    def bar():  # type: ignore[no-untyped-def]
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      TimeRemainingColumn(), console=Console(stderr=True)) as progress:
            task = progress.add_task(f"translate {document.symbol}", total=total)

            def advance(unit, record) -> None:  # type: ignore[no-untyped-def]
                progress.update(task, advance=1, description=f"translate {document.symbol} {unit.id}")

            yield advance

    return bar()


def _flag(documents, reason: str, out: Path | None, report: Path | None, settings) -> None:  # type: ignore[no-untyped-def]
    from resolution_qa.translate.run import flag_missing
    from resolution_qa.translate.store import RenderingStore, store_path

    for document in documents:
        path = out or store_path(document.symbol, "en", settings.store.index_dir)
        added = flag_missing(document, RenderingStore(path), reason)
        ruled = sum(r.model == "rules" for r in added)
        typer.echo(f"{document.symbol}: {ruled} units rendered by rules, {len(added) - ruled} flagged as not "
                   f"translated -> {path}")
        if report is not None:
            from resolution_qa.translate.report import write_report

            write_report(report, document, RenderingStore(path))

