"""`resolution-qa show SYMBOL`: every unit of a resolution in one language, official or unofficial translation."""

from __future__ import annotations

import json
from enum import StrEnum

import typer

from .app import app


class ShowLang(StrEnum):
    fr = "fr"
    en = "en"


class ShowFormat(StrEnum):
    text = "text"
    jsonl = "jsonl"


def rows(document, lang: str, index_dir) -> list[dict]:  # type: ignore[no-untyped-def]
    """One row per unit: its text in `lang` when an official version or a kept rendering has it, else the
    original with a note."""
    from resolution_qa.translate.store import content_hash, rendering_of

    out = []
    for unit in document.units:
        row = {"id": unit.id, "label": unit.label(lang), "lang": lang}  # type: ignore[arg-type]
        if unit.lang_of(lang) == lang:
            row |= {"text": unit.text_in(lang), "status": "official"}  # type: ignore[arg-type]
        elif (found := rendering_of(unit.key, content_hash(unit), lang, index_dir)) is not None and not found.text:  # type: ignore[arg-type]
            row |= {"text": unit.text, "lang": unit.lang, "status": f"official ({unit.lang}); not translated",
                    "reasons": list(found.reasons), "original": unit.text, "original_lang": unit.lang}
        elif found is not None:
            row |= {"text": found.text, "status": "unofficial translation", "checks": found.status}
            if found.status == "flagged":
                row |= {"reasons": list(found.reasons), "original": unit.text, "original_lang": unit.lang}
        else:
            row |= {"text": unit.text, "lang": unit.lang, "status": f"official ({unit.lang}); no {lang} rendering yet"}
        out.append(row)
    return out


@app.command()
def show(
    symbol: str = typer.Argument(..., help="Resolution symbol, e.g. A/RES/75/158."),
    lang: ShowLang = typer.Option(ShowLang.fr, "--lang", help="fr or en."),
    format: ShowFormat = typer.Option(ShowFormat.text, "--format", "-f", help="text or jsonl."),
) -> None:
    """Print every unit (id, label, text in that language) and whether the text is official or an unofficial
    translation (`resolution-qa translate` makes the English renderings)."""
    from resolution_qa.core.settings import Settings

    from .translate_cmd import load_documents

    settings = Settings()
    (document,) = load_documents(settings, symbol)
    table = rows(document, lang.value, settings.store.index_dir)
    if format is ShowFormat.jsonl:
        for row in table:
            typer.echo(json.dumps(row, ensure_ascii=False))
        return
    missing = sum(1 for r in table if "rendering yet" in r["status"])
    if missing:
        typer.echo(f"note: {missing} units have no {lang.value} rendering; run `resolution-qa translate {symbol}`",
                   err=True)
    for row in table:
        typer.echo(f"{row['id']} · {row['label']} · {row['status']}")
        typer.echo(row["text"])
        if row.get("reasons"):
            typer.echo(f"  (flagged: {'; '.join(row['reasons'])})")
            typer.echo(f"  {row['original_lang']}: {row['original']}")
        typer.echo("")
