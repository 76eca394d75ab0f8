"""Parse a General Assembly resolution (French or English plain text) into typed units."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from resolution_qa.core.errors import InputFileError
from resolution_qa.core.inputs import MAX_INPUT_BYTES, RESOLUTION
from resolution_qa.core.inputs import read_text as read_input

from .units import Document, Lang, Unit

#: Bumped whenever parsing changes what is indexed; the index records it and rebuilds on change.
PARSER_VERSION = "1"

BUNDLED_PATH = Path(__file__).parent / "data" / "A_RES_75_158.fr.txt"

#: Largest resolution file read (the bundled one is 54 kB; the longest GA resolutions are a few hundred kB): the
#: one limit on every file a user gives (core/inputs.py).
MAX_FILE_BYTES = MAX_INPUT_BYTES
#: Warnings a command prints one by one before summing up the rest ("... and 18,990 more").
SHOWN_WARNINGS = 10

_SUPERSCRIPT = "⁰¹²³⁴⁵⁶⁷⁸⁹"
_SUP_TO_INT = str.maketrans(_SUPERSCRIPT, "0123456789")

# "L'Assemblée générale," / "The General Assembly," opens the body of every GA resolution.
# Every pattern below runs on text from the user's file, so none may backtrack over a long run: each stops at the
# characters that could start another match (a run of 60,000 "[" took 30 s when `[^\]]*` scanned to the end of the
# paragraph from every one of them), or is possessive (`\s*+`).
_OPENING = re.compile(r"^\s*(L[’']Assemblée générale|The General Assembly)\s*+(?:,\s*+)?$", re.IGNORECASE)
_FOOTNOTE_LINE = re.compile(rf"^\s*([{_SUPERSCRIPT}]+)\s+(.*)$", re.DOTALL)
_OPERATIVE = re.compile(r"^\s*(\d{1,3})\.\s+(.*)$", re.DOTALL)
# Sub-items of a paragraph ("a) ...", "(b) ...", "(iv) ...") belong to the paragraph above them.
_SUBITEM = re.compile(r"^\s*\(?([a-z]|[ivx]{1,5})\)\s")
_MARKER = re.compile(rf"(?<=\S)([{_SUPERSCRIPT}]{{1,2}})")
_LEADING_ITALIC = re.compile(r"^\s*\*([^*]+)\*")
#: A conversion's link, "[64/293](#)": its text is kept. Linear time: neither part runs past a bracket or parenthesis
#: (web/render.py uses these two patterns too).
LINK = re.compile(r"\[([^\[\]]*)\]\([^()\[\]\s]*\)")
#: A conversion's superscript, "46^e^" or "^{e}": its text is kept. Linear time: the braces hold no brace or caret.
CARET_SUP = re.compile(r"\^\{([^{}^]*)\}|\^([A-Za-zÀ-ÿ]+)\^?")
_SYMBOL = re.compile(r"^\s*(\d{2,3})/(\d{1,4})\.\s+(.+)$")
# The symbol as printed at the top of the official text: "A/RES/75/158", "United Nations A/RES/75/158",
# "Nations Unies A/RES/75/158*" (a reissue is starred).
_RES_SYMBOL = re.compile(r"(?:^|\s)A/RES/(\d{1,3})/(\d{1,4})\b\*?(?=\s|$)")
# The adoption line says the text's language before any paragraph does.
_ADOPTED: tuple[tuple[re.Pattern[str], Lang], ...] = (
    (re.compile(r"R[ée]solution\s+adopt[ée]e\s+par\s+l[’']Assembl[ée]e\s+g[ée]n[ée]rale", re.IGNORECASE), "fr"),
    (re.compile(r"Resolution\s+adopted\s+by\s+the\s+General\s+Assembly", re.IGNORECASE), "en"),
)
_CLOSING = re.compile(r"(séance plénière|plenary meeting)", re.IGNORECASE)
_LOCATOR = re.compile(r",\s*(vol\.|p\.|pp\.|chap\.|sect\.|n°|No\.|para\.|par\.|annex|annexe)", re.IGNORECASE)
_IBID = re.compile(r"^\s*\*?Ibid\.?\*?\.?\s*(.*)$", re.IGNORECASE | re.DOTALL)
#: Invisible formatting characters: bidi overrides, embeddings and isolates (U+202A-E, U+2066-9: U+202E shows a quote
#: reversed), zero-width spaces and joiners, word joiners, the BOM, soft hyphens. Removed at ingest (each unit that
#: held one is named in a warning), as questions have them removed: a quoted paragraph shows what it says.
_INVISIBLE = re.compile("[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]")


def clean(text: str) -> str:
    """Remove conversion markup, footnote markers and invisible formatting characters; keep the words."""
    text = _INVISIBLE.sub("", text)
    # Taking one form away can make another ("^*A" -> "^A"), so the passes repeat until nothing changes; each pass is
    # linear and shortens the text, and real files need one (the bound keeps a hostile one linear too).
    for _ in range(4):
        before = text
        text = text.replace("*", "")
        text = LINK.sub(r"\1", text)
        text = CARET_SUP.sub(lambda m: m.group(1) if m.group(1) is not None else m.group(2), text)
        text = _MARKER.sub("", text)
        if text == before:
            break
    return re.sub(r"\s+", " ", text).strip()


def _markers(text: str) -> list[str]:
    seen: list[str] = []
    for m in _MARKER.finditer(LINK.sub(r"\1", text)):
        fid = f"fn{int(m.group(1).translate(_SUP_TO_INT))}"
        if fid not in seen:
            seen.append(fid)
    return seen


def _blocks(text: str) -> list[str]:
    """Paragraph blocks: runs of non-blank lines joined by a space."""
    blocks, current = [], []
    for line in text.splitlines():
        if line.strip():
            current.append(line.strip())
        elif current:
            blocks.append(" ".join(current))
            current = []
    if current:
        blocks.append(" ".join(current))
    return blocks


def _starts_lower(block: str) -> bool:
    for ch in block.lstrip("*«“\"'( "):
        if ch.isalpha():
            return ch.islower()
        if ch.isdigit():
            return False
    return False


def _unfinished(piece: str) -> bool:
    """A paragraph that stops without closing punctuation was cut by a page break."""
    return not piece.rstrip(" *_").endswith((",", ";", ".", ":", "!", "?"))


@dataclass
class _Draft:
    kind: Literal["preambular", "operative"]
    number: int | None
    pieces: list[str] = field(default_factory=list)

    @property
    def joined(self) -> str:
        return " ".join(self.pieces)


@dataclass
class _Body:
    """The body of a resolution, block by block: paragraph drafts, footnote texts, the closing lines."""

    drafts: list[_Draft] = field(default_factory=list)
    footnotes: list[tuple[int, str]] = field(default_factory=list)  # (number, raw text)
    closing: list[str] = field(default_factory=list)


def _detect_lang(header_blocks: list[str], opening: str) -> Lang:
    """The language the header's adoption line is written in; else that of the opening line."""
    for block in header_blocks:
        for pattern, lang in _ADOPTED:
            if pattern.search(clean(block)):
                return lang
    return "en" if opening.lower().lstrip("* ").startswith("the general assembly") else "fr"


def _symbol_and_title(header_blocks: list[str], name: str, warnings: list[str]) -> tuple[str, str]:
    """The symbol and title from the header: the "75/158. Title" line, else an "A/RES/75/158" line."""
    numbered = printed = None
    for block in header_blocks:
        text = clean(block)
        if numbered is None and (m := _SYMBOL.match(text)):
            numbered = (f"A/RES/{m.group(1)}/{m.group(2)}", m.group(3).strip())
        if printed is None and (m := _RES_SYMBOL.search(text)):
            printed = f"A/RES/{m.group(1)}/{m.group(2)}"
    if numbered is not None:
        if printed is not None and printed != numbered[0]:
            warnings.append(f"{name}: the header prints {printed} but its title line says {numbered[0]}; {printed} kept")
            return printed, numbered[1]
        return numbered
    if printed is not None:
        return printed, ""
    raise InputFileError(
        f"{name}: no document symbol in the header; add a line such as \"75/158. Title\" or \"A/RES/75/158\" "
        "before \"L'Assemblée générale,\" / \"The General Assembly,\""
    )


def _resolve_sources(footnotes: list[tuple[int, str]]) -> dict[int, str]:
    """Full reference of each footnote; "Ibid., vol. 2237" takes the work named by the footnote before it."""
    sources: dict[int, str] = {}
    previous: str | None = None
    for number, raw in footnotes:
        text = clean(raw)
        m = _IBID.match(raw.replace("*Ibid.*", "Ibid."))
        if m and previous is not None:
            rest = clean(m.group(1)).lstrip(",;. ")
            if rest:
                loc = _LOCATOR.search(previous)
                work = previous[: loc.start()] if loc else previous.rstrip(".")
                source = f"{work}, {rest}"
            else:
                source = previous
        else:
            source = text
        sources[number] = source
        previous = source
    return sources


def parse_text(text: str, *, name: str = "<text>") -> Document:
    """Parse resolution text. Raises InputFileError when no paragraph or no document symbol can be recognised."""
    blocks, hidden = _visible(_blocks(text))
    opening_at = _opening(blocks, name)
    header_blocks = blocks[: opening_at + 1]
    warnings: list[str] = []
    body = _read_body(blocks[opening_at + 1 :], name, warnings)
    if not body.drafts:
        raise InputFileError(f"{name}: no preambular or operative paragraphs recognised; check the file is a resolution text")
    if not body.closing:
        # Every resolution ends with its plenary meeting line: without it the file was probably cut short.
        warnings.append(
            f"{name}: no closing line (\"… séance plénière\" / \"… plenary meeting\") after the last paragraph; "
            "the file may be truncated: check it ends where the resolution ends"
        )
    lang = _detect_lang(header_blocks[:-1], blocks[opening_at])
    symbol, title = _symbol_and_title(header_blocks[:-1], name, warnings)
    units = [_header_unit(symbol, lang, header_blocks + body.closing)]
    _check_numbering(body.drafts, name, warnings)
    units += _paragraph_units(body.drafts, symbol, lang, name, warnings)
    units += _footnote_units(body.footnotes, symbol, lang, name, warnings)
    _warn_hidden(units, hidden, name, warnings)
    known = {u.id for u in units if u.kind == "footnote"}
    referenced = {f for u in units for f in u.footnotes}
    for missing in sorted(referenced - known, key=lambda f: int(f[2:])):
        warnings.append(f"{name}: marker for {missing} but no such footnote text")
    return Document(symbol=symbol, lang=lang, title=title, units=tuple(units), warnings=tuple(warnings))


def _visible(blocks: list[str]) -> tuple[list[str], dict[str, set[str]]]:
    """The blocks without invisible formatting characters, and what each changed block held (by its new text)."""
    kept: list[str] = []
    hidden: dict[str, set[str]] = {}
    for block in blocks:
        found = set(_INVISIBLE.findall(block))
        if found:
            block = _INVISIBLE.sub("", block).strip()
            if not block:
                continue
            hidden.setdefault(block, set()).update(found)
            for numbered in (_FOOTNOTE_LINE, _OPERATIVE):  # such a unit's raw text is the block after its number
                if rest := numbered.match(block):
                    hidden.setdefault(rest.group(2), set()).update(found)
        kept.append(block)
    return kept, hidden


def _warn_hidden(units: list[Unit], hidden: dict[str, set[str]], name: str, warnings: list[str]) -> None:
    """One warning per unit that held invisible formatting characters (removed by _visible)."""
    if not hidden:
        return
    for unit in units:
        found = set().union(*(hidden.get(piece, set()) for piece in unit.raw.split("\n\n")))
        if found:
            codes = ", ".join(f"U+{ord(c):04X} {unicodedata.name(c, 'FORMAT CHARACTER')}" for c in sorted(found))
            warnings.append(f"{name}: {unit.id} held invisible formatting characters ({codes}); removed")


def _opening(blocks: list[str], name: str) -> int:
    """Where "L'Assemblée générale," / "The General Assembly," opens the body."""
    opening_at = next((i for i, b in enumerate(blocks) if _OPENING.match(b)), None)
    if opening_at is None:
        raise InputFileError(
            f"{name}: no \"L'Assemblée générale,\" or \"The General Assembly,\" line found; "
            "this does not look like a General Assembly resolution"
        )
    return opening_at


def _read_body(blocks: list[str], name: str, warnings: list[str]) -> _Body:
    """Sort the blocks after the opening line into paragraphs (joining pieces cut by page breaks), footnotes
    and closing lines."""
    body = _Body()
    in_operative = False
    pp_count = 0
    for block in blocks:
        if m := _FOOTNOTE_LINE.match(block):
            body.footnotes.append((int(m.group(1).translate(_SUP_TO_INT)), m.group(2)))
            continue
        last = body.drafts[-1] if body.drafts else None
        numbered = _OPERATIVE.match(block)
        if in_operative and not _starts_lower(block) and (body.closing or _CLOSING.search(block)):
            body.closing.append(block)  # "*46e séance plénière / 16 décembre 2020*"
            continue
        if last is not None and (
            _starts_lower(block) or _SUBITEM.match(block) or (_unfinished(last.pieces[-1]) and not numbered)
        ):
            last.pieces.append(block)  # the rest of a paragraph cut by a page break, or a sub-item
            continue
        if numbered:
            in_operative = True
            body.drafts.append(_Draft("operative", int(numbered.group(1)), [numbered.group(2)]))
            continue
        if in_operative:
            # An unnumbered block inside the operative part that is neither a continuation nor the
            # closing formula: keep it with the paragraph above rather than lose it.
            assert last is not None
            warnings.append(f"{name}: unnumbered block after par. {last.number} kept with it: {block[:60]!r}")
            last.pieces.append(block)
            continue
        pp_count += 1
        body.drafts.append(_Draft("preambular", pp_count, [block]))
    return body


def _check_numbering(drafts: list[_Draft], name: str, warnings: list[str]) -> None:
    """Warn about operative numbers a resolution does not have: 0, a first one that is not 1, a jump (1 then 999).

    Kept and indexed all the same (a repeat is warned about, and renamed, in _paragraph_units).
    """
    previous: int | None = None
    for draft in drafts:
        if draft.kind != "operative" or draft.number is None:
            continue
        number = draft.number
        if number == 0:
            warnings.append(f"{name}: a paragraph is numbered 0; operative paragraphs are numbered from 1, check the file")
        elif previous is None and number != 1:
            warnings.append(
                f"{name}: the first operative paragraph is numbered {number}, not 1; paragraphs may be missing"
            )
        elif previous is not None and number not in (previous, previous + 1):
            warnings.append(
                f"{name}: paragraph {number} follows paragraph {previous}; paragraphs may be missing or out of order"
            )
        previous = number


def summarise_warnings(warnings: Sequence[str], shown: int = SHOWN_WARNINGS) -> list[str]:
    """The lines to print for a document's warnings: the first `shown`, then one line counting the rest."""
    lines = list(warnings[:shown])
    if len(warnings) > shown:
        lines.append(f"... and {len(warnings) - shown:,} more warnings like these")
    return lines


def _header_unit(symbol: str, lang: Lang, blocks: list[str]) -> Unit:
    """The header: everything before the opening line (with it), and the closing lines."""
    raw = "\n\n".join(blocks)
    return Unit(
        doc=symbol,
        id="header",
        kind="header",
        number=None,
        text=clean(" ".join(blocks)),
        raw=raw,
        footnotes=tuple(_markers(raw)),
        lang=lang,
    )


def _paragraph_units(drafts: list[_Draft], symbol: str, lang: Lang, name: str, warnings: list[str]) -> list[Unit]:
    """The preambular and operative paragraphs, in order; a repeated number gets a spare id (OP1b)."""
    units: list[Unit] = []
    seen_ids: set[str] = set()
    for d in drafts:
        uid = f"{'PP' if d.kind == 'preambular' else 'OP'}{d.number}"
        if uid in seen_ids:
            # OP1b, OP1c, ...: a number used three times must not give two units the same id.
            spare = next(c for n in range(2, len(drafts) + 2) if (c := f"{uid}{chr(96 + n) if n <= 26 else f'_{n}'}")
                         not in seen_ids)
            nth = "second" if spare == f"{uid}b" else "next"
            warnings.append(f"{name}: paragraph {uid} appears twice; the {nth} one is kept as {spare}")
            uid = spare
        seen_ids.add(uid)
        raw = "\n\n".join(d.pieces)
        phrase = _LEADING_ITALIC.match(d.pieces[0])
        units.append(
            Unit(
                doc=symbol,
                id=uid,
                kind=d.kind,
                number=d.number,
                text=clean(d.joined),
                raw=raw,
                footnotes=tuple(_markers(raw)),
                phrase=clean(phrase.group(1)) if phrase else None,
                lang=lang,
            )
        )
    return units


def _footnote_units(
    footnotes: list[tuple[int, str]], symbol: str, lang: Lang, name: str, warnings: list[str]
) -> list[Unit]:
    """The footnotes in number order, "Ibid." resolved; of a number given twice, the first."""
    footnotes = sorted(footnotes, key=lambda item: item[0])  # "Ibid." means the note numbered just before
    sources = _resolve_sources(footnotes)
    units: list[Unit] = []
    known: set[str] = set()
    for number, raw in footnotes:
        fid = f"fn{number}"
        if fid in known:
            warnings.append(f"{name}: footnote {number} appears twice; the first one is kept")
            continue
        known.add(fid)
        units.append(
            Unit(
                doc=symbol,
                id=fid,
                kind="footnote",
                number=number,
                text=clean(raw),
                raw=raw,
                source=sources[number],
                lang=lang,
            )
        )
    return units


def read_text(path: Path) -> str:
    """Read a resolution file as UTF-8, with one-line errors for the usual ways it goes wrong (core/inputs.py).

    Refused (InputFileError, nothing indexed): a missing path, a folder, a FIFO, a device or a socket, a symbolic-link
    loop, an unreadable file; a file over MAX_FILE_BYTES (checked before reading it); an empty or whitespace-only
    file; UTF-16/UTF-32 text (named as such); a binary file (NUL bytes, PDF, zip or Word...); text that is not UTF-8
    (e.g. latin-1), including a file cut in the middle of a character. A file cut between characters is text:
    parse_text reads what is there and warns about what it misses (footnote markers without their note), like
    duplicated paragraph numbers: warn and go on.
    """
    return read_input(path, RESOLUTION)

