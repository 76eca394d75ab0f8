"""Take instructions aimed at the assistant out of a question before it is retrieved for and answered."""

from __future__ import annotations

import re

from .citations import split_sentences

# Sentences that talk to the assistant about its rules rather than ask about the resolution. They are
# dropped from what is retrieved and shown to the model; the rules hold either way (the prompt treats
# the question as data, and citations are validated after generation).
_INSTRUCTION = re.compile(
    r"\b(?:ignore[sz]?|oublie[sz]?|disregard|forget|contourne[sz]?|bypass|override)\b.{0,60}"
    r"\b(?:instructions?|r[èe]gles?|rules?|consignes?|prompt|directives?|guidelines?)\b"
    r"|\b(?:affiche[sz]?|montre[sz]?|r[ée]v[èe]le[sz]?|donne[sz]?|print|show|reveal|display|repeat|r[ée]p[èe]te[sz]?|"
    r"output|write|[ée]cri[st])\b.{0,40}\b(?:prompt|instructions?|consignes?|r[èe]gles?|rules?)\b"
    r"|\b(?:system prompt|prompt syst[èe]me|you are now|tu es maintenant|vous [êe]tes maintenant|act as|agis comme|"
    r"jailbreak|developer mode|mode d[ée]veloppeur)\b",
    re.IGNORECASE,
)
# What is left of a sentence that only introduced the real question ("Ensuite :", "Then:").
_CONNECTOR = re.compile(r"^\s*(?:ensuite|puis|apr[èe]s|then|next|after that|and|et)\s*[:,]\s*", re.IGNORECASE)


def without_instructions(question: str) -> str:
    """The question without its sentences addressed to the assistant; unchanged if nothing else is left."""
    sentences = split_sentences(question)
    kept = [s for s in sentences if not _INSTRUCTION.search(s)]
    if not kept or len(kept) == len(sentences):
        return question
    text = _CONNECTOR.sub("", " ".join(kept)).strip()
    return text[:1].upper() + text[1:] if text else question
