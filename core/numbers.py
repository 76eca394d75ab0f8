"""The numeric values a French or English text states (digits, numbers written as words, ordinals), and their comparison.

"soixante-dix-septième", "seventy-seventh", "77e" and "77th" all state 77; "16 décembre 2020" states 16 and 2020
(and the month, by `months`). Word forms are generated with num2words, so both languages' spellings come from one
source instead of hand-written tables. Used to check a translation against its source, and an answer against the
passage it quotes.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from typing import Literal

Lang = Literal["fr", "en"]
Kind = Literal["digits", "word", "ordinal"]
LANGS: tuple[Lang, ...] = ("fr", "en")

#: Word forms generated for 0..WORDS_UP_TO (cardinal and ordinal); larger numbers are written in digits in this genre.
WORDS_UP_TO = 1000
#: Words that are a number only inside a longer number ("vingt et un", "one hundred"): alone they are articles or
#: pronouns ("un crime", "one of the"), and counting them would make every sentence disagree with its translation.
_NOT_ALONE = frozenset({"un", "une", "one", "et", "and"})

_DIGITS = re.compile(
    r"(?<![\d])"
    r"(?P<num>\d{1,3}(?:[\u00a0\u202f ]\d{3})+(?![\d])|\d{1,3}(?:,\d{3})+(?![\d])|\d+(?:[.,]\d+)?)"
    r"(?P<ord>\^?\{?(?:ère|ere|ème|eme|er|re|e|st|nd|rd|th)\}?(?![a-zà-ÿ]))?",
    re.IGNORECASE,
)
_WORD = re.compile(r"[a-zà-ÿœ]+", re.IGNORECASE)

_MONTHS: dict[Lang, tuple[str, ...]] = {
    "fr": ("janvier", "fevrier", "mars", "avril", "mai", "juin", "juillet", "aout", "septembre", "octobre", "novembre",
           "decembre"),
    "en": ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november",
           "december"),
}


@dataclass(frozen=True)
class Mention:
    """One number stated in a text: its value, how it is written and where."""

    value: int | float
    text: str
    start: int
    end: int
    kind: Kind


@dataclass(frozen=True)
class Comparison:
    """The values of a source and of a candidate (a translation, an answer): what one has that the other lacks."""

    missing: Counter[int | float] = field(default_factory=Counter)  # in the source, not in the candidate
    extra: Counter[int | float] = field(default_factory=Counter)  # in the candidate, not in the source

    @property
    def ok(self) -> bool:
        return not self.missing and not self.extra

    def describe(self) -> str:
        """"missing 77, 2020; extra 3" ("" when they agree)."""
        parts = []
        for name, values in (("missing", self.missing), ("extra", self.extra)):
            if values:
                parts.append(f"{name} " + ", ".join(_show(v) for v in sorted(values)))
        return "; ".join(parts)


def _show(value: int | float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _fold(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word.lower().replace("œ", "oe"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _key(words: list[str]) -> str:
    return " ".join(_fold(w) for w in words)


def _variants(form: str, lang: Lang) -> set[str]:
    """Spellings of one num2words form: hyphens or spaces between parts, "hundred and three" or "hundred three"."""
    words = re.split(r"[\s\-]+", form.strip())
    out = {_key(words)}
    if lang == "en" and "and" in words:
        out.add(_key([w for w in words if w != "and"]))
    if lang == "fr" and "et" in words:  # the 1990 spelling joins every part with hyphens: "vingt-et-un"
        out.add(_key(words))
    return out


@cache
def _forms(lang: Lang) -> tuple[dict[str, tuple[int, bool]], frozenset[str]]:
    """Every spelling of 0..WORDS_UP_TO in `lang` -> (value, is ordinal), and the words they are made of."""
    from num2words import num2words

    table: dict[str, tuple[int, bool]] = {}
    for n in range(WORDS_UP_TO + 1):
        for ordinal in (False, True):
            if ordinal and n == 0:
                continue
            form = num2words(n, lang=lang, to="ordinal" if ordinal else "cardinal")
            for variant in _variants(form, lang):
                table.setdefault(variant, (n, ordinal))
                if lang == "fr" and variant.endswith(" un"):  # the feminine: "vingt et une"
                    table.setdefault(variant + "e", (n, ordinal))
                if lang == "fr" and not variant.endswith("s"):  # plural ordinals and cardinals: "sessions soixante-cinquièmes"
                    table.setdefault(variant + "s", (n, ordinal))
    extra: dict[Lang, dict[str, tuple[int, bool]]] = {
        "fr": {"premiere": (1, True), "premieres": (1, True), "premiers": (1, True), "second": (2, True),
               "seconde": (2, True), "seconds": (2, True), "secondes": (2, True), "une": (1, False),
               "million": (10**6, False), "millions": (10**6, False), "milliard": (10**9, False),
               "milliards": (10**9, False)},
        "en": {"hundred": (100, False), "thousand": (1000, False), "million": (10**6, False),
               "billion": (10**9, False)},
    }
    table.update(extra[lang])
    atoms = frozenset(w for key in table for w in key.split())
    return table, atoms


def _ordinal_suffix(suffix: str) -> bool:
    return bool(suffix)


def _digits_value(text: str, lang: Lang | None) -> int | float:
    plain = re.sub(r"[\u00a0\u202f ]", "", text)
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+", plain) and lang != "fr":
        plain = plain.replace(",", "")
    else:
        plain = plain.replace(",", ".")
    value = float(plain)
    return int(value) if value.is_integer() and "." not in plain else value


def _digit_mentions(text: str, lang: Lang | None) -> list[Mention]:
    found = []
    for m in _DIGITS.finditer(text):
        raw = m.group("num")
        if lang == "en" and re.search(r"[\u00a0\u202f ]", raw):
            # "2 000" is French; in English the space separates two numbers
            pieces = [(p.start(), p.group()) for p in re.finditer(r"\d+", raw)]
            found += [Mention(int(p), p, m.start() + s, m.start() + s + len(p), "digits") for s, p in pieces]
            continue
        value = _digits_value(raw, lang)
        kind: Kind = "ordinal" if _ordinal_suffix(m.group("ord") or "") else "digits"
        found.append(Mention(value, m.group(), m.start(), m.end(), kind))
    return found


def _runs(text: str, atoms: frozenset[str]) -> list[list[re.Match[str]]]:
    """Maximal runs of number words separated only by spaces or hyphens."""
    runs: list[list[re.Match[str]]] = []
    current: list[re.Match[str]] = []
    for m in _WORD.finditer(text):
        word = _fold(m.group())
        joined = current and re.fullmatch(r"[\s\-]+", text[current[-1].end() : m.start()])
        if word in atoms:
            if current and not joined:
                runs.append(current)
                current = []
            current.append(m)
        elif current:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    return runs


def _word_mentions(text: str, lang: Lang) -> list[Mention]:
    table, atoms = _forms(lang)
    found = []
    for run in _runs(text, atoms):
        i = 0
        while i < len(run):
            # the longest prefix of the rest of the run that spells one number
            for j in range(len(run), i, -1):
                key = _key([m.group() for m in run[i:j]])
                if key in table and not (j - i == 1 and key in _NOT_ALONE):
                    value, ordinal = table[key]
                    start, end = run[i].start(), run[j - 1].end()
                    found.append(Mention(value, text[start:end], start, end, "ordinal" if ordinal else "word"))
                    i = j
                    break
            else:
                i += 1
    return found


def mentions(text: str, lang: Lang | None = None) -> list[Mention]:
    """Every number the text states, in order: digits ("2 000", "2,000", "1,5"), ordinals ("3e", "1er", "103^e",
    "3rd") and words ("quarante-six", "soixante-dix-septième", "seventy-seventh"). `lang` None reads both languages'
    words and conventions."""
    found = _digit_mentions(text, lang)
    taken = [(m.start, m.end) for m in found]
    for language in (lang,) if lang else LANGS:
        for m in _word_mentions(text, language):
            if not any(m.start < end and start < m.end for start, end in taken):
                found.append(m)
                taken.append((m.start, m.end))
    return sorted(found, key=lambda m: m.start)


def values(text: str, lang: Lang | None = None, *, kinds: frozenset[Kind] | None = None) -> Counter[int | float]:
    """The values the text states, with how often (only mentions of `kinds` when given)."""
    return Counter(m.value for m in mentions(text, lang) if kinds is None or m.kind in kinds)


def months(text: str, lang: Lang | None = None) -> Counter[int]:
    """The months (1-12) named in the text ("décembre", "December")."""
    found: Counter[int] = Counter()
    for language in (lang,) if lang else LANGS:
        names = _MONTHS[language]
        for m in _WORD.finditer(text):
            word = _fold(m.group())
            if word in names and not (language == "en" and word in ("may", "march") and m.group()[0].islower()):
                found[names.index(word) + 1] += 1
    return found


def compare(
    source: str,
    candidate: str,
    *,
    source_lang: Lang | None = None,
    candidate_lang: Lang | None = None,
    ignore: frozenset[int | float] = frozenset(),
    count: bool = False,
) -> Comparison:
    """What values the candidate lacks and adds against the source. By default each value counts once (a
    translation may say "2020" once where the source says it twice); `count=True` compares how often."""
    a = values(source, source_lang)
    b = values(candidate, candidate_lang)
    if not count:
        a, b = Counter(set(a)), Counter(set(b))
    for value in ignore:
        a.pop(value, None)
        b.pop(value, None)
    return Comparison(missing=a - b, extra=b - a)
