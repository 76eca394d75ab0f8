"""`resolution-qa chat`: serve the Gradio chat app (loopback by default)."""

from __future__ import annotations

import typer

from .app import app, fail


@app.command()
def chat(
    host: str | None = typer.Option(None, help="Address to listen on (default: RESOLUTION_QA_HOST, 127.0.0.1)."),
    port: int | None = typer.Option(None, help="Port (default: RESOLUTION_QA_PORT, 7860)."),
    backend: str | None = typer.Option(
        None, help="llamacpp, ollama, openai or extractive (default: RESOLUTION_QA_BACKEND)."
    ),
    share: bool = typer.Option(
        False, "--share", help="Also open a public gradio.live link (needs internet; off unless asked)."
    ),
) -> None:
    """Open the chat app: streamed answers with clickable citations, and the resolution's full text."""
    from pydantic import ValidationError

    from resolution_qa.settings import Settings

    overrides: dict[str, object] = {}
    if host is not None:
        overrides["host"] = host
    if port is not None:
        overrides["port"] = port
    if backend is not None:
        overrides["backend"] = backend
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:  # name the bad value in one line
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "settings"
        origin = f"--{where} or " if where in overrides else ""
        fail(f"{where}={first.get('input')!s}: {first['msg']}; check {origin}RESOLUTION_QA_{where.upper()}")

    import logging

    from assistant.app import create_app, launch

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if settings.host not in ("127.0.0.1", "localhost", "::1"):
        typer.echo(f"warning: listening on {settings.host}: other machines on the network can reach the app", err=True)
    typer.echo(f"loading the assistant ({settings.backend}) ...", err=True)
    demo, service = create_app(settings)
    status = service.status()
    if status.problem:
        typer.echo(f"warning: {status.problem}", err=True)
    typer.echo(f"backend {status.backend}: {status.model}", err=True)
    launch(demo, settings, share=share)
