"""Rendering a whole resolution: the units whose source changed since their rendering was kept, one at a time."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from resolution_qa.core.errors import InputFileError
from resolution_qa.ingest.units import Document, Unit

from .model import Generator
from .render import DEFAULT_SPECS, Scorer, Spec, by_rules, render_unit
from .store import Rendering, RenderingStore, content_hash
from .terms import glossary


@dataclass
class Summary:
    """What a run did: units rendered now, kept from before, skipped (an official version exists), flagged."""

    done: list[Rendering] = field(default_factory=list)
    kept: int = 0
    official: int = 0
    flagged: list[Rendering] = field(default_factory=list)


def select(document: Document, ids: Sequence[str] | None) -> list[Unit]:
    """The document's units, or those named (OP27, PP3, fn1, header); an unknown id is one line naming the known."""
    if not ids:
        return list(document.units)
    unknown = [i for i in ids if document.get(i) is None]
    if unknown:
        known = ", ".join(u.id for u in document.units[:4])
        raise InputFileError(f"{document.symbol} has no unit {', '.join(unknown)}; units are named like {known}")
    return [u for i in ids if (u := document.get(i)) is not None]


def translate_document(
    document: Document,
    generator: Generator,
    store: RenderingStore,
    *,
    lang: str = "en",
    ids: Sequence[str] | None = None,
    specs: Sequence[Spec] = DEFAULT_SPECS,
    scorer: Scorer | None = None,
    min_candidates: int | None = None,
    retry_flagged: bool = False,
    progress: Callable[[Unit, Rendering | None], None] | None = None,
) -> Summary:
    """Render every unit of `document` (or those of `ids`) into `lang` that has no kept rendering of its current
    text; each is appended to the store as it finishes, so a run can be stopped and resumed. `retry_flagged`:
    flagged renderings are tried again with the other candidates (not the greedy one, already written), and the
    new one is kept when it has fewer reasons."""
    if document.lang == lang:
        raise InputFileError(f"{document.symbol} is already in {lang}; nothing to translate")
    if lang != "en":
        raise InputFileError(f"only French into English is supported (asked: {document.lang} into {lang})")
    terms = glossary()
    summary = Summary()
    for unit in select(document, ids):
        record: Rendering | None = None
        if unit.lang_of(lang) == lang:  # an official version in that language is indexed: no rendering needed
            summary.official += 1
        elif (record := store.get(unit.key, content_hash(unit))) is not None and not (
            retry_flagged and record.status == "flagged" and record.model not in ("rules", "none")
        ):
            summary.kept += 1
        elif record is not None:
            record = _retry(unit, record, generator, specs, scorer, store, summary)
        else:
            record = render_unit(unit, generator, specs=specs, scorer=scorer, terms=terms, min_candidates=min_candidates)
            store.append(record)
            summary.done.append(record)
        if record is not None and record.status == "flagged":
            summary.flagged.append(record)
        if progress is not None:
            progress(unit, record)
    if not ids:
        store.rewrite(u.key for u in document.units)
    return summary


def flag_missing(document: Document, store: RenderingStore, reason: str, *, lang: str = "en") -> list[Rendering]:
    """Give each unit that has no rendering of its current text an empty, flagged one saying why (a run stopped for
    lack of time): readers are then shown the original, and every unit has a rendering or a flag. Bare-reference
    footnotes are rendered by rules instead."""
    added = []
    for unit in document.units:
        if unit.lang_of(lang) == lang or store.get(unit.key, content_hash(unit)) is not None:
            continue
        if unit.kind in ("footnote", "header") and by_rules(unit.text) is not None:
            record = render_unit(unit, _NoModel())  # a bare reference needs no model
            store.append(record)
            added.append(record)
            continue
        record = Rendering(id=unit.id, key=unit.key, hash=content_hash(unit), lang="en", source_lang=unit.lang,
                           text="", status="flagged", reasons=(f"not translated: {reason}",), model="none",
                           candidates=0)
        store.append(record)
        added.append(record)
    store.rewrite(u.key for u in document.units)
    return added


class _NoModel:
    """The generator of a run that must not write: units reaching it are a bug."""

    name = "none"

    def generate(self, messages, *, temperature, seed, max_tokens):  # type: ignore[no-untyped-def]
        raise AssertionError("no model may be used here")


def _retry(
    unit: Unit, old: Rendering, generator: Generator, specs: Sequence[Spec], scorer: Scorer | None,
    store: RenderingStore, summary: Summary,
) -> Rendering:
    others = [s for s in specs if not (s.temperature == 0 and not s.substitute)] or list(specs)
    new = render_unit(unit, generator, specs=others, scorer=scorer, min_candidates=1)
    if len(new.reasons) >= len(old.reasons):
        summary.kept += 1
        return old
    store.append(new)
    summary.done.append(new)
    return new


def recheck(document: Document, store: RenderingStore) -> list[Rendering]:
    """Check each kept model-written rendering again, whole, with today's checks and spelling (render.un_spelling);
    its status and reasons become today's (a check made stricter after it was written: `--retry-flagged` then tries
    it again). Returns the records that changed."""
    from .checks import check
    from .render import un_spelling

    changed = []
    for unit in document.units:
        record = store.get(unit.key, content_hash(unit))
        if record is None or record.model in ("rules", "none"):
            continue
        text = un_spelling(record.text)
        verdict = check(unit.text, text)
        status = "ok" if verdict.ok else "flagged"
        reasons = tuple(f"whole unit: {r}" for r in verdict.reasons)
        if record.status == "flagged" and status == "flagged" and text == record.text:
            continue  # still failing: its own (per piece) reasons stay
        if (text, status) != (record.text, record.status):
            new = record.model_copy(update={"text": text, "status": status, "reasons": reasons})
            store.append(new)
            changed.append(new)
    return changed

