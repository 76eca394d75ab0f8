"""PDF and Word readers' common ground: glyphs -> the .txt layout the parser reads, and the masthead's symbol/language.

Both readers turn a file into the same normalised text as the bundled .txt: the header lines, then one block per
paragraph (a paragraph cut by a page break joined back), footnote markers as Unicode superscript digits after their
word, italics as `*...*`, then one block per footnote starting with its number in superscript digits. `parse_text`
then reads it unchanged, so a PDF, a .docx and a .txt of one resolution give the same units.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from resolution_qa.core.errors import InputFileError

from .parser import parse_text
from .units import Document, Lang

SUPERSCRIPT = "⁰¹²³⁴⁵⁶⁷⁸⁹"
_TO_SUPERSCRIPT = str.maketrans("0123456789", SUPERSCRIPT)

#: A resolution's symbol as printed in its masthead and running heads ("A/RES/75/158", a reissue starred).
SYMBOL = re.compile(r"\bA/RES/(\d{1,3})/(\d{1,4})\b\*?")
_UN = {"nations unies": "fr", "united nations": "en"}
# Masthead pieces: the Organization, the organ, the symbol, "Distr. générale" / "Distr.: General", the date,
# "Original : anglais". A masthead line is made of these and nothing else.
_MASTHEAD_PIECE = (
    r"Nations\s+Unies|United\s+Nations|Assembl[ée]e\s+g[ée]n[ée]rale|General\s+Assembly|"
    r"Conseil\s+de\s+s[ée]curit[ée]|Security\s+Council|"
    r"Distr\.?\s*:?\s*(?:g[ée]n[ée]rale|general|limit[ée]e|limited|restreinte|restricted)|"
    r"Original\s*:\s*[^\W\d]+|\d{1,2}(?:er)?\s+[^\W\d]+\s+\d{4}|A/RES/\d{1,3}/\d{1,4}\*?"
)
MASTHEAD_LINE = re.compile(rf"(?:\s*(?:{_MASTHEAD_PIECE}))+\s*", re.IGNORECASE)
# Footers: page numbers ("3/9"), job numbers ("20-17349 (F)", "20-17349"), the bar code's digits ("*2017349*"),
# the recycling note.
_FOOTER_PIECE = r"\d{1,3}\s*/\s*\d{1,3}|\d{2}-\d{5}(?:\s*\([A-Z]\))?|\*\d{7}\*|Merci\s+de\s+recycler|Please\s+recycle"
FOOTER_LINE = re.compile(rf"(?:\s*(?:{_FOOTER_PIECE}))+\s*", re.IGNORECASE)
_OPENING = re.compile(r"^\s*(L[’']Assemblée générale|The General Assembly)\s*,?\s*$", re.IGNORECASE)
_TITLE_LINE = re.compile(r"^\s*\d{2,3}/\d{1,4}\.\s", re.MULTILINE)
# French words hyphenated to what follows: "celles-ci", "elle-même", "peut-être".
_CLITICS = frozenset({"ci", "là", "même", "mêmes", "être", "il", "elle", "ils", "elles", "on", "t"})
_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")


@dataclass
class Masthead:
    """What a file says about itself outside the body: its symbol and language (None where it does not say)."""

    symbol: str | None = None
    lang: Lang | None = None

    def read(self, text: str) -> None:
        """Take the symbol and language from a masthead or running-head line, the first found kept."""
        if self.symbol is None and (m := SYMBOL.search(text)):
            self.symbol = f"A/RES/{m.group(1)}/{m.group(2)}"
        if self.lang is None:
            for name, lang in _UN.items():
                if name in " ".join(text.lower().split()):
                    self.lang = lang  # type: ignore[assignment]


# --- glyphs -> text -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Glyph:
    """One character of a line, with what the layout says about it."""

    char: str
    italic: bool = False
    marker: bool = False  # a raised digit: a footnote marker


@dataclass
class Block:
    """A paragraph (or a footnote) as lines of glyphs; joined into text once the whole document is read."""

    lines: list[list[Glyph]] = field(default_factory=list)


def line_text(line: Sequence[Glyph]) -> str:
    return "".join(g.char for g in line)


def _edge_words(line: Sequence[Glyph], previous_hyphenated: bool) -> str:
    """A line's words, less a word cut at either end (so a cut piece never counts as a word of its own)."""
    text = line_text(line)
    if text.rstrip().endswith(("-", "\u00ad")):
        text = text.rstrip()[:-1].rsplit(" ", 1)[0] if " " in text.strip() else ""
    if previous_hyphenated:
        text = text.lstrip().split(" ", 1)[1] if " " in text.strip() else ""
    return text


def vocabulary(blocks: Iterable[Block]) -> Counter[str]:
    """The words of the document, lower-cased, words cut at line ends left out."""
    words: Counter[str] = Counter()
    for block in blocks:
        previous = False
        for line in block.lines:
            words.update(w.lower() for w in _WORD.findall(_edge_words(line, previous)))
            previous = line_text(line).rstrip().endswith(("-", "\u00ad"))
    return words


def keep_hyphen(head: str, tail: str, words: Counter[str]) -> bool:
    """Whether "head-" at a line end and "tail" on the next line are a hyphenated compound rather than one word
    cut in two: the document itself decides where it can ("sous-régionales" written whole elsewhere), else a
    compound is made of two words the document uses ("sous" and "régionales"), a cut word of pieces ("organisa")."""
    if not tail or not tail[0].isalpha() or tail[0].isupper():
        return True  # "COVID-" / "19", "Nord-" / "Sud": never one word
    h = _WORD.findall(head)
    t = _WORD.findall(tail)
    if not h or not t:
        return True
    head_word, tail_word = h[-1].lower(), t[0].lower()
    if words[f"{head_word}-{tail_word}"]:
        return True
    if words[head_word + tail_word]:
        return False
    last = head_word.rsplit("-", 1)[-1]
    return bool(words[last]) and (bool(words[tail_word]) or tail_word in _CLITICS)


def join_lines(block: Block, words: Counter[str]) -> list[Glyph]:
    """A block's lines as one run of glyphs: a space between lines, a word cut at a line end mended."""
    out: list[Glyph] = []
    for line in block.lines:
        line = _strip(line)
        if not line:
            continue
        if out and out[-1].char == "\u00ad":  # a soft hyphen: always a cut word
            out.pop()
        elif out and out[-1].char in "-\u2010" and len(out) > 1 and out[-2].char.isalpha():
            head = line_text(out[-40:])
            tail = line_text(line[:40])
            if not keep_hyphen(head[:-1], tail, words):
                out.pop()
        elif out:
            out.append(Glyph(" ", out[-1].italic and line[0].italic))
        out.extend(line)
    return out


def _strip(line: list[Glyph]) -> list[Glyph]:
    start, end = 0, len(line)
    while start < end and line[start].char.isspace():
        start += 1
    while end > start and line[end - 1].char.isspace():
        end -= 1
    return line[start:end]


def markup(glyphs: Sequence[Glyph], *, italics: bool = True) -> str:
    """Glyphs as .txt markup: italic runs in `*...*`, markers as superscript digits, spaces collapsed."""
    out: list[str] = []
    italic = False
    for i, g in enumerate(glyphs):
        if g.char.isspace():
            out.append(" ")
            continue
        want = italics and g.italic and not g.marker
        if g.marker and italic:
            want = _next_italic(glyphs, i)  # a marker inside an italic title does not close it
        if want != italic:
            if italic and out and out[-1] == " ":
                out.pop()  # "*Prend note* du", not "*Prend note *du"
                out.append("* ")
            else:
                out.append("*")
            italic = want
        out.append(g.char.translate(_TO_SUPERSCRIPT) if g.marker else g.char)
    if italic:
        out.append("*")
    text = re.sub(r"[ \t\u00a0]*\n[ \t\u00a0]*", "\n", "".join(out))
    return re.sub(r" {2,}", " ", text).strip()


def _next_italic(glyphs: Sequence[Glyph], i: int) -> bool:
    for g in glyphs[i + 1 :]:
        if not g.marker and not g.char.isspace():
            return g.italic
    return False


# --- text -> document -----------------------------------------------------------------------------------------------


def compose(header: list[str], body: list[str], notes: list[tuple[int, str]]) -> str:
    """The normalised text: header lines, paragraph blocks, then footnote blocks ("¹² text")."""
    parts = [*header, *body, *(f"{str(n).translate(_TO_SUPERSCRIPT)} {text}" for n, text in notes)]
    return "\n\n".join(p for p in parts if p.strip()) + "\n"


def is_opening(text: str) -> bool:
    return bool(_OPENING.match(text.replace("*", "")))


def parse_layout(text: str, masthead: Masthead, name: str, what: str) -> Document:
    """Parse the normalised text; the masthead's symbol and language are the document's (a disagreeing title line
    or adoption line is warned about)."""
    if not _TITLE_LINE.search(text) and not SYMBOL.search(text):
        if masthead.symbol is None:
            raise InputFileError(
                f"{name}: {what} has no resolution symbol (A/RES/…) in its masthead, running heads or title line; "
                "it does not look like a General Assembly resolution"
            )
        text = f"{masthead.symbol}\n\n{text}"  # the parser takes the symbol from the header
    document = parse_text(text, name=name)
    warnings = list(document.warnings)
    update: dict[str, object] = {}
    if masthead.symbol is not None and masthead.symbol != document.symbol:
        warnings.append(f"{name}: the masthead says {masthead.symbol} but the title line says {document.symbol}; "
                        f"{masthead.symbol} kept")
        update["symbol"] = masthead.symbol
    if masthead.lang is not None and masthead.lang != document.lang:
        warnings.append(f"{name}: the masthead is in {masthead.lang} but the text reads as {document.lang}; "
                        f"{masthead.lang} kept")
        update["lang"] = masthead.lang
    if not update:
        return document
    units = tuple(u.model_copy(update={k: v for k, v in (("doc", update.get("symbol")), ("lang", update.get("lang")))
                                       if v is not None}) for u in document.units)
    return document.model_copy(update={**update, "units": units, "warnings": tuple(warnings)})
