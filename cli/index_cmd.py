"""`resolution-qa ingest` and `resolution-qa search`: build the vector index and query it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import typer

from resolution_qa.core.errors import ResolutionQAError

from .app import OutputFormat, app
from .parse_cmd import print_warnings


@contextmanager
def _progress(description: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on stderr (stdout stays clean for JSON), shown once there is something to embed."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
        console=Console(stderr=True), transient=True,
    ) as bar:
        task = None

        def update(done: int, total: int) -> None:
            nonlocal task
            if total == 0:
                return
            if task is None:
                task = bar.add_task(description, total=total)
            bar.update(task, completed=done)

        yield update


def _settings():
    from resolution_qa.core.settings import Settings

    return Settings()


@app.command()
def ingest(
    paths: list[Path] = typer.Argument(
        None, help="Resolution files (UTF-8 text, PDF or Word .docx) or folders of them; default: "
        "RESOLUTION_QA_DOCUMENTS, else the bundled A/RES/75/158."
    ),
    rebuild: bool = typer.Option(
        False, "--rebuild",
        help="Embed everything again into a fresh collection; an embedded index that cannot be read is first moved "
        "aside to <index_dir>.broken-<time> (nothing is deleted).",
    ),
    format: OutputFormat = typer.Option(OutputFormat.text, "--format", "-f", help="text or json."),
) -> None:
    """Index resolutions: only new or changed paragraphs are embedded; the index then holds exactly these files."""
    from resolution_qa.vectorstore import ingest as run_ingest
    from resolution_qa.vectorstore import load_embeddings, parse_sources
    from resolution_qa.vectorstore.client import check_catalogue
    from resolution_qa.vectorstore.lock import raise_if_busy

    settings = _settings()
    from resolution_qa.ingest import expand_sources

    sources = [str(p) for p in expand_sources(paths)] if paths else None  # a folder: its .txt, .pdf, .docx files
    documents = parse_sources(sources) if sources else None  # every file parsed before the model loads
    for document in documents or []:
        print_warnings(document)
    if not rebuild:
        check_catalogue(settings.store)  # a damaged store: the one-line error before the model loads
        raise_if_busy(settings.store)  # so is another ingest running (vectorstore/lock.py)
    embeddings = load_embeddings(settings.embedding)
    with _progress("embedding") as progress:
        report = run_ingest(
            settings, embeddings, rebuild=rebuild, paths=[Path(p) for p in sources] if sources else None,
            progress=progress,
        )
    if format is OutputFormat.text:
        typer.echo(report.summary())
    else:
        typer.echo(report.model_dump_json())


def _read_batch(path: Path) -> list[str]:
    """The questions of a --batch file, one a line; read like every user file (core/inputs.py)."""
    from resolution_qa.core.inputs import BATCH, read_text

    return read_text(path, BATCH).splitlines()


def _rows(result, k: int, several: bool = False) -> list[dict[str, object]]:
    # "doc" only when the index holds several resolutions: a one-resolution index keeps its contract.
    return [
        ({"doc": h.unit.doc} if several else {}) | {"id": h.unit.id, "score": round(h.score, 6), "text": h.unit.text}
        for h in result.hits[:k]
    ]


def _print_text(result, k: int, several: bool = False) -> None:
    lang = "fr" if result.hits and result.hits[0].unit.lang == "fr" else "en"
    for rank, hit in enumerate(result.hits, start=1):
        mark = f"{rank:>2}." if rank <= k else "  +"
        text = hit.unit.text if len(hit.unit.text) <= 160 else hit.unit.text[:157] + "..."
        label = hit.unit.citation(lang) if several else hit.unit.label(lang)
        typer.echo(f"{mark} {hit.unit.id:<7} {hit.score:6.3f} {hit.via:<9} {label}: {text}")


@app.command()
def search(
    question: str = typer.Argument(None, help="The question; or use --batch."),
    k: int = typer.Option(None, "--k", "-k", min=1, max=50, help="Units to return (default RESOLUTION_QA_K)."),
    batch: Path = typer.Option(None, "--batch", help="UTF-8 file with one question per line; one JSON line each."),
    format: OutputFormat = typer.Option(OutputFormat.text, "--format", "-f", help="text, json or jsonl."),
    doc: list[str] = typer.Option(
        None, "--doc", "-d", help="Search this indexed resolution only (e.g. A/RES/75/158 or 75/158); repeatable."
    ),
) -> None:
    """Retrieve the units that answer a question, best first (explicit references like "par. 27" at rank 1)."""
    if (question is None) == (batch is None):
        raise typer.BadParameter("give either a QUESTION or --batch FILE")
    from resolution_qa.core.errors import EmptyQuestionError
    from resolution_qa.core.inputs import check_text
    from resolution_qa.vectorstore import open_retriever

    settings = _settings()
    k = k or settings.k
    questions = _read_batch(batch) if batch is not None else None
    if question is not None and not check_text(question).strip():
        raise EmptyQuestionError("the question is empty; type a question about the resolution")
    with _progress("embedding the index") as progress:
        retriever = open_retriever(settings, progress=progress)
    docs = list(doc or []) or None
    retriever.selected(docs)  # an unknown symbol fails before the first question (UnknownDocumentError)
    several = len(retriever.documents) > 1
    if questions is None:
        result = retriever.search(question, k=k, docs=docs)
        if format is OutputFormat.text:
            _print_text(result, k, several)
        else:
            typer.echo(json.dumps({"results": _rows(result, k, several)}, ensure_ascii=False))
        return
    for number, line in enumerate(questions, start=1):
        try:
            row: dict[str, object] = {"results": _rows(retriever.search(line, k=k, docs=docs), k, several)}
        except ResolutionQAError as exc:
            # One bad line must not lose the others: report it in place, keeping lines aligned.
            typer.echo(f"error: {batch}:{number}: {exc}", err=True)
            row = {"results": [], "error": str(exc)}
        typer.echo(json.dumps(row, ensure_ascii=False))
