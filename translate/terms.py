"""The glossary of established English terms (translate/data/glossary.tsv) and the opening phrases written in code.

The 1.5B model translates this genre's fixed names badly on its own (MODELS.md: "Engage instamment" became "Engage
immediately"; "recours effectif" became "fair trial"). Each piece is given the entries it contains, and a candidate
that does not use them fails a check.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA = Path(__file__).parent / "data"
GLOSSARY_PATH = DATA / "glossary.tsv"
PHRASES_PATH = DATA / "phrases.tsv"


@dataclass(frozen=True)
class Entry:
    """One glossary line: the French form as the text writes it, its established English form."""

    fr: str
    en: str


@dataclass(frozen=True)
class Found:
    """An entry found in a text, and where (in the text's characters)."""

    entry: Entry
    start: int
    end: int


def fold(text: str) -> str:
    """Lower case, no accents, one kind of apostrophe and hyphen, single spaces: what matching compares. Each
    character maps to one, so positions in the folded text are positions in the original."""
    out = []
    for ch in text:
        base = unicodedata.normalize("NFKD", ch)
        base = "".join(c for c in base if not unicodedata.combining(c)) or ch
        base = base[0] if base else ch
        base = {"’": "'", "‘": "'", "‐": "-", "‑": "-", "–": "-", "\u00a0": " ", "\u202f": " ", "\n": " ",
                "\t": " ", "œ": "o"}.get(ch, base)
        out.append(base.lower())
    return "".join(out)


def read_tsv(path: Path) -> tuple[Entry, ...]:
    """fr<TAB>en lines; '#' lines are comments; a header line "fr<TAB>en" is skipped."""
    entries = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
            raise ValueError(f"{path}:{number}: expected 'French<TAB>English', got {line!r}")
        if parts == ["fr", "en"]:
            continue
        entries.append(Entry(parts[0].strip(), parts[1].strip()))
    return tuple(entries)


class Glossary:
    """Entries matched in a text longest first, without overlap (the full Protocol's name, not "traite des personnes"
    inside it)."""

    def __init__(self, entries: tuple[Entry, ...]) -> None:
        self.entries = entries
        ordered = sorted(entries, key=lambda e: -len(e.fr))
        self._patterns = [(re.compile(rf"(?<![\w-]){_pattern(fold(e.fr))}(?![\w-])"), e) for e in ordered]

    def find(self, text: str) -> list[Found]:
        folded = fold(text)
        found: list[Found] = []
        for pattern, entry in self._patterns:
            for m in pattern.finditer(folded):
                if not any(m.start() < f.end and f.start < m.end() for f in found):
                    found.append(Found(entry, m.start(), m.end()))
        return sorted(found, key=lambda f: f.start)

    def entries_in(self, text: str) -> list[Entry]:
        """The entries found in a text, in order, each once."""
        return list(dict.fromkeys(f.entry for f in self.find(text)))

    def missing_in(self, source: str, english: str) -> list[Entry]:
        """The entries of `source` whose English form `english` does not use."""
        have = _loose(english)
        return [e for e in self.entries_in(source) if _loose(e.en) not in have]


def _pattern(folded: str) -> str:
    # spaces and hyphens in a name vary with line breaks; an apostrophe may be followed by a space
    return r"[\s\-]+".join(re.escape(part) for part in re.split(r"[\s\-]+", folded))


def _loose(text: str) -> str:
    """Folded, punctuation as spaces, each word without a plural s: "Member State's" ~ "member states"."""
    words = re.findall(r"[a-z0-9]+", fold(text))
    return " " + " ".join(_singular(w) for w in words) + " "


def _singular(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    return word[:-1] if len(word) > 3 and word.endswith("s") else word


def uses(english: str, term: str) -> bool:
    """Whether an English text uses a term (case, accents, hyphens and plural s aside)."""
    return _loose(term) in _loose(english)


@cache
def glossary() -> Glossary:
    return Glossary(read_tsv(GLOSSARY_PATH))


@cache
def phrases() -> tuple[Entry, ...]:
    return read_tsv(PHRASES_PATH)


# Adverbs inside an opening phrase: "Prend également note", "Engage instamment de même", "Invite en outre".
_ADVERBS: tuple[tuple[str, str], ...] = (("en outre", "Further"), ("également", "Also"), ("de même", "Also"),
                                          ("aussi", "Also"), ("de nouveau", "Again"))


def english_opening(phrase: str) -> str | None:
    """The English of an opening phrase: "Prend également note avec satisfaction" -> "Also takes note with
    appreciation"; "Engage instamment en outre" -> "Further urges"; None when the table lacks it."""
    exact = next((p.en for p in phrases() if fold(p.fr) == fold(phrase).strip()), None)
    if exact is not None:
        return exact
    bare, adverb = f" {fold(phrase).strip()} ", None
    for fr, en in _ADVERBS:
        if f" {fold(fr)} " in bare:
            bare, adverb = bare.replace(f" {fold(fr)} ", " "), en
    bare = re.sub(r"\s+", " ", bare).strip()
    english = next((p.en for p in phrases() if fold(p.fr) == bare), None)
    if english is None or adverb is None:
        return english
    return f"{adverb} {english[0].lower()}{english[1:]}"


def opening_of(text: str) -> tuple[str, str] | None:
    """The opening phrase a paragraph starts with (the longest in the table), as (French as written, English):
    "Consciente également que ..." -> ("Consciente également", "Also aware")."""
    folded = fold(text)
    best: tuple[str, str] | None = None
    for p in phrases():
        stem = fold(p.fr)
        m = re.match(rf"{re.escape(stem)}(?P<adv>(?:\s+(?:{'|'.join(re.escape(fold(a)) for a, _ in _ADVERBS)}))?)(?![\w-])",
                     folded)
        if m and (best is None or m.end() > len(best[0])):
            written = text[: m.end()]
            english = english_opening(written)
            if english:
                best = (written, english)
    return best
