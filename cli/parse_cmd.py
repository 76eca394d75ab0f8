"""`resolution-qa parse`: print the units of a resolution."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from .app import OutputFormat, app


@app.command()
def parse(
    path: Path | None = typer.Argument(
        None, help="Resolution file (UTF-8 text, PDF or Word .docx), or a folder of them; default: the bundled "
        "A/RES/75/158."
    ),
    format: OutputFormat = typer.Option(OutputFormat.text, "--format", "-f", help="text, json or jsonl."),
) -> None:
    """Split a resolution into its units (header, PPn, OPn, fnN); a folder: each of its .txt, .pdf, .docx files."""
    from resolution_qa.ingest import expand_sources, parse_file

    paths = expand_sources([path]) if path is not None else [None]
    documents = [parse_file(p) for p in paths]  # every file parsed before anything is printed
    for doc in documents:
        _print(doc, format, several=len(documents) > 1)


def print_warnings(doc) -> None:
    """A document's warnings on stderr: the first few, then how many more (20,000 paragraphs must not print 19,000)."""
    from resolution_qa.ingest.parser import summarise_warnings

    for line in summarise_warnings(doc.warnings):
        typer.echo(f"warning: {line}", err=True)


def _print(doc, format: OutputFormat, *, several: bool) -> None:
    print_warnings(doc)
    rows = [
        ({"doc": doc.symbol} if several else {})  # a folder's units say which resolution they belong to
        | {
            "id": u.id,
            "kind": u.kind,
            "number": u.number,
            "text": u.text,
            "footnotes": list(u.footnotes),
            "source": u.source,
        }
        for u in doc.units
    ]
    if format is OutputFormat.jsonl:
        for row in rows:
            typer.echo(json.dumps(row, ensure_ascii=False))
    elif format is OutputFormat.json:
        typer.echo(json.dumps({"symbol": doc.symbol, "lang": doc.lang, "title": doc.title, "units": rows}, ensure_ascii=False))
    else:
        counts = {k: doc.count(k) for k in ("preambular", "operative", "footnote")}
        typer.echo(f"{doc.symbol} ({doc.lang}) {doc.title}: {counts['preambular']} preambular, "
                   f"{counts['operative']} operative, {counts['footnote']} footnotes")
        for u in doc.units:
            notes = f" [{', '.join(u.footnotes)}]" if u.footnotes else ""
            typer.echo(f"{u.id:>7}{notes}: {u.text[:100]}")
