"""A unit's English rendering: split into pieces, several candidates each, the best by checks then by similarity.

The opening phrase is written in code (terms.opening_of), the model continues it; the glossary entries of a piece
are given in the prompt, and one candidate reads the piece with them already in English. Bare-reference footnotes
("Ibid., vol. 2237, n° 39574.") are rendered by rules, without the model.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from time import perf_counter
from typing import Any

from resolution_qa.ingest.units import Unit

from .checks import Verdict, check, french_left, numbers_reasons, symbols_reasons
from .model import Generator, Message
from .store import Rendering, content_hash
from .terms import Glossary, english_opening, fold, glossary, opening_of

SYSTEM = (
    "You translate United Nations General Assembly resolutions from French into English, in the official UN style. "
    "Output only the translation."
)
#: Longest piece given to the model at once, in characters: longer sentences are cut at their commas. The 1.5B
#: model drops or repeats clauses in longer inputs.
MAX_PIECE = 450
#: Shortest piece a cut may leave (a shorter tail stays with the piece before it).
MIN_PIECE = 120

Scorer = Callable[[str, Sequence[str]], list[float]]


@dataclass(frozen=True)
class Spec:
    """How one candidate is written: sampling, and whether the glossary terms are put in English in the source."""

    temperature: float
    seed: int
    substitute: bool = False


#: Three candidates: greedy with the glossary in the prompt, one sample of the same prompt (its prompt is already
#: evaluated: only the reply costs), greedy with the terms already in English in the source. Measured on 2 shared cores: see reports/translation.md.
DEFAULT_SPECS: tuple[Spec, ...] = (Spec(0.0, 0, False), Spec(0.6, 1, False), Spec(0.0, 0, True))


@dataclass(frozen=True)
class Piece:
    """A part of a unit translated at once: its French, what follows it in the unit, and its English opening."""

    text: str
    sep: str = ""
    opening: str = ""  # the English the translation must begin with (the paragraph's opening phrase)
    opening_fr: str = ""
    fragment: bool = False  # part of a longer sentence


@dataclass(frozen=True)
class Choice:
    english: str
    verdict: Verdict
    candidates: int


# --- splitting -------------------------------------------------------------------------------------------------

_ABBREVIATIONS = ("par.", "vol.", "chap.", "sect.", "Ibid.", "n°", "p.", "al.", "art.")


def _sentence_cuts(text: str) -> list[int]:
    """Where a piece may end: after "; " (a clause of a list) and after a sentence's full stop."""
    cuts = []
    for m in re.finditer(r"[;.]\s+", text):
        before = text[: m.start() + 1]
        if m.group()[0] == "." and (before.endswith(_ABBREVIATIONS) or not text[m.end() : m.end() + 1].isupper()):
            continue
        cuts.append(m.end())
    return cuts


def _comma_cuts(text: str, terms: Glossary) -> list[int]:
    """Commas outside glossary names and brackets, where a long sentence may be cut."""
    spans = [(f.start, f.end) for f in terms.find(text)]
    cuts, depth = [], 0
    for i, ch in enumerate(text):
        depth += ch in "([«"
        depth -= ch in ")]»"
        if ch == "," and depth <= 0 and text[i + 1 : i + 2] == " " and not any(s <= i < e for s, e in spans):
            cuts.append(i + 2)
    return cuts


def _pack(text: str, cuts: list[int], start: int, end: int) -> list[int]:
    """Cuts keeping each piece under MAX_PIECE where the cut points allow, none shorter than MIN_PIECE."""
    chosen, last = [], start
    usable = [c for c in cuts if start + MIN_PIECE <= c <= end - MIN_PIECE]
    for i, cut in enumerate(usable):
        following = usable[i + 1] if i + 1 < len(usable) else end
        if following - last > MAX_PIECE and cut - last >= MIN_PIECE:
            chosen.append(cut)
            last = cut
    return chosen


def split(text: str, terms: Glossary | None = None) -> list[Piece]:
    """The pieces of a unit's text: its sentences and "; " clauses, and the long ones cut at commas."""
    terms = terms or glossary()
    bounds = [0, *_sentence_cuts(text), len(text)]
    cuts: list[int] = []
    for a, b in zip(bounds, bounds[1:], strict=False):
        if b - a > MAX_PIECE:
            cuts += _pack(text, _comma_cuts(text, terms), a, b)
    points = sorted(set(bounds) | set(cuts))
    chunks = [text[a:b] for a, b in zip(points, points[1:], strict=False) if text[a:b].strip()]
    # a paragraph of this genre is one sentence: any piece of several is part of one
    return [Piece(c.rstrip(), c[len(c.rstrip()):], fragment=len(chunks) > 1) for c in chunks]


# --- prompts and candidates ---------------------------------------------------------------------------------------


def substituted(text: str, terms: Glossary) -> str:
    """The French with each glossary name already in English ("la United Nations Convention against ...")."""
    out = text
    for f in sorted(terms.find(text), key=lambda f: -f.start):
        english = f.entry.en
        if text[f.start : f.start + 1].isupper() and english[:1].islower():  # a title: "Traite des femmes ..."
            english = english[0].upper() + english[1:]
        out = out[: f.start] + english + out[f.end :]
    return out


def messages(piece: Piece, spec: Spec, terms: Glossary) -> list[Message]:
    entries = terms.entries_in(piece.text)
    source = substituted(piece.text, terms) if spec.substitute else piece.text
    if piece.opening and piece.opening_fr and source.startswith(piece.opening_fr):
        # the opening is already written in English: shown so, the model does not translate it a second time
        # (measured: "Urges ... to engage immediately, to fully ..." with the French verb left in the source)
        source = piece.opening + source[len(piece.opening_fr) :]
    lines = []
    if entries:
        lines.append("Glossary (use these English terms exactly):")
        lines += [f"- {e.fr} = {e.en}" for e in entries]
        lines.append("")
    where = " (part of a longer sentence: translate only this part and keep its punctuation)" if piece.fragment else ""
    lines.append(f"Translate into English{where}:")
    lines.append(source)
    chat: list[Message] = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "\n".join(lines)}]
    if piece.opening:
        chat.append({"role": "assistant", "content": piece.opening})
    return chat


#: American spellings the model writes, in the UN's British-based style ("forced labor" -> "forced labour").
_UN_SPELLING = {"labor": "labour", "labors": "labours", "program": "programme", "programs": "programmes",
                "favor": "favour", "behavior": "behaviour", "endeavor": "endeavour", "endeavors": "endeavours",
                "honor": "honour", "center": "centre", "centers": "centres", "offense": "offence",
                "offenses": "offences", "defense": "defence", "traveler": "traveller", "travelers": "travellers",
                "counseling": "counselling", "centered": "centred", "victim-centered": "victim-centred"}


def un_spelling(text: str) -> str:
    """American spellings replaced by the UN's ("labor" -> "labour", "programs" -> "programmes"), case kept."""
    def repl(m: re.Match[str]) -> str:
        word = m.group()
        new = _UN_SPELLING[word.lower()]
        return new.capitalize() if word[0].isupper() else new

    pattern = r"\b(?:" + "|".join(sorted(map(re.escape, _UN_SPELLING), key=len, reverse=True)) + r")\b"
    return re.sub(pattern, repl, text, flags=re.IGNORECASE)


def names_of(piece: Piece) -> list[str]:
    """The English names the glossary gives for a piece (their capitals are kept)."""
    return [e.en for e in glossary().entries_in(piece.text)]


def tidy(english: str, piece: Piece) -> str:
    """One line of translation, its punctuation at the end and its first letter as the source's."""
    text = english.strip().split("\n")[0].strip()
    text = re.sub(r"^(?:translation|english|english translation)\s*:\s*", "", text, flags=re.IGNORECASE)
    if len(text) > 1 and text[0] in "\"«“'" and text[-1] in "\"»”'":
        text = text[1:-1].strip()
    text = re.sub(r"\s+([;:,.!?])", r"\1", text)  # French spacing before punctuation
    text = un_spelling(text)
    end = piece.text.rstrip()[-1:]
    if end in ",;:." and text:
        text = text.rstrip(" ,;:.") + end
    elif text.endswith(".") and end not in ".":
        text = text[:-1]
    first = text.split(" ", 1)[0]
    names = " ".join(names_of(piece))
    if piece.text[:1].islower() and first[:1].isupper() and not first.isupper() and first.strip(",;") not in names:
        text = text[0].lower() + text[1:]  # "compte tenu du rôle" -> "taking into account", not "Taking into account"
    return text


def write(piece: Piece, generator: Generator, spec: Spec, terms: Glossary) -> str:
    """One candidate for a piece."""
    max_tokens = len(piece.text) // 2 + 48  # English takes ~4 characters a token: this bounds a run-away
    raw = generator.generate(messages(piece, spec, terms), temperature=spec.temperature, seed=spec.seed,
                             max_tokens=max_tokens)
    return tidy(raw, piece)


def choose(source: str, texts: Sequence[str], scorer: Scorer | None, terms: Glossary) -> tuple[str, Verdict]:
    """The candidate with the fewest and lightest failed checks; among equals, the one closest to the source."""
    unique = list(dict.fromkeys(t for t in texts if t))
    if not unique:
        return "", Verdict(("empty translation",))
    verdicts = [check(source, t, terms=terms) for t in unique]
    best_weight = min(v.weight for v in verdicts)
    tied = [i for i, v in enumerate(verdicts) if v.weight == best_weight]
    if len(tied) > 1 and scorer is not None:
        scores = scorer(source, [unique[i] for i in tied])
        pick = tied[max(range(len(tied)), key=lambda j: scores[j])]
    else:
        pick = tied[0]
    return unique[pick], verdicts[pick]


def translate_piece(
    piece: Piece, generator: Generator, specs: Sequence[Spec], scorer: Scorer | None, terms: Glossary,
    min_candidates: int,
) -> tuple[str, Verdict, int]:
    """The best of the candidates of `specs`, written in order; once `min_candidates` are written, writing stops at
    the first that passes every check (on 2 shared cores each candidate costs 5-60 s, and most greedy ones pass).
    Returns (English, its verdict, candidates written)."""
    texts: list[str] = []
    for spec in specs:
        texts.append(write(piece, generator, spec, terms))
        if len(texts) >= min_candidates and check(piece.text, texts[-1], terms=terms).ok:
            break
    english, verdict = choose(piece.text, texts, scorer, terms)
    return english, verdict, len(texts)


# --- footnotes by rules --------------------------------------------------------------------------------------------

_RULES: tuple[tuple[str, Any], ...] = (
    (r"\bDont la plus récente est le document\b", "The most recent being"),
    (r"\bDont la plus récente est\b", "The most recent being"),
    (r"\b(?:numéro de vente|Sales No\.)\s*:\s*F\.", "Sales No. E."),
    (r"\bSupplément n°\s*", "Supplement No. "),
    (r"\bvol\. (\d+) et (\d+)", r"vols. \1 and \2"),
    (r"\bn°\s*", "No. "),
    (r"\bRésolution\b", "Resolution"),
    (r"\brésolution\b", "resolution"),
    (r"\bannexes\b", "annexes"),
    (r"\bannexe\b", "annex"),
    (r"\bVoir\b", "See"),
    (r"\bvoir\b", "see"),
    (r"\bTels que\b", "Such as"),
    (r"\bet\b", "and"),
    (r"\bNations Unies\b", "United Nations"),
    (r"\s+;", ";"),
    (r"\s+:", ":"),
    (r"(\d)-(\d)", "\\1\u2013\\2"),
    (r"\ble (\d{1,2}) (?=[a-zé]+ \d{4})", r"on \1 "),  # "adoptée ... le 16 décembre 2020"
    (r"\bpar\. (?=\d)", "para. "),
    (r"\b(\d+)\^?\{?(?:e|ème)\}?(?![\w])", lambda m: _ordinal(int(m.group(1)))),  # "46e séance" -> "46th"
)


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"

_MONTHS_FR = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
              "novembre", "décembre")
_MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
              "November", "December")


def by_rules(text: str, terms: Glossary | None = None) -> str | None:
    """A bare reference in English by substitution (glossary names, "n°" -> "No.", months), or None when French is
    left or a number or symbol was lost (then the model translates it)."""
    terms = terms or glossary()
    out = substituted(text, terms)
    for pattern, repl in _RULES:
        out = re.sub(pattern, repl, out)
    for fr, en in zip(_MONTHS_FR, _MONTHS_EN, strict=True):
        out = re.sub(rf"\b{fr}\b", en, out)
    allowed = [e.en for e in terms.entries_in(text)] + ["Ibid", "vols", "chap", "sect", "para"]
    if french_left(out, allowed) or numbers_reasons(text, out) or symbols_reasons(text, out):
        return None
    if re.search(r"[a-zà-ÿ]{4,}", fold(out)) and len(re.findall(r"\b[a-z]{4,}\b", out)) > 12:
        return None  # prose, not a reference: the model writes it
    return out


# --- a unit ---------------------------------------------------------------------------------------------------------


def unit_pieces(unit: Unit, terms: Glossary | None = None) -> list[Piece]:
    """The pieces of a unit, the first carrying its opening phrase in English when the table has it."""
    terms = terms or glossary()
    pieces = split(unit.text, terms)
    if unit.kind in ("preambular", "operative") and pieces:
        # an operative paragraph's phrase is its italic opening, adverbs inside ("Prend également note")
        english = english_opening(unit.phrase) if unit.phrase and unit.text.startswith(unit.phrase) else None
        opening = (unit.phrase, english) if unit.phrase and english else opening_of(unit.text)
        if opening is not None:
            first = pieces[0]
            pieces[0] = Piece(first.text, first.sep, opening=opening[1], opening_fr=opening[0], fragment=first.fragment)
    return pieces


def render_unit(
    unit: Unit,
    generator: Generator,
    *,
    specs: Sequence[Spec] = DEFAULT_SPECS,
    scorer: Scorer | None = None,
    terms: Glossary | None = None,
    min_candidates: int | None = None,
) -> Rendering:
    """The English rendering of one French unit, checked, with the reasons it is flagged."""
    terms = terms or glossary()
    min_candidates = len(specs) if min_candidates is None else min_candidates
    started = perf_counter()
    ruled = by_rules(unit.text, terms) if unit.kind in ("footnote", "header") else None
    if ruled is not None:
        return _record(unit, ruled, (), "rules", 0, perf_counter() - started)
    pieces = unit_pieces(unit, terms)
    parts, reasons, written = [], [], 0
    for n, piece in enumerate(pieces, 1):
        english, verdict, count = translate_piece(piece, generator, specs, scorer, terms, min_candidates)
        written = max(written, count)
        parts.append(english + piece.sep)
        where = f"piece {n}/{len(pieces)}: " if len(pieces) > 1 else ""
        reasons += [where + r for r in verdict.reasons]
    text = "".join(parts).strip()
    return _record(unit, text, tuple(reasons), generator.name, written, perf_counter() - started)


def _record(unit: Unit, text: str, reasons: tuple[str, ...], model: str, count: int, seconds: float) -> Rendering:
    return Rendering(
        id=unit.id,
        key=unit.key,
        hash=content_hash(unit),
        lang="en",
        source_lang=unit.lang,
        text=text,
        status="flagged" if reasons else "ok",
        reasons=reasons,
        model=model,
        candidates=count,
        seconds=round(seconds, 2),
    )
