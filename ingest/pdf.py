"""Read a resolution's PDF as the UN publishes it: pages -> paragraphs and footnotes, from character positions and sizes.

Why pdfplumber (pdfminer.six underneath): the layout is the only thing that tells a footnote marker from a number
(a raised, smaller glyph), a footnote from a paragraph (below a short rule, in a smaller size), a running head from
text (its place on the page) and italics from roman (the font's name); pdfplumber gives each character's box, size
and font and each drawn rule in one pure-Python API, so nothing is compiled and every failure is a Python exception
this module can name. pypdf's layout mode gives text, not glyph sizes; pypdfium2 is faster but gives neither the
rules nor font names as readily. The cost: pdfminer needs ~4 s of processor time for the 13-page fixture, and it
inflates a stream whole, with no limit (a 1 MB stream can inflate to a gigabyte); so the reading runs in a child
process with limits on memory (address space), processor and wall-clock time, and pages (`read_pdf`).

What never enters a unit: the masthead of page 1 (United Nations / Nations Unies, organ, symbol, Distr., date) -- its
symbol and language are the document's; running heads (symbol, title); footers (job number, page number, bar code).
"""

from __future__ import annotations

import json
import os
import re
import signal
import statistics
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any

from resolution_qa.core.errors import InputFileError, one_line

from .layout import (
    FOOTER_LINE,
    MASTHEAD_LINE,
    SYMBOL,
    Block,
    Glyph,
    Masthead,
    compose,
    is_opening,
    join_lines,
    markup,
    parse_layout,
    vocabulary,
)
from .units import Document

#: Pages read at most: the longest General Assembly resolutions run to ~100 pages; pdfminer needs ~0.25 s of
#: processor time a page (4.2 s for the 13-page fixture, imports included), so 300 pages stay within CPU_LIMIT_S.
MAX_PAGES = 300
#: Characters read at most (the bundled resolution has ~54,000; a page of hostile text can hold millions).
MAX_CHARS = 5_000_000
#: Processor seconds for the whole reading (RLIMIT_CPU): a machine busy with other work slows the clock, not this.
CPU_LIMIT_S = 120
#: Wall-clock seconds, against a child that waits on nothing but must never hang a command or the chat app.
WALL_LIMIT_S = 300.0
#: Address space of the reading process (RLIMIT_AS): it peaks at ~125 MB resident on the 13-page fixture, and a
#: limit of 250 MB still reads it.
MEMORY_LIMIT_MB = 1024

_ITALIC = re.compile(r"italic|oblique|[-,]it(?:$|[^a-z])", re.IGNORECASE)
_OPERATIVE = re.compile(r"^\s*\d{1,3}\.\s")
# Typographic ligatures some fonts draw as one glyph: the letters they stand for.
_LIGATURES = {"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl", "\ufb05": "st",
              "\ufb06": "st"}


@dataclass
class _Line:
    chars: list[dict[str, Any]]
    top: float
    bottom: float
    size: float = 0.0  # the size most of its characters have
    base: float = 0.0  # the bottom of those characters
    x0: float = 0.0
    glyphs: list[Glyph] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(g.char for g in self.glyphs)


# --- one page -------------------------------------------------------------------------------------------------------


def _cluster(chars: list[dict[str, Any]]) -> list[_Line]:
    """Characters -> lines: a character joins the line whose band holds its middle (a raised marker does: its middle
    stays inside the line's band; it is no line of its own)."""
    lines: list[_Line] = []
    for c in sorted(chars, key=lambda c: (c["top"], c["x0"])):
        middle = (c["top"] + c["bottom"]) / 2
        line = lines[-1] if lines else None
        if line is not None and line.top - 0.5 <= middle <= line.bottom + 0.5:
            line.chars.append(c)
            line.top, line.bottom = min(line.top, c["top"]), max(line.bottom, c["bottom"])
        else:
            lines.append(_Line([c], c["top"], c["bottom"]))
    for line in lines:
        _shape(line)
    return [line for line in lines if line.glyphs]


def _shape(line: _Line) -> None:
    """The line's glyphs in reading order: spaces from the gaps, raised digits as markers, italics from the font."""
    sizes = Counter(round(c["size"], 1) for c in line.chars if c["text"].strip())
    if not sizes:
        return
    line.size = sizes.most_common(1)[0][0]
    line.base = statistics.median(c["bottom"] for c in line.chars if round(c["size"], 1) == line.size)
    chars = sorted((c for c in line.chars if c["text"].strip()), key=lambda c: c["x0"])
    line.x0 = chars[0]["x0"]
    previous: dict[str, Any] | None = None
    for c in chars:
        raised = c["size"] <= 0.85 * line.size and c["bottom"] < line.base - 0.15 * line.size
        marker = raised and c["text"].isdigit()
        italic = bool(_ITALIC.search(c.get("fontname") or ""))
        if previous is not None:
            gap = c["x0"] - previous["x1"]
            if gap > 0.12 * line.size and not marker:
                line.glyphs.append(Glyph(" "))
        for char in _LIGATURES.get(c["text"], c["text"]):
            line.glyphs.append(Glyph(char, italic, marker))
        previous = c


def _rules(page: Any) -> list[float]:
    """Tops of short horizontal rules in the lower part of the page: footnote separators."""
    tops = []
    for edge in page.horizontal_edges:
        width = edge["x1"] - edge["x0"]
        if 18 <= width <= 0.45 * page.width and edge["top"] > 0.25 * page.height:
            tops.append(edge["top"])
    return sorted(tops)


@dataclass
class _Page:
    body: list[_Line]
    notes: list[_Line]


def _split(lines: list[_Line], rules: list[float], body_size: float) -> _Page:
    """A page's lines (furniture removed) -> body and footnotes: below the lowest short rule that has text under
    it; with no rule, the small print at the foot of the page."""
    below = [t for t in rules if any(line.top > t for line in lines)]
    if below:
        cut = below[-1]
        return _Page([ln for ln in lines if ln.top <= cut], [ln for ln in lines if ln.top > cut])
    notes: list[_Line] = []
    for line in reversed(lines):
        if line.size > 0.9 * body_size:
            break
        notes.insert(0, line)
    if len(notes) < len(lines):
        return _Page(lines[: len(lines) - len(notes)], notes)
    return _Page(lines, [])


def _drop_furniture(lines: list[_Line], number: int, masthead: Masthead) -> list[_Line]:
    """Remove the masthead (page 1), running heads (lines at the top naming the symbol) and footers."""
    kept = list(lines)
    if number == 1:
        while kept and MASTHEAD_LINE.fullmatch(kept[0].text):
            masthead.read(kept.pop(0).text)
    else:
        for _ in range(2):  # a running head names the symbol and stands apart, above the body
            if kept and SYMBOL.search(kept[0].text) and _apart(kept):
                masthead.read(kept.pop(0).text)
    for _ in range(3):
        if kept and FOOTER_LINE.fullmatch(kept[-1].text):
            kept.pop()
    return kept


def _apart(lines: list[_Line]) -> bool:
    """Whether the first line stands apart from the next, as a running head does (lines of a paragraph are ~0.2 of
    their size apart, paragraphs ~0.8)."""
    return len(lines) < 2 or lines[1].top - lines[0].bottom > 1.2 * lines[0].size


# --- the document ---------------------------------------------------------------------------------------------------


def _blocks(pages: list[_Page], body_size: float) -> tuple[list[Block], list[Block], list[int]]:
    """Paragraph blocks across pages (a page that opens without an indent continues the paragraph before it),
    footnote blocks (a footnote continued on the next page joined), and the footnote numbers."""
    body_lines = [ln for p in pages for ln in p.body if abs(ln.size - body_size) < 0.6]
    left = Counter(round(ln.x0) for ln in body_lines).most_common(1)[0][0] if body_lines else 0
    pitches = [b.base - a.base for p in pages for a, b in zip(p.body, p.body[1:], strict=False) if b.base > a.base]
    # The line pitch: the smallest step between lines that recurs (a median would be the paragraph step in a text
    # of short paragraphs).
    steps = Counter(round(p * 2) / 2 for p in pitches)
    pitch = min((p for p, n in steps.items() if n > 1), default=min(steps, default=body_size * 1.2))
    indented = any(ln.x0 > left + 0.8 * body_size for ln in body_lines)
    blocks: list[Block] = []
    last: _Line | None = None
    for page in pages:
        previous: _Line | None = None  # the line above on this page
        for line in page.body:
            starts = (
                last is None
                or line.x0 > left + 0.8 * line.size
                or _OPERATIVE.match(line.text) is not None
                or abs(line.size - last.size) > 0.6
                or (previous is None and not indented)  # no indents to go by: the parser joins pieces (parser.py)
                or (previous is not None and line.base - previous.base > 1.3 * pitch)
            )
            if starts:
                blocks.append(Block())
            blocks[-1].lines.append(line.glyphs)
            previous = last = line
    notes: list[Block] = []
    numbers: list[int] = []
    for page in pages:
        for line in page.notes:
            if (n := _note_number(line, numbers)) is not None:
                numbers.append(n)
                notes.append(Block([_after_number(line.glyphs)]))
            elif notes:
                notes[-1].lines.append(line.glyphs)  # a wrapped line, or a note continued from the page before
    return blocks, notes, numbers


def _note_number(line: _Line, numbers: list[int]) -> int | None:
    """The number a footnote line starts with: raised digits, or plain ones followed by a space that are the next
    note's number."""
    digits = ""
    for g in line.glyphs:
        if not g.marker:
            break
        digits += g.char
    if digits:
        return int(digits)
    m = re.match(r"(\d{1,3})\s", line.text)
    if m and int(m.group(1)) == (numbers[-1] + 1 if numbers else 1):
        return int(m.group(1))
    return None


def _after_number(glyphs: list[Glyph]) -> list[Glyph]:
    i = 0
    while i < len(glyphs) and (glyphs[i].marker or glyphs[i].char.isdigit()):
        i += 1
    return glyphs[i:]


def layout_text(data: bytes) -> tuple[str, Masthead, int]:
    """The PDF's normalised text (ingest/layout.py), its masthead and page count. Raises pdfminer's exceptions and
    ValueError for what this module refuses (too many pages, characters; no text layer)."""
    import pdfplumber

    masthead = Masthead()
    read: list[tuple[list[_Line], list[float]]] = []
    sizes: Counter[float] = Counter()
    chars = 0
    with pdfplumber.open(BytesIO(data)) as pdf:
        if not pdf.pages:
            raise ValueError("is a damaged PDF (it has no pages); download it again")
        if len(pdf.pages) > MAX_PAGES:
            raise ValueError(f"has {len(pdf.pages)} pages; one resolution has at most {MAX_PAGES}")
        for number, page in enumerate(pdf.pages, start=1):
            found = [c for c in page.chars if c.get("upright", True) and c["text"]]
            chars += len(found)
            if chars > MAX_CHARS:
                raise ValueError(f"holds more than {MAX_CHARS:,} characters; one resolution holds far fewer")
            sizes.update(round(c["size"], 1) for c in found if c["text"].strip())
            read.append((_drop_furniture(_cluster(found), number, masthead), _rules(page)))
            page.close()  # pdfplumber keeps each page's objects otherwise
    if sum(sizes.values()) < 10 * len(read):  # a resolution's page holds ~3,000 characters; a scan, a stamp at most
        raise ValueError("no text layer: run OCR first (its pages are images, a scan)")
    body_size = sizes.most_common(1)[0][0]
    pages = [_split(lines, rules, body_size) for lines, rules in read]
    return _text(pages, body_size), masthead, len(pages)


def _text(pages: list[_Page], body_size: float) -> str:
    blocks, notes, numbers = _blocks(pages, body_size)
    words = vocabulary([*blocks, *notes])
    header: list[str] = []
    body: list[str] = []
    opened = False
    for block in blocks:
        glyphs = join_lines(block, words)
        text = markup(glyphs, italics=opened)
        if not opened and is_opening(text):
            opened = True
            text = text.replace("*", "")
        (body if opened else header).append(text)
    return compose(header, body, [(n, markup(join_lines(b, words))) for n, b in zip(numbers, notes, strict=True)])


# --- the bounded reading ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PdfText:
    text: str
    masthead: Masthead
    pages: int


def read_pdf(data: bytes, name: str, *, cpu_s: int = CPU_LIMIT_S, memory_mb: int = MEMORY_LIMIT_MB,
             wall_s: float = WALL_LIMIT_S) -> PdfText:
    """The PDF's normalised text, read in a child process limited in processor time, memory and wall-clock time;
    InputFileError in one line for a PDF that cannot be read."""
    if b"%%EOF" not in data[-2048:]:
        raise InputFileError(f"{name}: is a PDF that looks truncated (no %%EOF end marker); download it again")
    command = [sys.executable, "-m", "resolution_qa.ingest.pdf", str(memory_mb), str(cpu_s)]
    too_slow = (f"{name}: reading this PDF took more than {{}}; it is too complex for one resolution (split it, or "
                "export the resolution as text)")
    try:
        done = subprocess.run(command, input=data, capture_output=True, timeout=wall_s, check=False,
                              env={**os.environ, "PYTHONWARNINGS": "ignore"})
    except subprocess.TimeoutExpired:
        raise InputFileError(too_slow.format(f"{wall_s:g} s")) from None
    if done.returncode in (-signal.SIGXCPU, -signal.SIGKILL) and not done.stdout:
        raise InputFileError(too_slow.format(f"{cpu_s} s of processor time"))
    try:
        answer = json.loads(done.stdout.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        last = (done.stderr.decode("utf-8", "replace").strip().splitlines() or ["no output"])[-1]
        if done.returncode < 0 or "MemoryError" in last:
            raise InputFileError(f"{name}: reading this PDF needs more than {memory_mb} MB of memory; it is too large "
                                 "or damaged (export the resolution as text, or download it again)") from None
        raise InputFileError(f"{name}: could not read this PDF ({last[:200]}); download it again") from None
    if "error" in answer:
        raise InputFileError(f"{name}: {answer['error']}")
    return PdfText(answer["text"], Masthead(answer["symbol"], answer["lang"]), answer["pages"])


def parse_pdf(data: bytes, name: str, *, bounded: bool = True) -> Document:
    """A resolution's PDF -> its document (the same units as its .txt). `bounded=False` reads it in this process,
    without the time and memory limits: for PDFs this program made (tests)."""
    if bounded:
        read = read_pdf(data, name)
    else:
        text, masthead, pages = layout_text(data)
        read = PdfText(text, masthead, pages)
    return parse_layout(read.text, read.masthead, name, "this PDF")


def _refusal(exc: BaseException, memory_mb: int) -> str:
    """What went wrong in the child, in one line for the user."""
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
    from pdfminer.pdfparser import PDFSyntaxError
    from pdfminer.psexceptions import PSException
    from pdfplumber.utils.exceptions import PdfminerException

    if isinstance(exc, PdfminerException) and exc.args and isinstance(exc.args[0], BaseException):
        exc = exc.args[0]  # pdfplumber wraps what pdfminer raised

    if isinstance(exc, PDFPasswordIncorrect | PDFEncryptionError):
        return "is an encrypted (password-protected) PDF; open it and save an unprotected copy, then add that"
    if isinstance(exc, ValueError) and not isinstance(exc, PSException) and type(exc) is ValueError:
        return str(exc)
    if isinstance(exc, PDFSyntaxError | PSException):
        return f"is a damaged PDF ({one_line(exc, kind=True)}); download it again"
    if isinstance(exc, MemoryError):
        return (f"reading this PDF needs more than {memory_mb} MB of memory; it is too large or damaged (export the "
                "resolution as text, or download it again)")
    return f"could not read this PDF ({one_line(exc, kind=True)}); download it again"


def _child(memory_mb: int, cpu_s: int) -> None:
    """The child process: PDF bytes on stdin, one JSON object on stdout."""
    import logging
    import resource

    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 5))  # SIGXCPU ends it, SIGKILL 5 s later
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a crash leaves no core file behind
    logging.disable(logging.WARNING)  # pdfminer logs every odd object; the user gets one line
    data = sys.stdin.buffer.read()
    try:
        text, masthead, pages = layout_text(data)
        answer: dict[str, Any] = {"text": text, "symbol": masthead.symbol, "lang": masthead.lang, "pages": pages,
                                  "peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}
    except Exception as exc:  # noqa: BLE001  # every failure of a hostile file becomes its one line
        answer = {"error": _refusal(exc, memory_mb)}
    sys.stdout.write(json.dumps(answer, ensure_ascii=False))


if __name__ == "__main__":
    _child(int(sys.argv[1]), int(sys.argv[2]))
