"""The typer application and the edge where domain errors become one-line messages."""

from __future__ import annotations

import sys
from enum import StrEnum

import typer

from resolution_qa.core.errors import ResolutionQAError

app = typer.Typer(
    name="resolution-qa",
    help="Cited answers about UN resolutions (A/RES/75/158 bundled), in French or English.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


class OutputFormat(StrEnum):
    text = "text"
    json = "json"
    jsonl = "jsonl"


def fail(message: str, code: int = 2) -> None:
    """Print a one-line error on stderr and exit non-zero."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _register() -> None:
    # Command modules import their heavy libraries inside the commands, so `--help` stays fast.
    from . import parse_cmd  # noqa: F401

    for optional in ("models_cmd", "index_cmd", "ask_cmd", "eval_cmd", "chat_cmd", "serve_cmd", "feedback_cmd"):
        try:
            __import__(f"{__package__}.{optional}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__package__}.{optional}":
                raise


def main() -> None:
    _register()
    try:
        app()
    except ResolutionQAError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
