"""`resolution-qa chat`: serve the Gradio chat app (loopback by default)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from resolution_qa.core.backends import backend_names

from .app import app, settings_with

if TYPE_CHECKING:
    from resolution_qa.web.service import ChatService


@app.command()
def chat(
    host: str | None = typer.Option(None, help="Address to listen on (default: RESOLUTION_QA_HOST, 127.0.0.1)."),
    port: int | None = typer.Option(None, help="Port (default: RESOLUTION_QA_PORT, 7860)."),
    backend: str | None = typer.Option(
        None, help=f"{', '.join(backend_names())} (default: RESOLUTION_QA_BACKEND)."
    ),
    share: bool = typer.Option(
        False, "--share", help="Also open a public gradio.live link (needs internet and a login; off unless asked)."
    ),
) -> None:
    """Open the chat app: streamed answers with clickable citations, and the resolution's full text."""
    overrides: dict[str, object] = {}
    if host is not None:
        overrides["host"] = host
    if port is not None:
        overrides["port"] = port
    if backend is not None:
        overrides["backend"] = backend
    settings = settings_with(overrides)

    import logging

    from resolution_qa.web.app import create_app, launch
    from resolution_qa.web.security import LOOPBACK, login_of

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    login = login_of(settings.web, share=share)  # before loading models: a half-set login or an open public app fails
    if settings.web.host not in LOOPBACK:
        guarded = "behind a login" if login else "WITHOUT a login"
        typer.echo(f"warning: listening on {settings.web.host} {guarded}: other machines on the network can reach the app",
                   err=True)
    if login:
        typer.echo("login required (RESOLUTION_QA_AUTH_USER / RESOLUTION_QA_AUTH_PASSWORD)", err=True)
    typer.echo(f"loading the assistant ({settings.backend}) ...", err=True)
    demo, service = create_app(settings)
    status = service.status()
    if status.problem:
        typer.echo(f"warning: {status.problem}", err=True)
    typer.echo(f"backend {status.backend}: {status.model}", err=True)
    _warm_in_background(service)
    launch(demo, settings, share=share)


def _warm_in_background(service: ChatService) -> None:
    """Read every unit once with the model while the app serves (a newcomer's first question is then answered as
    fast as the tenth; questions go first, one passage at a time); progress on the console."""
    import threading

    def progress(done: int, total: int) -> None:
        if done == total or done % 25 == 0:
            typer.echo(f"reading the resolution ahead of questions: {done}/{total} passages", err=True)

    threading.Thread(target=service.warm, args=(progress,), name="warm", daemon=True).start()
