"""How units are named, written and read: ids (PP3, OP27, fn17), labels ("par. 27"), references in questions and in answers.

The one owner of the reference grammar. Writing: `unit_id`, `unit_label`, `formal`. Reading: `find_references`
(what a question names: "paragraphe 27", "third preambular paragraph", "fn 17", "A/RES/75/158, par. 27") and
`find_mentions` (unit numbers written in an answer's prose, to check and relabel them).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from functools import cache
from typing import Literal, cast

from num2words import num2words
from pydantic import BaseModel, ConfigDict

Kind = Literal["header", "preambular", "operative", "footnote"]
Lang = Literal["fr", "en"]

#: The id prefix of each numbered kind: PP3, OP27, fn17 (the negotiators' shorthand; "header" has no number).
PREFIX: dict[Kind, str] = {"preambular": "PP", "operative": "OP", "footnote": "fn"}
_KIND_OF_PREFIX = {prefix: kind for kind, prefix in PREFIX.items()}
_ID = re.compile(r"(PP|OP|fn)(\d+)([a-z]?)")


def unit_id(kind: Kind, number: int) -> str:
    """"OP27" for (operative, 27); "header" for the header."""
    return "header" if kind == "header" else f"{PREFIX[kind]}{number}"


def parse_unit_id(uid: str) -> tuple[Kind, int | None]:
    """(kind, number) of an id: "OP27" -> ("operative", 27), "header" -> ("header", None)."""
    m = _ID.fullmatch(uid)
    if m is None:
        if uid == "header":
            return "header", None
        raise ValueError(f"not a unit id: {uid!r} (expected PPn, OPn, fnN or header)")
    return _KIND_OF_PREFIX[m.group(1)], int(m.group(2))


# --- writing: labels and citations ------------------------------------------------------------------------

def ordinal(n: int, lang: Lang) -> str:
    if lang == "fr":
        return "1er" if n == 1 else f"{n}e"
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def unit_label(kind: Kind, number: int | None, lang: Lang) -> str:
    """Display label of a unit in the answer's language ("par. 27" / "para. 27")."""
    if kind == "header":
        return "en-tête" if lang == "fr" else "header"
    assert number is not None
    if kind == "operative":
        return f"par. {number}" if lang == "fr" else f"para. {number}"
    if kind == "footnote":
        return f"note {number}" if lang == "fr" else f"footnote {number}"
    nth = ordinal(number, lang)
    return f"{nth} alinéa du préambule" if lang == "fr" else f"{nth} preambular paragraph"


def formal(symbol: str, label: str) -> str:
    """The citation a user pastes: "A/RES/75/158, par. 27" (a label already qualified by the symbol is kept)."""
    return label if label.startswith(f"{symbol}, ") else f"{symbol}, {label}"


# --- reading: references in a question --------------------------------------------------------------------

class Reference(BaseModel):
    """An explicit reference found in a question ("paragraphe 27" -> operative 27)."""

    model_config = ConfigDict(frozen=True)

    kind: Kind
    number: int | None
    text: str  # the words that made the reference, as written
    doc: str | None = None  # the resolution the question names with it ("A/RES/75/158, par. 27"), if any
    last: bool = False  # "the last preambular paragraph": number is None; resolve() against a document

    @property
    def unit_id(self) -> str:
        """The unit id; for a `last` reference only the kind's prefix + "last" (vectorstore.references.resolve knows more)."""
        if self.kind == "header":
            return "header"
        return f"{PREFIX[self.kind]}{'last' if self.last else self.number}"


#: Ordinal words are generated up to this number; no General Assembly resolution has more paragraphs.
_MAX_ORDINAL = 99


@cache
def _ordinal_words() -> dict[str, int]:
    """French and English ordinal words ("troisième", "vingt et unième", "third", "twenty-first") -> number."""
    words: dict[str, int] = {}
    for n in range(1, _MAX_ORDINAL + 1):
        for lang in ("fr", "en"):
            # Users write compound ordinals with spaces or hyphens interchangeably (1990 spelling reform),
            # so keys are normalised to spaces.
            words[_normal(num2words(n, lang=lang, to="ordinal"))] = n
    # Forms num2words does not produce: feminine, "second(e)", and its "quatre-vingtsième" slip.
    words.update({"première": 1, "seconde": 2, "second": 2, "quatre vingtième": 80})
    return words


def _normal(word: str) -> str:
    return re.sub(r"[\s-]+", " ", word.lower())


def _word_alternation() -> str:
    # Longest first, so "vingt et unième" is not read as "unième".
    words = sorted(_ordinal_words(), key=len, reverse=True)
    return "|".join(re.escape(w).replace(r"\ ", r"[\s-]+") for w in words)


_LAST_WORDS = r"dernier|dernière|derniere|last|final"
# Numbers are read whole (`\d++`, possessive): "paragraphe 99999999999" names paragraph 99999999999, which no
# resolution has (out of range), never paragraph 999 or 99; "paragraphe -1" names paragraph -1, not paragraph 1.
# "3e", "3ème", "1er", "1re", "1ère", "3rd", "21st", "2nd", "16th", "3°" (digits before an ordinal suffix).
_ORDINAL_DIGITS = r"\d++\s?(?:ème|eme|è|e|er|ère|re|st|nd|rd|th|°)(?![a-zà-ÿ])"
_NUMBER = r"[-−]?\d++(?!/|[.,]\d)"
_SEP = r"\s*(?:,|&|\bet\b|\band\b|\bou\b|\bor\b)\s*"
_NUMBERS = rf"{_NUMBER}(?:{_SEP}{_NUMBER})*"

_PREAMBLE_QUALIFIER = r"\s+(?:du\s+préambule|du\s+preambule|of\s+the\s+preamble)"
_OPERATIVE_QUALIFIER = r"\s+(?:du\s+dispositif|of\s+the\s+operative\s+part)"

# Each alternative names its kind by group name; order matters where two could start at the same place.
_PATTERN = re.compile(
    rf"""
    (?P<fn_nums>
        (?:notes?\s+de\s+bas\s+de\s+page|foot-?notes?|fn\.?|notes?)\s*(?:n[°o]\.?\s*)?(?P<fn_n>{_NUMBERS})
    )
  | (?P<pp_nums>
        (?:preambular\s+paragraphs?|preambular\s+paras?\.?|alinéas?|alineas?)\s*(?P<pp_n>{_NUMBERS})
        (?:{_PREAMBLE_QUALIFIER})?
    )
  | (?P<pp_code>\bPP\s?(?P<pp_c>\d++)(?!\.))
  | (?P<op_code>\bOP\s?(?P<op_c>\d++)(?!\.))
  | (?P<ord>
        (?:\b(?P<ord_word>{{words}})\b|\b(?P<ord_last>{_LAST_WORDS})\b|\b(?P<ord_digits>{_ORDINAL_DIGITS}))
        \s+(?P<ord_mod>operative\s+|preambular\s+)?
        (?P<ord_noun>alinéa|alinea|paragraphe|paragraph|para\.?|par\.|note\s+de\s+bas\s+de\s+page|footnote|note)\b
        (?P<ord_qual>{_PREAMBLE_QUALIFIER}|{_OPERATIVE_QUALIFIER})?
    )
  | (?P<op_nums>
        (?:operative\s+paragraphs?|operative\s+paras?\.?|paragraphes?|paragraphs?|paras?\.?|par\.|§§?)
        \s*(?:n[°o]\.?\s*)?(?P<op_n>{_NUMBERS})
        (?P<op_qual>{_PREAMBLE_QUALIFIER}|{_OPERATIVE_QUALIFIER})?
    )
    """.replace("{words}", _word_alternation()),
    re.IGNORECASE | re.VERBOSE,
)

# A document symbol ("A/75/471", "E/2016/30", "A/RES/75/158") or a resolution number ("résolution 64/293").
_SYMBOL = (
    r"(?:\b[A-Z]{1,4}(?:/[A-Z0-9.\-]+)+|\b(?:résolution|resolution|res\.)\s+(?:A/RES/)?\d{1,3}/\d{1,4}|\b\d{2,3}/\d{1,4})"
)
_RESOLUTION_SYMBOL = re.compile(r"(?:A/RES/|résolution\s+|resolution\s+|res\.\s+)?(\d{1,3})/(\d{1,4})$", re.I)
# What may stand right before a reference into ANOTHER text: its symbol, or a locator inside it.
_FOREIGN_BEFORE = re.compile(
    rf"(?P<symbol>{_SYMBOL})\s*,?\s*$"
    r"|(?:chap\.|chapitre|chapter|sect\.|section|annexe?|annex|vol\.|art\.|article|articles)\s*[\w.]*\s*,?\s*$",
    re.IGNORECASE,
)
# What may follow a reference into another text: "of the Convention", "du rapport A/75/471", "of resolution 64/293".
_FOREIGN_AFTER = re.compile(
    rf"^\s*,?\s*(?:of|in|de\s+la|de\s+l['’]|du|des|de|dans\s+la|dans\s+le)\s+(?:(?:the|this|that|ce|cette)\s+)?"
    rf"(?:(?P<symbol>{_SYMBOL})"
    r"|(?P<other>convention|protocole?|pacte|covenant|charte|charter|déclaration|declaration|rapport|report|"
    r"document|article|statut|statute|programme|programme|plan|traité|treaty|principes|principles|résolution\s+\d"
    r"|resolution\s+\d|décision|decision|accord|agreement|conclusions|annexe?|chapitre|chapter|section))",
    re.IGNORECASE,
)


#: Digits kept of a longer number: it is out of range all the same, and int() refuses strings of 4,300+ digits.
_MAX_DIGITS = 18


def _number(digits: str) -> int:
    """"27" -> 27, "-1" or "−1" -> -1; a number too long for any document stays too long (10**18)."""
    sign = -1 if digits[:1] in ("-", "−") else 1
    digits = digits.lstrip("-−")
    return sign * (int(digits) if len(digits) <= _MAX_DIGITS else 10**_MAX_DIGITS)


def _numbers(text: str) -> list[int]:
    return [_number(n) for n in re.findall(r"[-−]?\d+", text)]


def _resolution_symbol(text: str) -> str | None:
    """ "A/RES/75/158", "résolution 75/158" or "75/158" -> "A/RES/75/158"; another symbol -> None."""
    m = _RESOLUTION_SYMBOL.search(text.strip())
    if m is None or (text.strip().upper().startswith(("A/", "E/", "S/")) and not text.upper().startswith("A/RES/")):
        return None
    return f"A/RES/{m.group(1)}/{m.group(2)}"


def resolution_symbol(text: str) -> str:
    """A symbol as users write it ("75/158", "a/res/75/158", "résolution 75/158") -> "A/RES/75/158"; else as given."""
    text = text.strip()
    return _resolution_symbol(text.upper().replace("RÉSOLUTION", "résolution")) or text


# A resolution named anywhere in a question: "A/RES/75/158", "résolution 75/158", "resolution 75/158".
_NAMED_RESOLUTION = re.compile(
    r"\bA/RES/(\d{1,3})/(\d{1,4})\b|\b(?:résolution|resolution|res\.)\s+(\d{1,3})/(\d{1,4})\b", re.IGNORECASE
)


def named_resolutions(question: str) -> list[str]:
    """Symbols of the resolutions a question names anywhere in it, in order ("resolution 75/901" -> "A/RES/75/901")."""
    found = [f"A/RES/{m.group(1) or m.group(3)}/{m.group(2) or m.group(4)}" for m in _NAMED_RESOLUTION.finditer(question)]
    return list(dict.fromkeys(found))


def strip_resolution_names(text: str) -> str:
    """The text with the resolutions it names ("resolution 75/901") blanked out."""
    return _NAMED_RESOLUTION.sub(" ", text)


def _context_doc(question: str, start: int, end: int) -> tuple[bool, str | None]:
    """(foreign, symbol): is this a reference into another text, and which resolution does it name."""
    before = _FOREIGN_BEFORE.search(question[max(0, start - 60) : start])
    after = _FOREIGN_AFTER.match(question[end : end + 60])
    for m in (before, after):
        if m is None:
            continue
        symbol = m.groupdict().get("symbol")
        if symbol is None:
            return True, None  # a locator or a treaty: another text
        resolution = _resolution_symbol(symbol)
        if resolution is None:
            return True, None  # "A/75/471, par. 80": the committee report, not a resolution
        return False, resolution
    return False, None


def _kind_of(m: re.Match[str]) -> Kind:
    if m.group("fn_nums") or (m.group("ord") and "note" in m.group("ord_noun").lower()):
        return "footnote"
    if m.group("pp_nums") or m.group("pp_code"):
        return "preambular"
    if m.group("op_code"):
        return "operative"
    qualifier = (m.group("ord_qual") or m.group("op_qual") or "").lower()
    modifier = (m.group("ord_mod") or "").lower()
    noun = (m.group("ord_noun") or "").lower()
    if "pré" in qualifier or "pre" in qualifier or modifier.startswith("preambular") or noun.startswith("alin"):
        return "preambular"
    return "operative"


def find_references(question: str) -> list[Reference]:
    """Explicit references to units of a resolution, in the order they are written.

    References into other texts ("A/75/471, par. 80", "article 3 of the Convention") are left out.
    A reference that names a resolution ("A/RES/75/158, par. 27") carries its symbol in `doc`.
    "The last preambular paragraph" gives `number=None, last=True`: only a document can resolve it.
    """
    found: list[Reference] = []
    for m in _PATTERN.finditer(question):
        foreign, doc = _context_doc(question, m.start(), m.end())
        if foreign:
            continue
        kind = _kind_of(m)
        words = m.group(0)
        if m.group("ord"):
            if m.group("ord_last"):
                found.append(Reference(kind=kind, number=None, text=words, doc=doc, last=True))
                continue
            if m.group("ord_word"):
                number = _ordinal_words()[_normal(m.group("ord_word"))]
            else:
                number = _numbers(m.group("ord_digits"))[0]
            found.append(Reference(kind=kind, number=number, text=words, doc=doc))
            continue
        digits = next(m.group(g) for g in ("fn_n", "pp_n", "pp_c", "op_c", "op_n") if m.group(g))
        for number in _numbers(digits):
            found.append(Reference(kind=kind, number=number, text=words, doc=doc))
    return found


# --- unit numbers written in prose ---------------------------------------------------------------

_ORD = r"(?:er|re|e|ème|eme|st|nd|rd|th)?"
_N = r"(\d++)"
_MENTIONS: tuple[tuple[Kind, re.Pattern[str]], ...] = tuple(
    (cast(Kind, kind), re.compile(pattern, re.IGNORECASE))  # cast: each literal below is a Kind
    for kind, pattern in (
        ("preambular", rf"\b{_N}{_ORD}\s+alin[ée]as?(?:\s+du\s+préambule)?"),
        ("preambular", rf"\b{_N}{_ORD}\s+preambular\s+paragraphs?"),
        ("preambular", rf"\balin[ée]a\s+{_N}(?:\s+du\s+préambule)?"),
        ("preambular", rf"\bpreambular\s+paragraph\s+{_N}"),
        ("preambular", rf"\bparagraph[e]?\s+{_N}\s+(?:of\s+the\s+preamble|du\s+préambule)"),
        ("preambular", rf"\bPP\s?{_N}\b"),
        ("footnote", rf"\b(?:foot)?notes?(?:\s+de\s+bas\s+de\s+page)?\s+{_N}\b"),
        ("footnote", rf"\bfn\s?{_N}\b"),
        ("operative", rf"\bOP\s?{_N}\b"),
        ("operative", rf"\b(?:operative\s+)?(?:paragraphe|paragraph|paras?|par|§)\.?\s*{_N}\b(?:\s+du\s+dispositif)?"),
    )
)
# "A/75/471, par. 80" or "résolution 64/293, par. 3" name a paragraph of another document.
_OTHER_DOCUMENT = re.compile(r"(?:\b[A-Z]+(?:/[\w.()-]+)+|\b\d+/\d+)\s*,?\s*$")


@dataclass(frozen=True)
class Mention:
    """A unit named in prose ("paragraph 12 says")."""

    start: int
    end: int
    unit_id: str
    kind: Kind


def find_mentions(text: str, own: Collection[str] = (), *, others: bool = False) -> list[Mention]:
    """Units of this resolution named in a text, in order; spans of other documents are skipped (kept with `others`).

    A span after the symbol of one of the `own` documents ("A/RES/75/158, par. 99") is a mention of
    this text, the symbol included.
    """
    found: list[Mention] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in _MENTIONS:
        for m in pattern.finditer(text):
            if any(m.start() < end and start < m.end() for start, end in taken):
                continue
            taken.append((m.start(), m.end()))
            window = max(0, m.start() - 40)
            start = m.start()
            if other := _OTHER_DOCUMENT.search(text[window : m.start()]):
                named = re.sub(r"[\s,]+$", "", other.group())
                if not others and not any(named == symbol or symbol.endswith("/" + named) for symbol in own):
                    continue
                start = window + other.start()
            found.append(Mention(start, m.end(), unit_id(kind, _number(m.group(1))), kind))
    return sorted(found, key=lambda mention: mention.start)
