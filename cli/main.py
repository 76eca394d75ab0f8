"""The entry point: every command registered on the typer app, run, domain errors as one-line messages."""

from __future__ import annotations

import sys

import typer

from resolution_qa.core.errors import ResolutionQAError

# Each command module registers its commands on `app` when imported; they import their heavy libraries inside the
# commands, so `--help` stays fast.
from . import (  # noqa: F401
    ask_cmd,
    chat_cmd,
    eval_cmd,
    feedback_cmd,
    index_cmd,
    models_cmd,
    parse_cmd,
    serve_cmd,
    show_cmd,
    translate_cmd,
    warm_cmd,
)
from .app import app


def main() -> None:
    try:
        app()
    except ResolutionQAError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
