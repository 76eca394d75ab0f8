"""Checks of an English candidate against its French source: numbers, symbols, French left, glossary terms, length.

Each check returns the reasons it fails ("" lists nothing): a candidate passes when no check has a reason. They are
cheap (no model), so every candidate of every piece is checked before the embedder breaks ties.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from resolution_qa.core.numbers import mentions, months

from .terms import Glossary, fold, glossary

#: English/French length, measured on UN texts: English runs 0.80-0.95 of the French; outside this a piece was
#: cut short or padded with notes.
LENGTH_RATIO = (0.55, 1.35)

#: French words that English never uses (function words and the subject's most frequent nouns). A word with a French
#: accent counts too, and an elided article ("l'", "d'", "qu'").
FRENCH_WORDS = frozenset(
    ["le", "la", "les", "des", "du", "de", "et", "est", "une", "aux", "au", "dans", "pour", "avec", "sur", "par", "qui", "que", "leur", "leurs", "ces", "cette", "ce", "cet", "sa", "ses", "ne", "pas", "sont", "ont", "notamment", "ainsi", "afin", "selon", "lors", "entre", "contre", "celles", "ceux", "celle", "celui", "elles", "ils", "elle", "nous", "vous", "tous", "toutes", "tout", "toute", "mais", "ou", "sans", "sous", "chez", "vers", "depuis", "pendant", "comme", "parmi", "compris", "lesquelles", "laquelle", "lequel", "lesquels", "auxquels", "auxquelles", "cela", "ceci", "faut", "doit", "doivent", "peut", "peuvent", "faire", "mettre", "assurer", "veiller", "visant", "concernant", "relatif", "relative", "relatifs", "relatives", "particulier", "outre", "mesures", "femmes", "filles", "enfants", "victimes", "traite", "humains", "personnes", "droits", "gouvernements", "lutte", "travail", "mise", "oeuvre", "lacunes", "autodiscipline", "gite", "chaines", "logistiques", "envisager", "renforcer", "prie", "exhorte", "demande", "conformement", "egard", "moyens", "aupres", "afin", "tenir", "compte"]
)
_ACCENTED = re.compile(r"[éèêëàâùûüôîïçœÉÈÊÀÂÙÛÔÎÏÇŒ]")
_ELISION = re.compile(r"(?<![\w])(?:l|d|qu|n|s|c|j|m|jusqu|lorsqu|puisqu)['’](?=\w)", re.IGNORECASE)
_WORDS = re.compile(r"[\w'’-]+")

_SYMBOLS = re.compile(
    r"\b[A-Z]{1,4}(?:\.\d+)?(?:/[A-Z0-9][A-Z0-9.\-]*)+\b"  # A/75/289, A/HRC/44/45, A/C.3/55/3, E/2018/27
    r"|\b\d+/\d+\b"  # resolution numbers: 64/293, 25/1
    r"|\b[A-Z]\.\d+\.[IVX]+\.\d+\b"  # sales numbers: F.96.IV.13 (E.96.IV.13 in English)
    r"|\bCOVID-19\b"
    r"|(?<=\()[IVXLC]{2,}(?=\))|\b[IVX]{2,}\b"  # roman numerals: (XXI), annexes I et II
)


@dataclass(frozen=True)
class Verdict:
    """The reasons a candidate fails (none: it passes), and how bad it is (fewer, lighter reasons are better)."""

    reasons: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.reasons

    @property
    def weight(self) -> int:
        # a wrong number or a French word misleads a reader more than a missed term
        heavy = ("numbers", "months", "symbols", "French", "empty")
        return sum(3 if r.startswith(heavy) else 1 for r in self.reasons)


def _values(text: str, lang: str) -> Counter[int | float]:
    # "première ligne" is "front-line": an ordinal 1 written as a word is too often idiom to require.
    return Counter(m.value for m in mentions(text, lang) if not (m.value == 1 and m.kind != "digits"))  # type: ignore[arg-type]


def numbers_reasons(source: str, english: str) -> list[str]:
    """Every value of the source in the English, and none added; a value the English says more often than the source
    counts as added (measured: a list of ILO conventions became "(No. 81)" twice, the first in place of "(No. 29)")."""
    reasons = []
    a, b = _values(source, "fr"), _values(english, "en")
    if missing := sorted(set(a) - set(b)):
        reasons.append("numbers missing: " + ", ".join(_show(v) for v in missing))
    if extra := sorted((b - a).keys()):
        reasons.append("numbers added: " + ", ".join(_show(v) for v in extra))
    ma, mb = set(months(source, "fr")), set(months(english, "en"))
    if ma != mb:
        reasons.append(f"months differ: {sorted(ma)} in the French, {sorted(mb)} in the English")
    return reasons


def _show(value: int | float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def symbols_in(text: str) -> list[str]:
    return list(dict.fromkeys(m.group() for m in _SYMBOLS.finditer(text)))


def symbols_reasons(source: str, english: str) -> list[str]:
    # A sales number changes its language letter (F.96.IV.13 is E.96.IV.13): compare it without the letter.
    def norm(symbol: str) -> str:
        return re.sub(r"^[A-Z]\.(?=\d)", "", symbol)

    have = {norm(s) for s in symbols_in(english)}
    missing = [s for s in symbols_in(source) if norm(s) not in have]
    return ["symbols missing: " + ", ".join(missing)] if missing else []


#: Confidence of the language detector (French against English, one word) above which a word copied from the
#: source is French: "aboutissement" and "lacunes" 0.96, while cognates score lower ("exploitation" 0.81,
#: "organisations" 0.88, "destination" 0.62: measured with lingua 2.x).
COPIED_FRENCH = 0.9


@cache
def _detector():  # type: ignore[no-untyped-def]
    from lingua import Language, LanguageDetectorBuilder

    return LanguageDetectorBuilder.from_languages(Language.FRENCH, Language.ENGLISH).build()


def _copied_french(word: str) -> bool:
    from lingua import Language

    return _detector().compute_language_confidence(word, Language.FRENCH) >= COPIED_FRENCH


def french_left(english: str, allowed: Sequence[str] = (), source: str = "") -> list[str]:
    """The French words an English text still holds (accented words, elided articles, French-only words, and words
    copied from the `source` that a language detector calls French); words of `allowed` (the English forms the
    glossary gave, names) do not count."""
    allowed_words = {w for text in allowed for w in re.findall(r"[\w'’-]+", fold(text))}
    copied = {fold(w) for w in re.findall(r"[\w-]+", source) if len(w) >= 5}
    found = []
    for m in _WORDS.finditer(english):
        word = m.group()
        folded = fold(word).strip("'’-")
        if folded in allowed_words:
            continue
        if (_ACCENTED.search(word) or _ELISION.match(word) or folded in FRENCH_WORDS
                or (folded in copied and word[:1].islower() and _copied_french(word))):
            found.append(word)
    return list(dict.fromkeys(found))


def french_reasons(english: str, allowed: Sequence[str] = (), source: str = "") -> list[str]:
    left = french_left(english, allowed, source)
    return ["French words left: " + ", ".join(left[:6])] if left else []


def glossary_reasons(source: str, english: str, terms: Glossary | None = None) -> list[str]:
    missing = (terms or glossary()).missing_in(source, english)
    return ["glossary terms not used: " + "; ".join(f"{e.fr} = {e.en}" for e in missing)] if missing else []


def length_reasons(source: str, english: str) -> list[str]:
    ratio = len(english) / max(1, len(source))
    low, high = LENGTH_RATIO
    if not low <= ratio <= high:
        return [f"length ratio {ratio:.2f} (expected {low}-{high})"]
    return []


def check(source: str, english: str, *, terms: Glossary | None = None, allowed: Sequence[str] = ()) -> Verdict:
    """Every check of one English candidate against its French source."""
    if not english.strip():
        return Verdict(("empty translation",))
    terms = terms or glossary()
    names = [e.en for e in terms.entries_in(source)] + list(allowed)
    reasons = (
        numbers_reasons(source, english)
        + symbols_reasons(source, english)
        + french_reasons(english, names, source)
        + glossary_reasons(source, english, terms)
        + length_reasons(source, english)
    )
    return Verdict(tuple(reasons))
