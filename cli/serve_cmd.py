"""`resolution-qa serve`: the assistant as an OpenAI-compatible API (loopback by default, the chat app's login)."""

from __future__ import annotations

import typer

from resolution_qa.core.backends import backend_names

from .app import app, settings_with


@app.command()
def serve(
    host: str | None = typer.Option(None, help="Address to listen on (default: RESOLUTION_QA_HOST, 127.0.0.1)."),
    port: int | None = typer.Option(None, help="Port (default: RESOLUTION_QA_SERVE_PORT, 7861)."),
    backend: str | None = typer.Option(
        None, help=f"{', '.join(backend_names())} (default: RESOLUTION_QA_BACKEND); extractive is always served too."
    ),
) -> None:
    """Serve the assistant as an OpenAI-compatible API (POST /v1/chat/completions, GET /v1/models).

    Any OpenAI client: base_url http://127.0.0.1:7861/v1, api_key the chat app's password (anything without a login), model resolution-qa-<backend>. Citations are in the answer text and, structured, in its extra "citations" field.
    """
    overrides: dict[str, object] = {}
    if host is not None:
        overrides["host"] = host
    if port is not None:
        overrides["serve_port"] = port
    if backend is not None:
        overrides["backend"] = backend
    settings = settings_with(overrides, {"serve_port": "port"})

    import logging

    from resolution_qa.web.openai_api import ApiServer, create_api
    from resolution_qa.web.security import LOOPBACK, login_of

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    login = login_of(settings.web)  # before loading models: a half-set login or an open public API fails now
    if settings.web.host not in LOOPBACK:
        guarded = "behind a login" if login else "WITHOUT a login"
        typer.echo(f"warning: listening on {settings.web.host} {guarded}: other machines on the network can reach "
                   "the API", err=True)
    if login:
        typer.echo("login required: the API key is RESOLUTION_QA_AUTH_PASSWORD (or basic auth with the user)", err=True)
    typer.echo(f"loading the assistant ({settings.backend}) ...", err=True)
    api, service = create_api(settings)
    server = ApiServer(api, settings)  # binds now: a port in use is a one-line error before serving
    status = service.primary.status()
    if status.problem:
        typer.echo(f"warning: {status.problem}", err=True)
    typer.echo(f"backend {status.backend}: {status.model}", err=True)
    typer.echo(f"models: {', '.join(m.id for m in service.models())}", err=True)
    typer.echo(f"OpenAI-compatible API on {server.url}  (Ctrl+C to stop)", err=False)
    server.serve()
