"""Read a resolution's Word file (.docx): paragraphs, real footnotes, superscript markers, italics (python-docx).

The .docx is a zip; before python-docx opens it, its directory is checked (entry count, unpacked size), because
zipfile then never unpacks more than an entry declares: a zip bomb is refused before a byte is inflated. XML is
parsed by python-docx's parser (lxml, entities not resolved). The masthead sits in the first page's header and the
running heads in the others: headers and footers never enter the text; their symbol and language are read.
"""

from __future__ import annotations

import zipfile
from collections import Counter
from collections.abc import Iterator
from io import BytesIO
from typing import Any

from resolution_qa.core.errors import InputFileError, one_line

from .layout import MASTHEAD_LINE, Block, Glyph, Masthead, compose, is_opening, join_lines, markup, parse_layout
from .units import Document

#: Unpacked size of all entries together: a long resolution's .docx unpacks to a few MB (python-docx's own template
#: is 0.9 MB, most of it styles).
MAX_UNPACKED = 40_000_000
#: Entries in the zip (a .docx has ~20).
MAX_ENTRIES = 2_000

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_FOOTNOTES = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/footnotes"


def check_zip(data: bytes, name: str) -> None:
    """Refuse, from the zip's directory alone, what is not a .docx or would unpack to too much."""
    try:
        with zipfile.ZipFile(BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise InputFileError(f"{name}: is a damaged zip or Word file ({one_line(exc)}); save it again as .docx") from None
    if len(infos) > MAX_ENTRIES:
        raise InputFileError(f"{name}: is a zip of {len(infos):,} entries, not a Word document; save it as .docx")
    unpacked = sum(info.file_size for info in infos)
    if unpacked > MAX_UNPACKED:
        raise InputFileError(
            f"{name}: unpacks to {unpacked / 1e6:,.0f} MB (limit {MAX_UNPACKED / 1e6:g} MB): a zip bomb or not one "
            "resolution; save the resolution alone as .docx"
        )
    if "word/document.xml" not in {info.filename for info in infos}:
        raise InputFileError(f"{name}: is a zip file but not a Word document (.docx); save the resolution as .docx, "
                             "PDF or UTF-8 text")


def _on(element: Any, tag: str) -> bool:
    """Whether a run property (w:i, w:b) is on: present, and not w:val="0"/"false"."""
    found = element.find(f"{_W}{tag}") if element is not None else None
    return found is not None and found.get(f"{_W}val", "true").lower() not in ("0", "false", "off")


def _runs(paragraph: Any) -> Iterator[Any]:
    """A paragraph's runs in order, those inside hyperlinks, insertions and smart tags included; deletions not."""
    for element in paragraph.iter(f"{_W}r"):
        parent = element.getparent()
        if parent is not None and parent.tag == f"{_W}del":
            continue
        yield element


def _glyphs(paragraph: Any, numbers: dict[str, int]) -> list[Glyph]:
    """A paragraph's characters; a footnote reference becomes its number (Word numbers notes in order)."""
    out: list[Glyph] = []
    for run in _runs(paragraph):
        props = run.find(f"{_W}rPr")
        italic = _on(props, "i")
        align = props.find(f"{_W}vertAlign") if props is not None else None
        raised = align is not None and align.get(f"{_W}val") == "superscript"
        for child in run:
            tag = child.tag.removeprefix(_W)
            if tag == "t":
                out += [Glyph(ch, italic, raised and ch.isdigit()) for ch in child.text or ""]
            elif tag in ("tab", "br", "cr"):
                out.append(Glyph(" "))
            elif tag == "noBreakHyphen":
                out.append(Glyph("-", italic))
            elif tag == "footnoteReference":
                note = child.get(f"{_W}id")
                number = numbers.setdefault(note, len(numbers) + 1)
                out += [Glyph(d, italic, True) for d in str(number)]
    return out


def _footnotes(document: Any) -> dict[str, Any]:
    """The footnotes part's w:footnote elements by id (separators left out)."""
    from docx.oxml import parse_xml

    for rel in document.part.rels.values():
        if rel.reltype == _FOOTNOTES and not rel.is_external:
            root = parse_xml(rel.target_part.blob)
            return {n.get(f"{_W}id"): n for n in root.iter(f"{_W}footnote") if n.get(f"{_W}type") in (None, "normal")}
    return {}


def _masthead(document: Any) -> Masthead:
    masthead = Masthead()
    for section in document.sections:
        for part in (section.first_page_header, section.header, section.even_page_header):
            if not part.is_linked_to_previous:  # a linked one has no part (and asking for its element adds one)
                for p in part._element.iter(f"{_W}p"):
                    masthead.read("".join(g.char for g in _glyphs(p, {})))
    return masthead


def docx_text(data: bytes, name: str) -> tuple[str, Masthead]:
    """The .docx's normalised text (ingest/layout.py) and its masthead."""
    check_zip(data, name)
    import docx

    try:
        document = docx.Document(BytesIO(data))
        masthead = _masthead(document)
        paragraphs = list(document.element.body.iter(f"{_W}p"))
        numbers: dict[str, int] = {}
        blocks = [Block([glyphs]) for p in paragraphs if (glyphs := _glyphs(p, numbers))]
        notes = _footnotes(document)
    except InputFileError:
        raise
    except Exception as exc:  # noqa: BLE001  # python-docx, lxml and zipfile each fail their own way on a bad file
        raise InputFileError(f"{name}: is a damaged Word file ({one_line(exc, kind=True)}); save it again as .docx") from None
    while blocks and MASTHEAD_LINE.fullmatch("".join(g.char for g in blocks[0].lines[0])):
        masthead.read("".join(g.char for g in blocks.pop(0).lines[0]))  # a masthead typed into the body
    if not any("".join(g.char for g in b.lines[0]).strip() for b in blocks):
        raise InputFileError(f"{name}: this Word file holds no paragraphs of text; is it the resolution?")
    words: Counter[str] = Counter()  # one line per paragraph: no word is cut at a line end
    header: list[str] = []
    body: list[str] = []
    for block in blocks:
        text = markup(join_lines(block, words), italics=bool(body))
        if not body and is_opening(text):
            body.append(text.replace("*", ""))
        else:
            (body if body else header).append(text)
    footnotes: list[tuple[int, str]] = []
    for note, number in sorted(numbers.items(), key=lambda item: item[1]):
        if note in notes:
            glyphs = [g for p in notes[note].iter(f"{_W}p") for g in (*_glyphs(p, {}), Glyph(" "))]
            footnotes.append((number, markup(glyphs)))
    return compose(header, body, footnotes), masthead


def parse_docx(data: bytes, name: str) -> Document:
    """A resolution's .docx -> its document (the same units as its .txt)."""
    text, masthead = docx_text(data, name)
    return parse_layout(text, masthead, name, "this Word file")
