"""The typer application the commands register on, and their shared option handling (cli/main.py runs it)."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from resolution_qa.core.settings import Settings

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


def settings_with(overrides: dict[str, object], options: dict[str, str] | None = None) -> Settings:
    """Settings with the command's options over the environment; a bad value is one line naming the option
    (`options` maps a setting to its option's name where they differ: serve_port -> --port)."""
    from resolution_qa.core.errors import SettingsValueError
    from resolution_qa.core.settings import Settings

    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except SettingsValueError as exc:  # one line naming the option when the bad value came from one
        if exc.field not in overrides:
            fail(str(exc))
        option = (options or {}).get(exc.field, exc.field)
        fail(f"--{option} {exc.value}: {exc.reason}")
        raise AssertionError("unreachable") from exc  # fail() exits
