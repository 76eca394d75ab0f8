"""`resolution-qa warm`: read every unit once with the model and keep its state, so no question waits for it."""

from __future__ import annotations

import typer

from .app import app, settings_with


@app.command()
def warm() -> None:
    """Compute the model's state for every unit, in French and English (kept on disk; done once, then skipped)."""
    settings = settings_with({})
    from tqdm import tqdm

    from resolution_qa.assistant import Assistant

    assistant = Assistant(settings)
    bar = tqdm(total=0, unit="passage", desc="reading the resolution", disable=None)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    built = assistant.warm(progress)
    bar.close()
    typer.echo(f"{built} passage states computed ({settings.backend}); the others were kept from before")
