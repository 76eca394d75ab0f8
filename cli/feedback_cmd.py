"""`resolution-qa feedback export`: answers users marked in the chat app, as items of the evaluation question set.

A user's rating becomes a regression test (README "Feedback"; the item format is eval/data/README.md's):

- thumbs up on an answer: gold = the units it cited, in order; must = up to two groups, one per cited unit (the first
  two), each the rarest word (5+ letters, in at most a quarter of the resolution's units) that the answer shares with
  that unit's text, so an answer that still says the same thing from the same paragraphs passes;
- thumbs up on a refusal: an unanswerable item (the resolution does not address it);
- thumbs down with a comment that names paragraphs ("it should cite par. 28"): gold = those units (plus the answer's
  own citations when the comment says "also"/"aussi"), must = none: the item fails until the answer cites them;
- thumbs down with a comment that says the text does not address it ("not in the resolution"): an unanswerable item;
- a thumbs down without a comment, or whose comment names no paragraph, is skipped and listed: there is nothing
  to grade an answer against; add the paragraph to the comment, or write the item by hand.

Turns are the conversation's questions (the rated one last), lang is the answer's, the type is read from the item
(unanswerable, conversational, paragraph_ref/footnote, list for 3+ gold units, else lookup), the id is the
feedback's, the note says where the item came from.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from resolution_qa.core.strings import fold

from .app import app, fail

if TYPE_CHECKING:
    from resolution_qa.assistant.types import Answer
    from resolution_qa.ingest import Document
    from resolution_qa.web.feedback import FeedbackRecord

feedback_app = typer.Typer(help="Ratings of answers saved by the chat app: export them as evaluation items.",
                           no_args_is_help=True)
app.add_typer(feedback_app, name="feedback")

#: "It should cite par. 28 too": the comment adds to what the answer cited rather than replacing it.
_ALSO = re.compile(r"\b(?:aussi|également|en plus|also|too|as well|in addition)\b", re.IGNORECASE)
#: "Not in the resolution": the answer should have been a refusal.
_NOT_ADDRESSED = re.compile(
    r"\b(?:not in the (?:text|resolution)|(?:doesn't|does not|didn't|did not) (?:say|address|mention|cover)|"
    r"should have (?:refused|declined)|unanswerable|n'en parle pas|ne (?:dit|parle|traite|mentionne) pas|"
    r"pas dans (?:le texte|la résolution)|aurait dû refuser|hors du texte|hors sujet)\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"[^\W\d_]{5,}")
MUST_GROUPS = 2
RARE_SHARE = 0.25


def must_groups(answer: Answer, documents: dict[str, Document]) -> list[list[str]]:
    """Per cited unit (the first MUST_GROUPS), the rarest word the answer shares with it, as the answer writes it."""
    groups: list[list[str]] = []
    said = {fold(w): w.casefold() for w in _WORD.findall(answer.text)}
    for citation in answer.citations[:MUST_GROUPS]:
        document = documents.get(citation.doc)
        if document is None or not len(document):
            continue
        unit_words = {fold(w) for w in _WORD.findall(citation.text)}
        shared = [w for w in said if w in unit_words]
        folded_units = [fold(u.text) for u in document.units]
        rarity = {w: sum(1 for text in folded_units if w in text) for w in shared}
        common = RARE_SHARE * len(folded_units)
        ranked = sorted((w for w in shared if rarity[w] <= common), key=lambda w: (rarity[w], -len(w), w))
        chosen = next((w for w in ranked if [said[w]] not in groups), None)
        if chosen is not None:
            groups.append([said[chosen]])
    return groups


def _named_units(comment: str, document: Document) -> list[str]:
    from resolution_qa.core.refs import find_references

    found: list[str] = []
    for reference in find_references(comment):
        if reference.last or document.get(reference.unit_id) is None:
            continue
        found.append(reference.unit_id)
    return list(dict.fromkeys(found))


def _type_of(question: str, gold: Sequence[str], answerable: bool, conversational: bool) -> str:
    from resolution_qa.core.refs import find_references

    if not answerable:
        return "unanswerable"
    if conversational:
        return "conversational"
    references = find_references(question)
    if references:
        return "footnote" if all(r.kind == "footnote" for r in references) else "paragraph_ref"
    return "list" if len(gold) >= 3 else "lookup"


def to_item(record: FeedbackRecord, documents: dict[str, Document], default: Document) -> dict[str, Any] | str:
    """The evaluation item a rating makes, or why it makes none (one line)."""
    answer = record.parsed_answer()
    turns = [*(h.question for h in record.history), record.question]
    origin = f"from feedback {record.id} ({record.time}, backend {record.backend})"
    comment = " ".join(record.comment.split())
    document = next((documents[c.doc] for c in answer.citations if c.doc in documents), default)
    if record.rating == "up":
        if answer.refused:
            gold, must, answerable = [], [], False
            note = f"Thumbs up on a refusal {origin}: the resolution does not address this."
        elif answer.citations:
            gold = list(dict.fromkeys(c.id for c in answer.citations))
            must, answerable = must_groups(answer, documents), True
            note = f"Thumbs up {origin}; the answer cited {', '.join(c.formal for c in answer.citations)}."
        else:
            return f"{record.id}: a thumbs up on an answer that cites nothing; nothing to grade against"
    else:
        if not comment:
            return (f"{record.id}: a thumbs down without a comment; ask for (or write) the paragraph that answers, "
                    "then write the item by hand")
        named = _named_units(comment, document)
        if named:
            cited = [c.id for c in answer.citations] if _ALSO.search(comment) else []
            gold = list(dict.fromkeys([*cited, *named]))
            must, answerable = [], True
        elif _NOT_ADDRESSED.search(comment):
            gold, must, answerable = [], [], False
        else:
            return (f"{record.id}: the comment names no paragraph ({comment[:80]!r}); name the right one "
                    "(\"par. 28\") or write the item by hand")
        note = f"Thumbs down {origin}: “{comment[:300]}”."
    return {
        "id": record.id,
        "lang": answer.language,
        "turns": turns,
        "answerable": answerable,
        "gold": gold,
        "must": must,
        "type": _type_of(record.question, gold, answerable, len(turns) > 1),
        "note": note,
    }


def _documents() -> tuple[dict[str, Document], Document]:
    """The configured resolutions (RESOLUTION_QA_DOCUMENTS) and the bundled one, by symbol; the bundled one is the
    default for comments whose answer cites nothing."""
    from resolution_qa.core.settings import Settings
    from resolution_qa.ingest import expand_sources, parse_file

    bundled = parse_file()
    parsed = [parse_file(p) for p in expand_sources(Settings().documents)]
    found = {d.symbol: d for d in [*parsed, bundled]}
    return found, parsed[0] if parsed else bundled


def _gold_problem(item: dict[str, Any], record: FeedbackRecord, documents: dict[str, Document],
                  default: Document) -> str | None:
    """Why the item's gold ids would make `eval` refuse the set (a unit the indexed document does not have)."""
    answer = record.parsed_answer()
    cited_docs = [c.doc for c in answer.citations]
    unknown_docs = [d for d in cited_docs if d not in documents]
    if unknown_docs:
        return f"it cites {unknown_docs[0][:60]!r}, which is not an indexed document"
    document = next((documents[d] for d in cited_docs), default)
    missing = [g for g in item["gold"] if document.get(g) is None]
    if missing:
        return f"it cites {missing[0][:60]!r}, which {document.symbol} does not have"
    return None


def _export_line(record: FeedbackRecord, documents: dict[str, Document], default: Document) -> str:
    """The item's JSON line; a string of the form "skip: REASON" for a rating that makes no item; ValueError (and
    the errors pydantic and json raise) for a record that is bad."""
    from resolution_qa.eval.dataset import EvalItem

    made = to_item(record, documents, default)
    if isinstance(made, str):
        return "skip: " + made
    EvalItem.model_validate(made)  # the dataset's own check: an export is always a loadable question set
    if (problem := _gold_problem(made, record, documents, default)) is not None:
        raise ValueError(problem)
    line = json.dumps(made, ensure_ascii=False) + "\n"
    line.encode("utf-8")  # a lone surrogate read from a damaged file fails here, not in the middle of the write
    return line


def _why(exc: BaseException) -> str:
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error.get("loc", ()))
        return f"{where}: {error['msg']}" if where else str(error["msg"])
    if isinstance(exc, RecursionError):
        return "nested too deep"
    if isinstance(exc, UnicodeError):
        return "holds text that is not valid UTF-8"
    return " ".join(str(exc).split())[:200] or type(exc).__name__


def _check_out(out: Path, source: Path) -> None:
    """Refuse, before anything is read or written, an --out that is not a file to (re)write, or is the ratings."""
    import os

    from resolution_qa.core.errors import ResolutionQAError
    from resolution_qa.core.files import check_target

    try:
        check_target(out, what="--out")
    except ResolutionQAError as exc:
        fail(str(exc))
    try:
        same = out.exists() and os.path.samefile(out, source)
    except OSError:
        same = False
    if same:
        fail(f"--out {out} is the feedback file itself (--from); write the items to another file (nothing was written)")


@feedback_app.command("export")
def export(
    out: Path | None = typer.Option(None, "--out", "-o", help="JSONL file to write (default: standard output)."),
    source: Path | None = typer.Option(
        None, "--from", help="Feedback file (default: RESOLUTION_QA_FEEDBACK_PATH, else feedback.jsonl in the data folder)."
    ),
    rating: str | None = typer.Option(None, "--rating", help="Only 'up' or only 'down' ratings."),
) -> None:
    """Turn rated answers into evaluation items (eval/data/README.md): thumbs up = keep this answer, thumbs down with a
    comment naming the right paragraph = an item to fix. Run them with `resolution-qa eval --dataset FILE`.

    A bad line or record in the feedback file is skipped with a warning naming it; the others are exported."""
    from resolution_qa.core.errors import ResolutionQAError
    from resolution_qa.core.files import write_atomic
    from resolution_qa.core.settings import Settings
    from resolution_qa.web.feedback import FeedbackStore, feedback_path

    if rating not in (None, "up", "down"):
        fail(f"--rating {rating}: give up or down")
    path = source if source is not None else feedback_path(Settings())
    if not path.is_file():
        fail(f"no feedback file at {path}; rate answers in the chat app first (or pass --from FILE)")
    if out is not None:
        _check_out(out, path)
    try:
        everything, problems = FeedbackStore(path).scan()
    except ResolutionQAError as exc:
        fail(str(exc))
    if problems and not everything:  # not one line is a record: not a feedback file, or wholly damaged
        for problem in problems[:10]:
            typer.echo(f"warning: {problem}", err=True)
        fail(f"{path}: no feedback record could be read ({len(problems)} bad line(s)); is it the chat app's "
             "feedback file?")
    records = [r for r in everything if rating is None or r.rating == rating]
    documents, default = _documents()
    lines: list[str] = []
    skipped: list[str] = []
    for record in records:
        try:
            line = _export_line(record, documents, default)
        except (ValueError, TypeError, KeyError, RecursionError) as exc:  # ValidationError is a ValueError
            problems.append(f"{record.id[:60]}: not exported ({_why(exc)})")
            continue
        if line.startswith("skip: "):
            skipped.append(line[len("skip: "):])
        else:
            lines.append(line)
    for problem in problems:
        typer.echo(f"warning: {problem}", err=True)
    text = "".join(lines)
    try:
        if out is None:
            sys.stdout.write(text)
            sys.stdout.flush()
        else:
            write_atomic(out, text, what="--out")
    except ResolutionQAError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot write to standard output: {exc.strerror or exc}")
    bad = f"; {len(problems)} bad line(s) or record(s) skipped (warnings above)" if problems else ""
    typer.echo(f"{len(lines)} item(s) from {len(records)} rating(s) in {path}"
               + (f" written to {out}" if out is not None else "") + bad, err=True)
    for reason in skipped:
        typer.echo(f"skipped {reason}", err=True)
