"""Rewrite a follow-up into a standalone question, resolving "le paragraphe suivant", "that footnote" and the like."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from resolution_qa.core.errors import ReferenceOutOfRangeError
from resolution_qa.core.refs import find_references
from resolution_qa.core.strings import ui_text
from resolution_qa.ingest.units import Document, Lang, Unit
from resolution_qa.vectorstore.references import resolve

from .types import Turn

# Relative references, with the step they take from the unit the conversation is about and the
# kind of unit they name ("same" = the kind of that unit).
_RELATIVE: tuple[tuple[str, int, str], ...] = (
    # French
    (r"\b(?:l[ae]|l')\s*(?:note|note de bas de page)\s+suivante\b", 1, "footnote"),
    (r"\b(?:l[ae]|l')\s*(?:note|note de bas de page)\s+précédente\b", -1, "footnote"),
    (r"\b(?:le|l')\s*(?:paragraphe|par\.|alinéa)\s+suivant\b|\b(?:le|la) suivante?\b|\bcelui d'après\b", 1, "same"),
    (r"\b(?:le|l')\s*(?:paragraphe|par\.|alinéa)\s+précédent\b|\b(?:le|la) précédente?\b|\bcelui d'avant\b", -1, "same"),
    (r"\b(?:cette|la même)\s+note\b", 0, "footnote"),
    (r"\b(?:ce|cet|le même)\s+(?:paragraphe|alinéa)\b", 0, "same"),
    # English
    (r"\bthe\s+(?:next|following)\s+(?:foot)?note\b", 1, "footnote"),
    (r"\bthe\s+(?:previous|preceding)\s+(?:foot)?note\b", -1, "footnote"),
    (r"\bthe\s+(?:next|following)\s+(?:preambular\s+|operative\s+)?(?:paragraph|para\.?|one)\b|\bthe one after(?: it| that)?\b",
     1, "same"),
    (r"\bthe\s+(?:previous|preceding)\s+(?:preambular\s+|operative\s+)?(?:paragraph|para\.?|one)\b"
     r"|\bthe one before(?: it| that)?\b", -1, "same"),
    (r"\b(?:that|this|the same|its)\s+(?:foot)?note\b", 0, "footnote"),
    (r"\b(?:that|this|the same)\s+(?:preambular\s+|operative\s+)?(?:paragraph|para\.?)\b", 0, "same"),
)
_RELATIVE_RE = tuple((re.compile(p, re.IGNORECASE), step, kind) for p, step, kind in _RELATIVE)

# A follow-up that points back with a pronoun or a demonstrative leans on the previous question: it is
# retrieved together with it. One that only opens with a connector ("And which paragraph asks for
# ...?") brings its own topic: the connector is dropped and the question stands alone.
_POINTER = re.compile(
    r"\b(?:il|elle|ils|elles|celui|celle|ceux|celles|cette|ces|ce|cet|"
    r"it|its|they|them|their|this|that|these|those|he|she|his|her)\b",
    re.IGNORECASE,
)
_CONNECTOR = re.compile(r"^\s*(?:et|mais|alors|aussi|puis|and|but|so|also)\b[\s,]*", re.IGNORECASE)
_SHORT_WORDS = 4

_CONTEXT_CHARS = 300


@dataclass(frozen=True)
class Rewrite:
    """The question to retrieve for, and how it was obtained."""

    standalone: str
    previous: str | None = None  # the previous question, when the follow-up was read together with it
    resolved: tuple[str, ...] = ()  # unit ids a relative reference was resolved to


def _anchor(turn: Turn, documents: Sequence[Document]) -> Unit | None:
    """The unit the previous turn was about: the unit it named, else the first unit its answer cited.

    A reference that names no resolution is read in the document the turn's answer cited (else the first).
    """
    by_symbol = {d.symbol: d for d in documents}
    cited = next((by_symbol[c.doc] for c in turn.citations if c.doc in by_symbol), documents[0])
    for reference in find_references(turn.standalone or turn.question):
        document = by_symbol.get(reference.doc) if reference.doc else cited
        if document is None:
            continue
        try:
            return resolve(reference, document)
        except ReferenceOutOfRangeError:
            continue
    for citation in turn.citations:
        if (document := by_symbol.get(citation.doc)) is not None and (unit := document.get(citation.id)) is not None:
            return unit
    return None


def _target(anchor: Unit, step: int, kind: str, document: Document) -> Unit | None:
    if kind == "footnote" and anchor.kind != "footnote":
        if not anchor.footnotes:
            return None
        first = document.get(anchor.footnotes[0] if step >= 0 else anchor.footnotes[-1])
        if step == 0 or first is None:
            return first
        anchor = first
    if step == 0:
        return anchor
    return document.neighbour(anchor.id, step)


def rewrite(
    question: str,
    history: Sequence[Turn],
    document: Document,
    lang: Lang,
    *,
    documents: Sequence[Document] = (),
) -> Rewrite:
    """A standalone version of `question` given the previous turns (the last one matters).

    `documents` is the whole corpus when there are several resolutions (`document` first among them): a
    relative reference is then resolved in the resolution the last turn was about, and the rewritten
    question names it ("Que dit le par. 3 de la résolution A/RES/75/902 ?").
    """
    if not history:
        return Rewrite(standalone=question)
    corpus = list(documents) or [document]
    by_symbol = {d.symbol: d for d in corpus}
    last = history[-1]
    for pattern, step, kind in _RELATIVE_RE:
        match = pattern.search(question)
        if match is None:
            continue
        anchor = _anchor(last, corpus)
        target = _target(anchor, step, kind, by_symbol.get(anchor.doc, document)) if anchor is not None else None
        if target is None:
            break
        label = _with_article(target, lang)
        if len(corpus) > 1:
            label += f" de la résolution {target.doc}" if lang == "fr" else f" of resolution {target.doc}"
        rest = (question[: match.start()] + question[match.end() :]).strip(" ,;?!.")
        if len(re.findall(r"\w+", rest)) <= 2:  # "Et le paragraphe suivant ?" -> "Que dit le par. 40 ?"
            standalone = ui_text(lang).what_does.format(label=label)
        else:
            standalone = question[: match.start()] + label + question[match.end() :]
        return Rewrite(standalone=standalone, resolved=(target.id,))
    if _POINTER.search(_CONNECTOR.sub("", question)) or len(re.findall(r"\w+", question)) <= _SHORT_WORDS:
        previous = (last.standalone or last.question)[-_CONTEXT_CHARS:]
        return Rewrite(standalone=f"{previous} {question}", previous=last.question)
    own = _CONNECTOR.sub("", question)
    return Rewrite(standalone=own[:1].upper() + own[1:] if own else question)


def _with_article(unit: Unit, lang: Lang) -> str:
    """The unit's label as it reads inside a sentence: "le par. 40", "la note 17", "the 3rd preambular paragraph"."""
    label = unit.label(lang)
    if lang == "fr":
        return ("la " if unit.kind == "footnote" else "le ") + label
    return "the " + label if unit.kind in ("preambular", "header") else label
