"""HTML for the chat app: answers with clickable citations, the sources panel, the structured resolution."""

from __future__ import annotations

import re
from collections.abc import Sequence
from html import escape

from resolution_qa.assistant.types import Answer, Citation, Sources
from resolution_qa.core.strings import Strings, both, fold, ui_text
from resolution_qa.ingest import Document, Lang, Unit
from resolution_qa.ingest.parser import CARET_SUP, LINK, clean

from .service import EngineStatus

_SUPERSCRIPT = "⁰¹²³⁴⁵⁶⁷⁸⁹"
_SUP_TO_INT = str.maketrans(_SUPERSCRIPT, "0123456789")
# The same conversion markup the parser removes (ingest/parser.py), turned into HTML instead.
_MARKER = re.compile(rf"(?<=\S)([{_SUPERSCRIPT}]{{1,2}})")
# The parser's own patterns (linear on hostile text: reports/reliability.md, issue 13).
_LINK = LINK
_CARET_SUP = CARET_SUP
_ITALIC = re.compile(r"\*([^*]+)\*")


def anchor(doc: str, unit_id: str) -> str:
    """DOM id of a unit in the Resolution tab; the document symbol keeps ids unique across documents."""
    return "u-" + re.sub(r"[^A-Za-z0-9]+", "-", doc).strip("-") + "-" + unit_id


def cite_link(doc: str, unit_id: str, label: str, *, css: str = "cite") -> str:
    """An inline citation the page script turns into "open the Resolution tab at this unit"."""
    return (
        f'<a href="#{anchor(doc, unit_id)}" class="{css}" data-doc="{escape(doc)}" '
        f'data-unit="{escape(unit_id)}">{escape(label)}</a>'
    )


def _label_pattern(label: str) -> re.Pattern[str]:
    # "par. 2" must not match inside "par. 27", nor "note 1" inside "note 12".
    return re.compile(rf"(?<![\w.]){re.escape(label)}(?![\d\w])")


def link_citations(text: str, citations: Sequence[Citation]) -> tuple[str, list[Citation]]:
    """Escape an answer's text and turn each citation label it contains into a link.

    Returns the HTML and the citations whose label does not occur in the text (shown after it).
    """
    html = escape(text, quote=False)
    placeholders: dict[str, str] = {}
    missing: list[Citation] = []
    # Longest labels first, so "par. 27" is linked before a shorter label could claim part of it.
    for n, cit in enumerate(sorted(citations, key=lambda c: len(c.label), reverse=True)):
        pattern = _label_pattern(escape(cit.label, quote=False))
        token = f"\x00{n}\x00"
        html, count = pattern.subn(token, html)
        if count:
            placeholders[token] = cite_link(cit.doc, cit.id, cit.label)
        else:
            missing.append(cit)
    for token, link in placeholders.items():
        html = html.replace(token, link)
    order = {c.id: i for i, c in enumerate(citations)}
    return html, sorted(missing, key=lambda c: order[c.id])


def _chips(citations: Sequence[Citation]) -> str:
    return " ".join(cite_link(c.doc, c.id, c.label, css="cite chip") for c in citations)


def _colon(label: str, lang: Lang) -> str:
    # French typography puts a space before the colon.
    return escape(label) + ui_text(lang).colon


def _blocks_html(html: str) -> str:
    """Escaped text, line by line: runs of "- " lines become a list, other lines paragraphs."""
    out: list[str] = []
    items: list[str] = []
    for line in html.split("\n"):
        stripped = line.strip()
        if stripped[:2] in ("- ", "* ", "• "):
            items.append(f"<li>{stripped[2:]}</li>")
            continue
        if items:
            out.append(f"<ul>{''.join(items)}</ul>")
            items = []
        if stripped:
            out.append(f"<p>{stripped}</p>")
    if items:
        out.append(f"<ul>{''.join(items)}</ul>")
    return "".join(out)


def render_answer(answer: Answer) -> str:
    """The final answer bubble: text with linked citations; refusals and notices styled apart."""
    ui = ui_text(answer.language)
    text = answer.text
    if answer.notice:
        # The assistant may also write its notice as a line of the text: show it once, styled as a notice.
        text = "\n".join(line for line in text.split("\n") if line.strip() != answer.notice.strip())
    body, unlinked = link_citations(text, (*answer.citations, *answer.suggestions))
    unlinked_cited = [c for c in unlinked if c in answer.citations]
    unlinked_suggested = [c for c in unlinked if c in answer.suggestions]
    parts: list[str] = []
    if answer.refused:
        parts.append(f'<div class="refusal"><div class="refusal-title">{escape(ui.refused)}</div>')
        parts.append(_blocks_html(body))
        if unlinked_suggested:
            parts.append(f'<p class="closest">{_colon(ui.closest_title, answer.language)} {_chips(unlinked_suggested)}</p>')
        parts.append("</div>")
    else:
        parts.append(f'<div class="answer">{_blocks_html(body)}')
        if unlinked_cited:
            parts.append(f'<p class="cites">{_colon(ui.sources, answer.language)} {_chips(unlinked_cited)}</p>')
        parts.append("</div>")
    if answer.notice:
        parts.append(f'<div class="notice">{escape(answer.notice)}</div>')
    return "".join(parts)


def render_streaming(text: str) -> str:
    """A bubble still being written: the text so far and a cursor."""
    body = _blocks_html(escape(text, quote=False)) or "<p></p>"
    cursor = '<span class="cursor">▍</span>'
    return f'<div class="answer streaming">{body[:-4]}{cursor}</p></div>' if body.endswith("</p>") else \
        f'<div class="answer streaming">{body}<p>{cursor}</p></div>'


def render_failure(message: str, lang: Lang = "en") -> str:
    """A bubble for an error: what went wrong and what to do, never a traceback."""
    return (
        f'<div class="failure"><div class="failure-title">{escape(ui_text(lang).error)}</div>'
        f"<p>{escape(message)}</p></div>"
    )


def _footnote_item(note: Citation) -> str:
    return (
        f'<li>{cite_link(note.doc, note.id, note.label, css="cite fn")} '
        f'<span class="fn-source">{escape(note.source or note.text)}</span></li>'
    )


def _footnotes_of(cit: Citation, answer: Answer | None, doc: Document | None, lang: Lang) -> list[Citation]:
    """The footnotes a cited unit refers to: from the answer, else looked up in the document."""
    given = {f.id: f for f in (*answer.footnotes, *answer.citations)} if answer is not None else {}
    notes: list[Citation] = []
    for fid in cit.footnotes:
        if fid in given:
            notes.append(given[fid])
        elif doc is not None and (unit := doc.get(fid)) is not None:
            notes.append(
                Citation(id=unit.id, doc=unit.doc, label=unit.label(lang), text=unit.text, source=unit.source)
            )
    return notes


def _copy_button(formal: str, ui: Strings) -> str:
    return (
        f'<button type="button" class="copy-cite" data-copy="{escape(formal)}" '
        f'data-done="{escape(ui.copied)}" title="{escape(ui.copy)}">{escape(ui.copy)}</button>'
    )


def _source_cards(citations: Sequence[Citation], answer: Answer | None, documents: Sequence[Document],
                  lang: Lang) -> str:
    ui = ui_text(lang)
    by_symbol = {d.symbol: d for d in documents}
    cards: list[str] = []
    for cit in citations:
        doc = by_symbol.get(cit.doc)
        notes = _footnotes_of(cit, answer, doc, lang)
        note_html = ""
        if notes:
            note_html = (
                f'<div class="notes"><div class="notes-title">{escape(ui.footnotes)}</div>'
                f'<ul>{"".join(_footnote_item(n) for n in notes)}</ul></div>'
            )
        source_html = ""
        if cit.source and cit.source != cit.text:
            source_html = f'<p class="fn-source">{escape(cit.source)}</p>'
        cited_in = ""
        if doc is not None and cit.id.startswith("fn"):
            users = doc.referring_to(cit.id)
            if users:
                links = ", ".join(cite_link(u.doc, u.id, u.label(lang)) for u in users)
                cited_in = f'<p class="cited-in">{escape(ui.cited_in)} {links}</p>'
        cards.append(
            f'<article class="source-card" data-unit="{escape(cit.id)}">'
            f'<header><span class="source-label">{escape(cit.label)}</span>'
            f'<span class="source-id">{escape(cit.id)}</span></header>'
            f'<p class="source-text">{escape(cit.text)}</p>{source_html}{cited_in}{note_html}'
            f'<footer><code class="formal">{escape(cit.formal)}</code>{_copy_button(cit.formal, ui)}'
            f'{cite_link(cit.doc, cit.id, ui.show, css="cite show")}</footer></article>'
        )
    return "".join(cards)


def render_sources(answer: Answer | None, documents: Sequence[Document]) -> str:
    """The panel beside the chat: every cited unit in full, its footnotes resolved, a copy button.

    A refusal cites nothing; its suggested closest units are shown instead.
    """
    lang: Lang = answer.language if answer is not None else "fr"
    ui = ui_text(lang)
    title = f'<div class="sources-title">{escape(ui.sources)}</div>'
    citations = [] if answer is None else list(answer.citations) or (list(answer.suggestions) if answer.refused else [])
    if not citations:
        return f'<div class="sources empty">{title}<p>{escape(ui.no_sources)}</p></div>'
    return f'<div class="sources">{title}{_source_cards(citations, answer, documents, lang)}</div>'


def _labels_language(citations: Sequence[Citation], documents: Sequence[Document]) -> Lang:
    """The language the citations are labelled in (the answer's): English when a label is a unit's English label."""
    by_symbol = {d.symbol: d for d in documents}
    for cit in citations:
        doc = by_symbol.get(cit.doc)
        unit = doc.get(cit.id) if doc is not None else None
        if unit is not None and unit.label("en") != unit.label("fr"):
            return "en" if cit.label.endswith(unit.label("en")) else "fr"
    return "fr"


def render_retrieved(sources: Sources, documents: Sequence[Document]) -> str:
    """The panel as soon as retrieval is done, before the answer is written: the passages found, best first.

    The final answer replaces it with the passages it cites.
    """
    citations = list(sources.citations)
    lang = _labels_language(citations, documents)
    title = f'<div class="sources-title">{escape(both("retrieved"))}</div>'
    if not citations:
        return f'<div class="sources retrieved empty">{title}<p>{escape(ui_text(lang).no_sources)}</p></div>'
    return f'<div class="sources retrieved">{title}{_source_cards(citations, None, documents, lang)}</div>'


def unit_html_text(unit: Unit) -> str:
    """A unit's text as HTML from its raw form: italics kept, footnote markers as links."""
    raw = unit.raw
    if unit.kind == "footnote":
        raw = raw.strip()
    html = escape(_LINK.sub(r"\1", raw), quote=False)
    html = _CARET_SUP.sub(lambda m: f"<sup>{m.group(1) if m.group(1) is not None else m.group(2)}</sup>", html)
    html = _ITALIC.sub(r"<em>\1</em>", html)
    html = html.replace("*", "")

    def marker(m: re.Match[str]) -> str:
        number = int(m.group(1).translate(_SUP_TO_INT))
        link = cite_link(unit.doc, f"fn{number}", str(number), css="cite fnref")
        return f"<sup>{link}</sup>"

    html = _MARKER.sub(marker, html)
    return re.sub(r"\s+", " ", html).strip()


def _unit_block(unit: Unit, lang: Lang, query_terms: Sequence[str]) -> str:
    hidden = bool(query_terms) and not unit_matches(unit, query_terms, lang)
    classes = f"unit unit-{unit.kind}" + (" nomatch" if hidden else "")
    number = ""
    if unit.kind == "operative":
        number = f'<span class="num">{unit.number}.</span> '
    elif unit.kind == "footnote":
        number = f'<span class="num">{unit.number}</span> '
    body = unit_html_text(unit)
    if query_terms and not hidden:
        body = _highlight(body, query_terms)
    extra = ""
    if unit.kind == "footnote" and unit.source and clean(unit.raw) != unit.source:
        extra = f'<div class="fn-source">→ {escape(unit.source)}</div>'
    text = f'<div class="unit-text" lang="{unit.lang}">{number}{body}</div>'
    other: Lang = "en" if unit.lang == "fr" else "fr"
    if unit.lang_of(other) == other:  # the other language beside it, said to be official or not
        t = ui_text(other)
        tag = t.official_version if unit.official_in(other) else t.unofficial_version
        version = "official" if unit.official_in(other) else "unofficial"
        text = (f'<div class="unit-pair">{text}<div class="unit-text unit-other {version}" lang="{other}">'
                f'<span class="version">{escape(tag)}</span> {number}{escape(unit.text_in(other))}</div></div>')
    return (
        f'<section id="{anchor(unit.doc, unit.id)}" class="{classes}" data-doc="{escape(unit.doc)}" '
        f'data-unit="{escape(unit.id)}"><div class="unit-meta"><span class="unit-label">{escape(unit.label(lang))}'
        f'</span><span class="unit-id">{escape(unit.id)}</span></div>'
        f'{text}{extra}</section>'
    )


def _header_block(unit: Unit, query_terms: Sequence[str], lang: Lang) -> str:
    hidden = bool(query_terms) and not unit_matches(unit, query_terms, lang)
    lines = [clean(piece) for piece in unit.raw.split("\n\n") if piece.strip()]
    body = "".join(f"<p>{escape(line)}</p>" for line in lines)
    return (
        f'<section id="{anchor(unit.doc, unit.id)}" class="unit unit-header{" nomatch" if hidden else ""}" '
        f'data-doc="{escape(unit.doc)}" data-unit="header">{body}</section>'
    )


def query_terms(query: str) -> list[str]:
    return [fold(t) for t in query.split() if t.strip()]


def unit_matches(unit: Unit, terms: Sequence[str], lang: Lang) -> bool:
    """Every term occurs in the unit's text, its source, its id or its labels (fr and en)."""
    haystack = fold(" ".join([unit.text, unit.source or "", unit.id, unit.label("fr"), unit.label("en")]))
    return all(term in haystack for term in terms)


def _highlight(html: str, terms: Sequence[str]) -> str:
    # Mark terms in text nodes only (never inside tags), comparing accent-folded forms.
    def mark_text(segment: str) -> str:
        folded = fold(segment)
        if len(folded) != len(segment):  # folding changed lengths (rare ligatures): skip marking
            return segment
        spans: list[tuple[int, int]] = []
        for term in terms:
            start = 0
            while (i := folded.find(term, start)) != -1:
                spans.append((i, i + len(term)))
                start = i + len(term)
        if not spans:
            return segment
        spans.sort()
        merged: list[list[int]] = []
        for a, b in spans:
            if merged and a <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        out, last = [], 0
        for a, b in merged:
            out.append(segment[last:a] + "<mark>" + segment[a:b] + "</mark>")
            last = b
        out.append(segment[last:])
        return "".join(out)

    pieces = re.split(r"(<[^>]+>)", html)
    return "".join(p if p.startswith("<") else mark_text(p) for p in pieces)


def render_document(document: Document, query: str = "") -> str:
    """The whole resolution, structured and anchored; units not matching `query` are hidden."""
    terms = query_terms(query)
    lang = document.lang
    preamble_t, operative_t, notes_t = ui_text(lang).sections
    header = document.get("header")
    parts = [f'<article class="resolution" data-doc="{escape(document.symbol)}">']
    parts.append(f'<h2 class="doc-title"><span class="symbol">{escape(document.symbol)}</span> '
                 f"{escape(document.title)}</h2>")
    if header is not None:
        parts.append(_header_block(header, terms, lang))
    for title, kind in ((preamble_t, "preambular"), (operative_t, "operative"), (notes_t, "footnote")):
        units = document.of_kind(kind)
        if not units:
            continue
        blocks = [_unit_block(u, lang, terms) for u in units]
        shown = sum(1 for b in blocks if " nomatch" not in b.split(">", 1)[0])
        parts.append(f'<h3 class="part{"" if shown else " nomatch"}">{escape(title)}</h3>')
        parts.extend(blocks)
    parts.append("</article>")
    return "".join(parts)


def search_summary(documents: Sequence[Document], query: str) -> str:
    """"12 units match" line under the search box."""
    terms = query_terms(query)
    if not terms:
        return ""
    count = sum(1 for d in documents for u in d.units if unit_matches(u, terms, d.lang))
    return f"{count} / {sum(len(d) for d in documents)}"


def render_status(status: EngineStatus, last: Answer | None = None) -> str:
    """The status line: backend and model answering, embeddings, the last answer's timing, any problem."""
    state = "down" if not status.ready else ("degraded" if status.problem else "ok")
    items = [
        f'<span><span class="dot"></span>backend <b>{escape(status.backend)}</b></span>',
        f"<span>model <b>{escape(status.model)}</b></span>",
        f"<span>embeddings <b>{escape(status.embedding)}</b></span>",
    ]
    if last is not None:
        first = f", first words {last.timings.first_token:.1f} s" if last.timings.first_token is not None else ""
        items.append(
            f"<span>last answer: <b>{escape(last.backend)}</b>, {last.timings.total:.1f} s "
            f"(retrieval {last.timings.retrieval:.2f} s{first})</span>"
        )
    if status.problem:
        items.append(f'<span class="status-problem">{escape(status.problem)}</span>')
    return f'<div class="status-line {state}" role="status">{"".join(items)}</div>'


# --- plain text and Markdown: the OpenAI-compatible API's answers, the conversation export ----------------------

#: A citation line of an answer's text form: "- [A/RES/75/158, par. 27] <the unit's text>".
CITATION_LINE = re.compile(r"^- \[(?P<formal>[^\]\n]+)\]", re.MULTILINE)
SUGGESTION_CHARS = 200


def _citation_line(cit: Citation, *, limit: int | None = None) -> str:
    text = " ".join((cit.source or cit.text if cit.id.startswith("fn") else cit.text).split())
    if limit is not None and len(text) > limit:
        text = text[:limit].rstrip() + " …"
    return f"- [{cit.formal}] {text}"


def answer_body(answer: Answer) -> str:
    """The answer's text, then its notice on a line of its own (once, even when the text says it too)."""
    text = answer.text.strip()
    if answer.notice and answer.notice.strip() not in text:
        text = f"{text}\n\n{answer.notice.strip()}" if text else answer.notice.strip()
    return text


def citations_block(answer: Answer) -> str:
    """What follows an answer's text, as under `resolution-qa ask`: each cited unit as "[formal] text", the
    footnotes of the cited paragraphs, and for a refusal the closest passages. Empty when there is none."""
    ui = ui_text(answer.language)
    parts: list[str] = []
    cited = [*answer.citations, *(f for f in answer.footnotes if f not in answer.citations)]
    if cited:
        parts.append(ui.citations + ui.colon + "\n" + "\n".join(_citation_line(c) for c in cited))
    if answer.suggestions:
        lines = "\n".join(_citation_line(c, limit=SUGGESTION_CHARS) for c in answer.suggestions)
        parts.append(ui.closest_title + ui.colon + "\n" + lines)
    return "\n\n".join(parts)


def answer_text(answer: Answer) -> str:
    """An answer as plain text (Markdown-friendly): its text, notice, then its citations block."""
    block = citations_block(answer)
    body = answer_body(answer)
    return f"{body}\n\n{block}" if block else body


def conversation_markdown(exchanges: Sequence[tuple[str, Answer | None]], *, title: str = "resolution-qa") -> str:
    """A conversation as Markdown: each question, then its answer with formal citations ("A/RES/75/158, par. 27").

    `exchanges`: (question, its answer or None when no answer was made), oldest first.
    """
    lines = [f"# {title}", ""]
    for n, (question, answer) in enumerate(exchanges, start=1):
        lines += [f"## {n}. {' '.join(question.split())}", ""]
        if answer is None:
            lines += ["_(no answer)_", ""]
            continue
        lines += [answer_text(answer), "", f"_({answer.backend})_", ""]
    return "\n".join(lines).rstrip() + "\n"
