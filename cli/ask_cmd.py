"""`resolution-qa ask`: answer questions (one conversation, or a JSONL batch of conversations) with citations."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from resolution_qa.core.backends import backend_names
from resolution_qa.core.errors import ResolutionQAError
from resolution_qa.core.inputs import BATCH, check_text, json_line, read_text
from resolution_qa.core.refs import Lang, parse_unit_id, unit_label
from resolution_qa.core.strings import ui_text

from .app import OutputFormat, app, fail

if TYPE_CHECKING:
    from resolution_qa.assistant import Answer, Answerer, Assistant
    from resolution_qa.assistant.types import Citation
    from resolution_qa.core.settings import Settings


#: The registered answer backends (core.backends reads them without importing any).
BackendChoice = StrEnum("BackendChoice", {name: name for name in backend_names()})  # type: ignore[misc]


def build_assistant(settings: Settings) -> Assistant:
    """The assistant the command uses (tests replace this to run on fakes)."""
    from resolution_qa.assistant import Assistant

    return Assistant(settings)


def _print_text(answer: Answer) -> None:
    typer.echo(f"Q: {answer.question}")
    typer.echo(answer.text)
    _print_after_text(answer)


def _print_after_text(answer: Answer) -> None:
    """What follows an answer's text: its citations, footnotes, closest passages and timings."""
    if answer.citations:
        ui = ui_text(answer.language)
        typer.echo(ui.citations + ui.colon)
        for c in answer.citations:
            typer.echo(f"  [{c.formal}] {c.text}")
            if c.source:
                typer.echo(f"      = {c.source}")
        for note in answer.footnotes:
            typer.echo(f"  ({note.label}) {note.source or note.text}")
    if answer.suggestions:
        ui = ui_text(answer.language)
        typer.echo(ui.closest_title + ui.colon)
        for c in answer.suggestions:
            typer.echo(f"  [{c.formal}] {c.text[:200]}{'…' if len(c.text) > 200 else ''}")
    t = answer.timings
    first = f"{t.first_token:.1f} s to first token, " if t.first_token is not None else ""
    typer.echo(f"({answer.backend}; retrieval {t.retrieval:.2f} s, {first}{t.total:.1f} s total)")
    typer.echo("")


def _emit(answer: Answer, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(answer.record(brief=True), ensure_ascii=False))
    else:
        _print_text(answer)


def _label_lang(citations: tuple[Citation, ...]) -> Lang:
    """The language the passages are labelled in ("par. 27": fr, "para. 27": en), for the words around them."""
    for citation in citations:
        try:
            kind, number = parse_unit_id(citation.id)
        except ValueError:  # OP1_27: the 27th paragraph numbered 1
            continue
        for lang in ("fr", "en"):
            if citation.label.endswith(unit_label(kind, number, lang)):
                return lang
    return "fr"


def _stream_text(assistant: Answerer, question: str, history: list[Answer], docs: list[str] | None) -> Answer:
    """One turn in text mode: the question, the passages found as soon as retrieval is done ("Sources : par. 27,
    par. 26, note 17"), the answer as it is written, then its citations."""
    from resolution_qa.assistant.types import Answer, Sources

    typer.echo(f"Q: {question}")
    written = ""
    answer: Answer | None = None
    for item in assistant.stream(question, history, docs=docs or None):
        if isinstance(item, Sources):
            if item.citations:
                ui = ui_text(_label_lang(item.citations))
                typer.echo(f"{ui.sources}{ui.colon} {', '.join(c.label for c in item.citations)}")
        elif isinstance(item, str):
            typer.echo(item, nl=False)  # click flushes: each piece shows as it comes
            written += item
        elif isinstance(item, Answer):
            answer = item
    assert answer is not None, "Assistant.stream() ends with the Answer"
    if not written.strip():
        typer.echo(answer.text, nl=False)
    typer.echo("")
    _print_after_text(answer)
    return answer


def _batch_turns(item: Any) -> list[str]:
    if not isinstance(item, dict) or "turns" not in item:
        raise ValueError('expected an object with "turns": ["question", ...]')
    turns = item["turns"]
    if not isinstance(turns, list) or not turns or not all(isinstance(t, str) for t in turns):
        raise ValueError('"turns" must be a non-empty list of strings')
    return [check_text(t, "a turn") for t in turns]


def _run_batch(assistant: Answerer, lines: list[str], as_json: bool, docs: list[str] | None = None) -> None:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        record: dict[str, Any]
        item: Any = None
        try:
            item = json_line(line)  # parsed once, inside the handler: a line nested 100,000 deep is one bad line
            turns = _batch_turns(item)
            history: list[Answer] = []
            for question in turns:
                history.append(_ask(assistant, question, history, docs))
            record = history[-1].record(brief=True)
        except Exception as exc:  # one bad line must not stop a batch run
            record = {"line": number, "error": str(exc) or type(exc).__name__}
        item_id = item.get("id") if isinstance(item, dict) else None
        if item_id is not None:
            record = {"id": item_id, **record}
        if as_json:
            typer.echo(json.dumps(record, ensure_ascii=False))
        elif "error" in record:
            typer.echo(f"line {number}: error: {record['error']}\n")
        else:
            _print_text(history[-1])


def _ask(assistant: Answerer, question: str, history: list[Answer], docs: list[str] | None) -> Answer:
    return assistant.ask(question, history, docs=docs or None)


@app.command()
def ask(
    questions: list[str] = typer.Argument(None, help="Questions, asked in order as one conversation."),
    batch: Path | None = typer.Option(
        None, "--batch", help='JSONL file; each line {"turns": [...]} is its own conversation (last turn printed).'
    ),
    backend: BackendChoice | None = typer.Option(None, "--backend", "-b", help="Override the configured backend."),
    format: OutputFormat = typer.Option(OutputFormat.text, "--format", "-f", help="text, or json (one object per line)."),
    doc: list[str] = typer.Option(
        None, "--doc", "-d", help="Answer from this indexed resolution only (e.g. A/RES/75/158 or 75/158); repeatable."
    ),
) -> None:
    """Answer questions about the resolution(s), in the question's language, citing their paragraphs."""
    from resolution_qa.core.settings import Settings

    if not questions and batch is None:
        fail('give one or more questions, or --batch FILE (e.g. resolution-qa ask "Que dit le paragraphe 27 ?")')
    if questions and batch is not None:
        fail("give questions or --batch FILE, not both")
    try:
        # Read and checked before any model loads: a FIFO, a device, UTF-16 or a 5 GB file fail at once.
        lines = read_text(batch, BATCH).splitlines() if batch is not None else []
        for question in questions or []:
            check_text(question)
    except ResolutionQAError as exc:
        fail(str(exc))
    settings = Settings()
    if backend is not None:
        settings = settings.with_backend(backend.value)
    as_json = format is not OutputFormat.text
    assistant = build_assistant(settings)
    docs = list(doc or [])
    if docs:
        try:
            assistant.retriever.selected(docs)  # an unknown symbol fails before the first question
        except ResolutionQAError as exc:
            fail(str(exc))
    if batch is not None:
        _run_batch(assistant, lines, as_json, docs)
        return
    history: list[Answer] = []
    for question in questions:
        try:
            if as_json:
                answer = _ask(assistant, question, history, docs)
                _emit(answer, as_json)
            else:
                answer = _stream_text(assistant, question, history, docs)
        except ResolutionQAError as exc:
            fail(str(exc))
        history.append(answer)


@app.command()
def documents(
    format: OutputFormat = typer.Option(OutputFormat.text, "--format", "-f", help="text, or json (one object per line)."),
) -> None:
    """List the indexed resolutions (symbol, language, title, units): the symbols `--doc` accepts."""
    from resolution_qa.core.settings import Settings
    from resolution_qa.vectorstore import open_retriever

    retriever = open_retriever(Settings())
    for document in retriever.documents:
        counts = {k: document.count(k) for k in ("preambular", "operative", "footnote")}
        if format is OutputFormat.text:
            typer.echo(f"{document.symbol}  ({document.lang}) {document.title}  [{counts['preambular']} preambular, "
                       f"{counts['operative']} operative, {counts['footnote']} footnotes]")
        else:
            typer.echo(json.dumps({"symbol": document.symbol, "lang": document.lang, "title": document.title,
                                   **counts}, ensure_ascii=False))
