"""The unit a reference names in a document, and whether a question says more than its references."""

from __future__ import annotations

import re

from resolution_qa.core.errors import ReferenceOutOfRangeError
from resolution_qa.core.refs import PREFIX, Reference, strip_resolution_names
from resolution_qa.core.strings import ui_text
from resolution_qa.ingest.units import Document, Unit

# Words that ask for a unit without saying anything about its content ("Que dit le par. 27 ?").
_ASKING = frozenset(
    {
        "que", "qu", "quoi", "dit", "disent", "dire", "contient", "contenu", "resume", "resumer", "resumez", "cite",
        "citer", "texte", "paragraphe", "paragraphes", "par", "alinea", "alineas", "note", "notes", "preambule",
        "dispositif", "lire", "montre", "montrer", "donne", "donner", "resolution", "resolutions", "what", "say",
        "says", "said", "does", "summarize", "summarise", "summary", "show", "quote", "text", "paragraph",
        "paragraphs", "para", "footnote", "footnotes", "preamble", "preambular", "operative", "read", "give", "tell",
        "content", "contents", "mean", "means", "exactly", "please", "merci", "stp", "svp"
    }
)


def has_topic(question: str, references: list[Reference]) -> bool:
    """Whether a question says something beyond its references ("par. 2 on land" does; "Que dit le par. 2 ?" does not)."""
    from .lexical import _stopwords, fold

    text = question
    for reference in references:
        text = text.replace(reference.text, " ")
    text = strip_resolution_names(text)
    stop = set(_stopwords())
    words = re.findall(r"[^\W\d_]{3,}", fold(text))
    return any(w not in stop and w not in _ASKING for w in words)


def resolve(reference: Reference, document: Document) -> Unit:
    """The unit a reference names in this document; ReferenceOutOfRangeError when it has no such unit."""
    if reference.kind == "header":
        unit = document.get("header")
        if unit is None:
            raise ReferenceOutOfRangeError(
                f"{document.symbol} has no header", kind="header", number=0, maximum=0, docs=(document.symbol,)
            )
        return unit
    units = document.of_kind(reference.kind)
    numbers = [u.number for u in units if u.number is not None]
    maximum = max(numbers, default=0)
    plural, singular = ui_text("en").kinds[reference.kind]
    number = maximum if reference.last else reference.number
    unit = document.get(f"{PREFIX[reference.kind]}{number}") if number else None
    if unit is None:
        shown = "the last one" if reference.last else f"{singular} {number}"
        raise ReferenceOutOfRangeError(
            f"{document.symbol} has {len(units)} {plural}; there is no {shown}",
            kind=reference.kind,
            number=number or 0,
            maximum=maximum,
            docs=(document.symbol,),
        )
    return unit
