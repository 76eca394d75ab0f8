"""Test fixtures: a resolution's .txt laid out as the UN publishes it, as a PDF (reportlab) and a Word file (python-docx).

The PDF follows what is known of the General Assembly layout: A4; on page 1 a masthead ("Nations Unies" and the
symbol on one line, "Assemblée générale", "Distr. générale" and the date on the right) above a full-width rule; on
the other pages running heads alternating left and right (symbol | title on even pages, title | symbol on odd ones)
over a rule; the job number ("20-17349 (F)") and page numbers ("3/9") in the footer; body text justified (each word
placed on its own, so the page holds no space characters); footnote markers as raised, smaller digits; footnotes
at the foot of the page under a short rule, a long one continuing on the next page; paragraphs running over page
breaks; long words hyphenated at line ends and compounds broken after their hyphen.

The Word file holds the same paragraphs with real footnotes (a footnotes part, w:footnoteReference markers), the
masthead in the first page's header and the running heads in the other headers.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from resolution_qa.ingest import parse_text

A4_W, A4_H = 595.27, 841.89
LEFT, RIGHT = 75.0, A4_W - 75.0
WIDTH = RIGHT - LEFT
INDENT = 36.0
BODY, BODY_LEAD, PARA_SPACE = 10.0, 12.0, 6.0
NOTE, NOTE_LEAD = 8.0, 9.5
TOP_FIRST, TOP_OTHER, BOTTOM = 230.0, 80.0, A4_H - 75.0  # distances from the top of the page
SUPERSCRIPT = "⁰¹²³⁴⁵⁶⁷⁸⁹"
FONTS = {"regular": "Times-Roman", "italic": "Times-Italic", "bold": "Times-Bold"}
_VOWELS = set("aeiouyàâéèêëîïôûùAEIOUYÉ")


# --- the text, as runs ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    text: str
    style: str = "regular"  # regular, italic, bold
    raised: bool = False  # a footnote marker or "er" in "1er"


Word = list[Run]


def runs(markup: str, base: str = "regular") -> list[Run]:
    """The .txt's inline markup as runs: *italic*, [text](#) links, ^{er}/^e raised letters, ¹² raised digits."""
    out: list[Run] = []
    italic = False
    pattern = re.compile(r"\*|\[([^\[\]]*)\]\([^()]*\)|\^\{([^{}]*)\}|\^([A-Za-z]+)\^?|([⁰¹²³⁴⁵⁶⁷⁸⁹]+)|([^*\[^⁰¹²³⁴⁵⁶⁷⁸⁹]+|.)")
    for m in pattern.finditer(markup):
        style = "italic" if italic else base
        if m.group(0) == "*":
            italic = not italic
        elif m.group(1) is not None:
            out.append(Run(m.group(1), style))
        elif m.group(2) is not None or m.group(3) is not None:
            out.append(Run(m.group(2) or m.group(3), style, raised=True))
        elif m.group(4) is not None:
            out.append(Run(m.group(4).translate(str.maketrans(SUPERSCRIPT, "0123456789")), "regular", raised=True))
        else:
            out.append(Run(m.group(0), style))
    return out


def words(markup: str, base: str = "regular") -> list[Word]:
    """Runs split into words at spaces (a word keeps its marker: "organisée¹")."""
    result: list[Word] = [[]]
    for run in runs(markup, base):
        for i, piece in enumerate(re.split(r"\s+", run.text)):
            if i > 0 and result[-1]:
                result.append([])
            if piece:
                result[-1].append(Run(piece, run.style, run.raised))
    return [w for w in result if w]


def markers(word: Word) -> list[int]:
    return [int(r.text) for r in word if r.raised and r.text.isdigit()]


# --- the resolution, from its .txt ------------------------------------------------------------------------------


@dataclass
class Source:
    """What a layout needs from a resolution's .txt: header lines, paragraphs (whole), footnotes, closing lines."""

    symbol: str
    title: str
    lang: str
    header: list[str]  # lines, the title line and the opening line included
    paragraphs: list[str]  # markup, a paragraph's page-break pieces joined, operative ones with their "N. "
    footnotes: dict[int, str]
    closing: list[str]


def _tail(lines: list[str], joined: str) -> list[str]:
    """The last lines of the file that make up `joined` (the closing block: "*46^e séance plénière" / "16 ...*")."""
    for k in range(1, 6):
        if " ".join(lines[-k:]) == joined:
            return lines[-k:]
    return [joined] if joined else []


def source(txt: str) -> Source:
    doc = parse_text(txt)
    blocks = doc.get("header").raw.split("\n\n")  # type: ignore[union-attr]
    opening = next(i for i, b in enumerate(blocks) if re.match(r"^(L[’']Assemblée générale|The General Assembly)", b))
    lines = [line.strip() for line in txt.splitlines() if line.strip()]
    at = next(i for i, line in enumerate(lines) if line == blocks[opening].strip())
    header = lines[: at + 1]  # the .txt's own lines: "Soixante-quinzième session" / "Point 28 de l'ordre du jour"
    closing = [line.strip("*") for line in _tail(lines, " ".join(blocks[opening + 1 :]))]
    paragraphs, footnotes = [], {}
    for unit in doc.units:
        joined = " ".join(unit.raw.split("\n\n"))
        if unit.kind == "preambular":
            paragraphs.append(joined)
        elif unit.kind == "operative":
            paragraphs.append(f"{unit.number}. {joined}")
        elif unit.kind == "footnote":
            footnotes[unit.number] = joined  # type: ignore[index]
    return Source(doc.symbol, doc.title, doc.lang, header, paragraphs, footnotes, closing)


# --- line breaking ----------------------------------------------------------------------------------------------


def width_of(word: Word, size: float) -> float:
    from reportlab.pdfbase.pdfmetrics import stringWidth

    return sum(stringWidth(r.text, FONTS[r.style], size * (0.65 if r.raised else 1)) for r in word)


@dataclass
class Line:
    words: list[Word]
    x: float
    width: float  # available
    size: float
    justify: bool = True
    align: str = "left"
    notes: list[int] = field(default_factory=list)  # footnotes first referenced on this line


@dataclass
class Stats:
    """What the laid-out fixture really holds, so a test can check the layout features are there."""

    pages: int = 0
    split_paragraphs: int = 0
    continued_footnotes: int = 0
    hyphenated: int = 0  # a word cut at a line end ("organi-" / "sations")
    compound_breaks: int = 0  # a compound broken after its own hyphen ("sous-" / "régionales")


def _hyphenate(word: Word, room: float, size: float, stats: Stats) -> tuple[Word, Word] | None:
    """Cut a word so its head (with a hyphen) fits in `room`: after a compound's own hyphen, else between syllables."""
    if len(word) != 1 or word[0].raised:
        return None
    text, style = word[0].text, word[0].style
    for i in range(len(text) - 2, 1, -1):  # after its own hyphen: "sous-" / "régionales"
        if text[i - 1] == "-" and text[i].isalpha() and width_of([Run(text[:i], style)], size) <= room:
            stats.compound_breaks += 1
            return [Run(text[:i], style)], [Run(text[i:], style)]
    if len(text) < 9 or not text.isalpha():
        return None
    for i in range(len(text) - 3, 3, -1):  # vowel | consonant, four letters kept before, three after
        if text[i - 1] in _VOWELS and text[i] not in _VOWELS and text[i].isalpha():
            head = [Run(text[:i] + "-", style)]
            if width_of(head, size) <= room:
                stats.hyphenated += 1
                return head, [Run(text[i:], style)]
    return None


def break_lines(ws: list[Word], *, size: float, x: float, first_indent: float, stats: Stats) -> list[Line]:
    """Greedy justified lines: the first indented by first_indent, the others at x."""
    space = width_of([Run(" ")], size)
    lines: list[Line] = []
    current: list[Word] = []
    used = 0.0
    queue = list(ws)
    while queue:
        word = queue.pop(0)
        lx = x + (first_indent if not lines else 0)
        avail = RIGHT - lx
        w = width_of(word, size)
        need = w + (space if current else 0)
        if used + need <= avail:
            current.append(word)
            used += need
            continue
        split = _hyphenate(word, avail - used - (space if current else 0), size, stats) if current else None
        if split is not None:
            current.append(split[0])
            queue.insert(0, split[1])
        else:
            queue.insert(0, word)
        lines.append(Line(current, lx, avail, size))
        current, used = [], 0.0
    if current:
        lx = x + (first_indent if not lines else 0)
        lines.append(Line(current, lx, RIGHT - lx, size, justify=False))
    return lines


# --- pages ------------------------------------------------------------------------------------------------------


@dataclass
class Page:
    body: list[tuple[float, Line]] = field(default_factory=list)  # (top, line)
    notes: list[Line] = field(default_factory=list)  # footnote lines, in order from the top of the area


def _note_lines(number: int, markup: str, stats: Stats) -> list[Line]:
    label: Word = [Run(str(number), raised=True)]
    lines = break_lines(words(markup), size=NOTE, x=LEFT + 14, first_indent=0, stats=stats)
    lines[0].words.insert(0, label)
    lines[0].x, lines[0].width = LEFT, RIGHT - LEFT  # the number hangs at the margin
    return lines


def paginate(src: Source, stats: Stats, *, continued: tuple[int, ...] = ()) -> list[Page]:
    """Place the lines on pages: a line goes where its new footnotes start on the same page; a footnote that does
    not fit continues at the foot of the next page, as do the `continued` ones (one line here, the rest over the
    page: the page is then full, as when Word splits a note)."""
    flows: list[list[Line]] = []
    for i, line in enumerate(src.header):
        bold = bool(re.match(r"^\d+/\d+\.", line))
        flows.append(break_lines(words(line, "bold" if bold else "regular"), size=BODY, x=LEFT, first_indent=0, stats=stats))
        for ln in flows[-1]:
            ln.justify = False
        if i == len(src.header) - 1:  # the opening line, a paragraph of its own
            flows[-1][0].x = LEFT + INDENT
    for paragraph in src.paragraphs:
        flows.append(break_lines(words(paragraph), size=BODY, x=LEFT, first_indent=INDENT, stats=stats))
    for line in src.closing:
        flow = break_lines(words(line, "italic"), size=BODY, x=LEFT + 250, first_indent=0, stats=stats)
        for ln in flow:
            ln.justify = False
        flows.append(flow)
    seen: set[int] = set()
    for flow in flows:
        for line in flow:
            line.notes = [n for w in line.words for n in markers(w) if n not in seen and not seen.add(n)]  # type: ignore[func-returns-value]
    pages = [Page()]
    y = TOP_FIRST
    carry: list[Line] = []

    def notes_height(page: Page, extra: int = 0) -> float:
        n = len(page.notes) + extra
        return n * NOTE_LEAD + (14 if n else 0)

    for flow in flows:
        if pages[-1].body:
            y += PARA_SPACE
        for k, line in enumerate(flow):
            page = pages[-1]
            new = [ln for n in line.notes for ln in _note_lines(n, src.footnotes[n], stats)]
            if y + BODY_LEAD + notes_height(page, len(new)) <= BOTTOM:
                fit = len(new)
            elif new and y + BODY_LEAD + notes_height(page, 1) <= BOTTOM:
                room = BOTTOM - y - BODY_LEAD - len(page.notes) * NOTE_LEAD - 14
                fit = max(1, min(int(room // NOTE_LEAD), len(new) - 1))
            else:
                fit = -1
            if fit < 0:  # the line goes to the next page
                if k > 0:
                    stats.split_paragraphs += 1
                pages.append(Page(notes=carry))
                carry = []
                page, y = pages[-1], TOP_OTHER
                fit = len(new)
            forced = any(n in continued for n in line.notes) and len(new) > 1
            if forced:
                fit = 1
            page.body.append((y, line))
            y += BODY_LEAD
            page.notes.extend(new[:fit])
            if fit < len(new):
                stats.continued_footnotes += 1
                carry.extend(new[fit:])
            if forced:
                y = BOTTOM  # the page is full: the next line starts the next page
    while carry:
        pages.append(Page(notes=carry))
        carry = []
    stats.pages = len(pages)
    return pages


# --- drawing ----------------------------------------------------------------------------------------------------


def _draw_word(c, word: Word, x: float, y: float, size: float) -> float:
    from reportlab.pdfbase.pdfmetrics import stringWidth

    for run in word:
        run_size = size * 0.65 if run.raised else size
        c.setFont(FONTS[run.style], run_size)
        c.drawString(x, y + (size * 0.35 if run.raised else 0), run.text)
        x += stringWidth(run.text, FONTS[run.style], run_size)
    return x


def _draw_line(c, line: Line, baseline: float) -> None:
    widths = [width_of(w, line.size) for w in line.words]
    space = width_of([Run(" ")], line.size)
    gaps = len(line.words) - 1
    if line.justify and gaps > 0:
        space = (line.width - sum(widths)) / gaps
    x = line.x
    for word, w in zip(line.words, widths, strict=True):
        _draw_word(c, word, x, baseline, line.size)
        x += w + space


def _texts(c, items: list[tuple[str, float, str, float]], y_top: float) -> None:
    """Left- or right-aligned strings: (text, x, font, size)."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    for text, x, font, size in items:
        if x < 0:  # right-aligned at -x
            x = -x - stringWidth(text, font, size)
        c.setFont(font, size)
        c.drawString(x, A4_H - y_top, text)


def _furniture(c, number: int, total: int, src: Source, job: str, date: str) -> None:
    """Masthead on page 1; running heads and page numbers on the others; the job number on all."""
    fr = src.lang == "fr"
    if number == 1:
        _texts(c, [("Nations Unies" if fr else "United Nations", LEFT, "Helvetica-Bold", 16),
                   (src.symbol, -RIGHT, "Helvetica-Bold", 16)], 60)
        _texts(c, [("Assemblée générale" if fr else "General Assembly", LEFT, "Helvetica-Bold", 14),
                   ("Distr. générale" if fr else "Distr.: General", RIGHT - 110, "Times-Roman", 10)], 82)
        _texts(c, [(date, RIGHT - 110, "Times-Roman", 10)], 94)
        c.setLineWidth(2)
        c.line(LEFT, A4_H - 110, RIGHT, A4_H - 110)
        _texts(c, [(f"{job} ({'F' if fr else 'E'})", LEFT, "Times-Roman", 8),
                   (f"*{job.replace('-', '')}*", -RIGHT, "Courier", 10)], A4_H - 40)
        _texts(c, [("Merci de recycler" if fr else "Please recycle", -RIGHT, "Helvetica", 6)], A4_H - 30)
        return
    head = [(src.symbol, LEFT, "Times-Bold", 9), (src.title, -RIGHT, "Times-Roman", 9)]
    foot = [(f"{number}/{total}", LEFT, "Times-Bold", 9), (job, -RIGHT, "Times-Roman", 8)]
    if number % 2:  # odd pages: mirrored
        head = [(src.title, LEFT, "Times-Roman", 9), (src.symbol, -RIGHT, "Times-Bold", 9)]
        foot = [(job, LEFT, "Times-Roman", 8), (f"{number}/{total}", -RIGHT, "Times-Bold", 9)]
    _texts(c, head, 45)
    c.setLineWidth(0.5)
    c.line(LEFT, A4_H - 50, RIGHT, A4_H - 50)
    _texts(c, foot, A4_H - 40)


def resolution_pdf(txt: str, path: Path, *, job: str = "20-17349", date: str = "5 janvier 2021", rule: bool = True,
                   encrypt: str | None = None, continued: tuple[int, ...] = (10, 32), symbol: str | None = None) -> Stats:
    """Write the resolution in `txt` (the .txt layout) to `path` as a UN-layout PDF; what it holds, in numbers.
    `symbol`: the one the masthead and running heads print, if not the title line's."""
    from reportlab.pdfgen.canvas import Canvas

    src = source(txt)
    src.symbol = symbol or src.symbol
    stats = Stats()
    pages = paginate(src, stats, continued=continued)
    c = Canvas(str(path), pagesize=(A4_W, A4_H), encrypt=encrypt)
    c.setTitle(src.title)
    for number, page in enumerate(pages, start=1):
        _furniture(c, number, len(pages), src, job, date)
        for top, line in page.body:
            _draw_line(c, line, A4_H - top - BODY)
        if page.notes:
            top = BOTTOM - len(page.notes) * NOTE_LEAD
            if rule:
                c.setLineWidth(0.5)
                c.line(LEFT, A4_H - top + 4, LEFT + 72, A4_H - top + 4)
            for i, line in enumerate(page.notes):
                _draw_line(c, line, A4_H - top - (i + 1) * NOTE_LEAD + 2)
        c.showPage()
    c.save()
    return stats


# --- Word -------------------------------------------------------------------------------------------------------


def _docx_runs(paragraph, markup: str, notes: dict[int, int], base: str = "regular") -> None:
    """Add the markup's runs to a python-docx paragraph; markers become real footnote references."""
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    for run in runs(markup, base):
        if run.raised and run.text.isdigit():
            ref = parse_xml(f'<w:r {nsdecls("w")}><w:rPr><w:vertAlign w:val="superscript"/></w:rPr>'
                            f'<w:footnoteReference w:id="{notes[int(run.text)]}"/></w:r>')
            paragraph._p.append(ref)
            continue
        r = paragraph.add_run(run.text)
        r.italic = run.style == "italic" or None
        r.bold = run.style == "bold" or None
        if run.raised:
            r.font.superscript = True


def _footnotes_part(document, src: Source, notes: dict[int, int]) -> None:
    """A real footnotes part (python-docx writes none): separator notes, then one w:footnote per note."""
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.opc.packuri import PackURI
    from docx.opc.part import Part

    ns = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    body = ['<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote>',
            '<w:footnote w:type="continuationSeparator" w:id="0"><w:p><w:r><w:continuationSeparator/></w:r></w:p>'
            "</w:footnote>"]
    for number, markup in sorted(src.footnotes.items()):
        sup = '<w:vertAlign w:val="superscript"/>'
        text = "".join(
            f'<w:r><w:rPr>{"<w:i/>" if r.style == "italic" else ""}{sup if r.raised else ""}'
            f'</w:rPr><w:t xml:space="preserve">{_xml(r.text)}</w:t></w:r>' for r in runs(markup))
        body.append(f'<w:footnote w:id="{notes[number]}"><w:p><w:r><w:rPr><w:vertAlign w:val="superscript"/></w:rPr>'
                    f'<w:footnoteRef/></w:r><w:r><w:t xml:space="preserve"> </w:t></w:r>{text}</w:p></w:footnote>')
    xml = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:footnotes {ns}>{"".join(body)}</w:footnotes>'
    part = Part(PackURI("/word/footnotes.xml"),
                "application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml",
                xml.encode(), document.part.package)
    document.part.relate_to(part, RT.FOOTNOTES)


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def resolution_docx(txt: str, path: Path, *, job: str = "20-17349", date: str = "5 janvier 2021") -> None:
    """Write the resolution in `txt` to `path` as a Word file: masthead in the first page's header, running heads in
    the others, paragraphs, real footnotes (ids deliberately not their numbers: Word numbers them in order)."""
    from docx import Document as Docx
    from docx.shared import Cm

    src = source(txt)
    document = Docx()
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.different_first_page_header_footer = True
    fr = src.lang == "fr"
    first = section.first_page_header
    first.paragraphs[0].text = f"{'Nations Unies' if fr else 'United Nations'}\t{src.symbol}"
    first.add_paragraph("Assemblée générale" if fr else "General Assembly")
    first.add_paragraph(f"{'Distr. générale' if fr else 'Distr.: General'}\t{date}")
    section.header.paragraphs[0].text = f"{src.symbol}\t{src.title}"
    section.first_page_footer.paragraphs[0].text = f"{job} ({'F' if fr else 'E'})"
    section.footer.paragraphs[0].text = job
    notes = {n: 100 + 3 * n for n in src.footnotes}  # w:id is not the number the reader must show
    for line in src.header:
        bold = bool(re.match(r"^\d+/\d+\.", line))
        _docx_runs(document.add_paragraph(), line, notes, "bold" if bold else "regular")
    for paragraph in src.paragraphs:
        _docx_runs(document.add_paragraph(), paragraph, notes)
    for line in src.closing:
        _docx_runs(document.add_paragraph(), line, notes, "italic")
    _footnotes_part(document, src, notes)
    document.save(str(path))


def units_of(doc) -> Iterator[tuple[str, str, tuple[str, ...], str | None, str | None]]:
    """What must match between the .txt and a PDF/Word file: each unit's id, text, footnote links, source, phrase."""
    for u in doc.units:
        yield u.id, u.text, u.footnotes, u.source, u.phrase


# --- the session's files ----------------------------------------------------------------------------------------

#: A small resolution written for these tests, in its two official versions (same numbers, same footnotes).
SMALL_FR = """Soixante-quinzième session
Point 29 de l'ordre du jour
Promotion des femmes

Résolution adoptée par l'Assemblée générale le 16 décembre 2020

[sur la base du rapport de la Troisième Commission (A/75/914, par. 12)]

75/904. Accès des femmes rurales à l'énergie propre (fixture de test)

L'Assemblée générale,

Rappelant sa résolution 70/1 du 25 septembre 2015, intitulée « Transformer notre monde : le Programme de développement durable à l'horizon 2030 »¹, et en particulier l'objectif 7, qui vise à garantir l'accès de tous à des services énergétiques fiables, durables et modernes, à un coût abordable, ainsi que les engagements pris par les États Membres pour que nul ne soit laissé de côté,

Constatant avec inquiétude que, dans de nombreuses régions rurales, les femmes et les filles consacrent chaque jour plusieurs heures à la collecte de bois de chauffe et que la pollution de l'air intérieur due aux combustibles solides est une cause majeure de maladies respiratoires chez les femmes et les enfants²,

Considérant que l'accès des femmes rurales à l'énergie propre contribue à leur autonomisation économique, à la scolarisation des filles et à la réalisation des objectifs de développement durable relatifs à la santé, à l'égalité des sexes et aux changements climatiques,

1. *Engage* les États Membres à élaborer des politiques énergétiques nationales tenant compte des questions de genre, à consulter les organisations de femmes rurales à toutes les étapes de leur élaboration et de leur application, et à recueillir des données ventilées par sexe et par âge sur l'accès à l'énergie³ ;

2. *Invite* les institutions financières internationales et régionales à faciliter l'accès des entreprises dirigées par des femmes aux financements nécessaires à la production et à la distribution d'énergie propre dans les zones rurales, notamment au moyen de mécanismes de microfinancement ;

3. *Prie* le Secrétaire général de lui présenter, à sa soixante-dix-septième session, un rapport sur l'application de la présente résolution.

*46^e séance plénière
16 décembre 2020*

¹ Résolution 70/1.

² Voir Organisation mondiale de la Santé, *Combustibles domestiques et santé*, 2018.

³ *Ibid.*, chap. II.
"""

SMALL_EN = """Seventy-fifth session
Agenda item 29
Advancement of women

Resolution adopted by the General Assembly on 16 December 2020

[on the report of the Third Committee (A/75/914, para. 12)]

75/904. Access of rural women to clean energy (test fixture)

The General Assembly,

*Recalling* its resolution 70/1 of 25 September 2015, entitled "Transforming our world: the 2030 Agenda for Sustainable Development"¹, and in particular Goal 7, to ensure access to affordable, reliable, sustainable and modern energy for all, as well as the commitments made by Member States that no one will be left behind,

*Noting with concern* that in many rural areas women and girls spend several hours every day collecting firewood, and that indoor air pollution from solid fuels is a major cause of respiratory disease among women and children²,

*Recognizing* that access of rural women to clean energy contributes to their economic empowerment, to the schooling of girls and to the achievement of the Sustainable Development Goals on health, gender equality and climate change,

1. *Calls upon* Member States to develop gender-responsive national energy policies, to consult rural women's organizations at every stage of their development and implementation, and to collect data on access to energy disaggregated by sex and age³;

2. *Invites* international and regional financial institutions to facilitate access by women-led enterprises to the financing needed to produce and distribute clean energy in rural areas, including through microfinance mechanisms;

3. *Requests* the Secretary-General to submit to it at its seventy-seventh session a report on the implementation of the present resolution.

*46th plenary meeting
16 December 2020*

¹ Resolution 70/1.

² See World Health Organization, *Household Fuels and Health*, 2018.

³ *Ibid.*, chap. II.
"""


@dataclass(frozen=True)
class UnFiles:
    """The session's UN-layout files and what they hold."""

    pdf: Path  # the bundled A/RES/75/158
    docx: Path
    stats: Stats
    small_fr: Path  # A/RES/75/904, French PDF
    small_en: Path  # A/RES/75/904, English PDF


def build_files(folder: Path) -> UnFiles:
    from resolution_qa.ingest import BUNDLED_PATH

    txt = BUNDLED_PATH.read_text(encoding="utf-8")
    stats = resolution_pdf(txt, folder / "A_RES_75_158.fr.pdf")
    resolution_docx(txt, folder / "A_RES_75_158.fr.docx")
    small = folder / "small"
    small.mkdir()
    resolution_pdf(SMALL_FR, small / "A_RES_75_904.fr.pdf", job="20-17901", date="8 janvier 2021")
    resolution_pdf(SMALL_EN, small / "A_RES_75_904.en.pdf", job="20-17901", date="8 January 2021")
    return UnFiles(folder / "A_RES_75_158.fr.pdf", folder / "A_RES_75_158.fr.docx", stats,
                   small / "A_RES_75_904.fr.pdf", small / "A_RES_75_904.en.pdf")


_SHARED: list[UnFiles] = []


def shared_files(tmp_path_factory) -> UnFiles:
    """build_files once per test session, whichever test folder asks first (tests/ingest, tests/cli)."""
    if not _SHARED:
        _SHARED.append(build_files(tmp_path_factory.mktemp("un-layout")))
    return _SHARED[0]
