"""The chat app's HTML: linked citations, the sources panel, the structured resolution and its search."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from resolution_qa.assistant.types import Answer, Citation
from resolution_qa.ingest import Document, Lang
from resolution_qa.web.render import (
    anchor,
    fold,
    link_citations,
    render_answer,
    render_document,
    render_sources,
    render_status,
    search_summary,
    unit_html_text,
)
from resolution_qa.web.service import EngineStatus


def cite(document: Document, unit_id: str, lang: Lang = "fr") -> Citation:
    unit = document.get(unit_id)
    assert unit is not None
    return Citation(
        id=unit.id, doc=unit.doc, label=unit.label(lang), text=unit.text, footnotes=unit.footnotes, source=unit.source
    )


class _Tags(HTMLParser):
    """Collects every element (tag, attrs) and the text, skipping elements of the given classes."""

    def __init__(self, skip_classes: set[str] = frozenset()) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self._skip = skip_classes
        self._stack: list[bool] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.elements.append((tag, attributes))
        classes = set((attributes.get("class") or "").split())
        parent_skipped = bool(self._stack) and self._stack[-1]
        if tag not in ("br",):
            self._stack.append(parent_skipped or bool(classes & self._skip))

    def handle_endtag(self, tag: str) -> None:
        if tag != "br" and self._stack:
            self._stack.pop()

    def handle_data(self, data: str) -> None:
        if not (self._stack and self._stack[-1]):
            self.text.append(data)


def parse(html: str, skip: set[str] = frozenset()) -> _Tags:
    parser = _Tags(skip)
    parser.feed(html)
    return parser


def links(html: str) -> list[dict[str, str | None]]:
    return [attrs for tag, attrs in parse(html).elements if tag == "a" and "cite" in (attrs.get("class") or "")]


# --- answers -------------------------------------------------------------------------------------


def test_each_cited_label_in_the_text_becomes_a_link_to_its_unit(document: Document) -> None:
    citations = [cite(document, "OP2"), cite(document, "OP27")]
    html, unlinked = link_citations("Voir le par. 27, puis le par. 2 (et non le par. 21).", citations)
    found = links(html)
    assert [a["href"] for a in found] == ["#" + anchor("A/RES/75/158", "OP27"), "#" + anchor("A/RES/75/158", "OP2")]
    assert unlinked == []
    # "par. 21" is not a citation: it must not be linked to par. 2.
    assert "par. 21" in "".join(parse(html).text)
    assert len(found) == 2


def test_citations_absent_from_the_text_are_listed_after_it(document: Document) -> None:
    answer = Answer(
        question="q", text="Les gouvernements doivent protéger les victimes.", language="fr",
        citations=(cite(document, "OP27"), cite(document, "PP3")),
    )
    html = render_answer(answer)
    assert [a["href"] for a in links(html)] == ["#" + anchor(document.symbol, "OP27"), "#" + anchor(document.symbol, "PP3")]
    assert "Sources :" in html  # French typography in a French answer


def test_answer_text_is_escaped_not_interpreted(document: Document) -> None:
    answer = Answer(question="q", text='<script>alert(1)</script> par. 27', language="fr",
                    citations=(cite(document, "OP27"),))
    html = render_answer(answer)
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert len(links(html)) == 1


def test_a_refusal_looks_different_and_offers_the_closest_units(document: Document) -> None:
    refusal = Answer(question="météo ?", text="La résolution ne traite pas de cette question.", language="fr",
                     refused=True, suggestions=(cite(document, "OP12"),))
    answer = Answer(question="q", text="Selon le par. 12, ...", language="fr", citations=(cite(document, "OP12"),))
    refusal_classes = {attrs.get("class") for _, attrs in parse(render_answer(refusal)).elements}
    answer_classes = {attrs.get("class") for _, attrs in parse(render_answer(answer)).elements}
    assert "refusal" in refusal_classes and "answer" not in refusal_classes
    assert "answer" in answer_classes and "refusal" not in answer_classes
    assert [a["href"] for a in links(render_answer(refusal))] == ["#" + anchor(document.symbol, "OP12")]


def test_a_notice_is_shown_with_the_answer(document: Document) -> None:
    answer = Answer(question="q", text="par. 27", language="en", citations=(cite(document, "OP27", "en"),),
                    notice="The LLM backend failed; this is an extractive answer.")
    html = render_answer(answer)
    assert '<div class="notice">The LLM backend failed; this is an extractive answer.</div>' in html


# --- sources panel -------------------------------------------------------------------------------


def test_sources_show_each_cited_unit_in_full_with_a_copyable_formal_citation(document: Document) -> None:
    answer = Answer(question="q", text="par. 27 et par. 5", language="fr",
                    citations=(cite(document, "OP27"), cite(document, "OP5")))
    html = render_sources(answer, [document])
    text = " ".join("".join(parse(html).text).split())
    for unit_id in ("OP27", "OP5"):
        assert document.get(unit_id).text in text  # type: ignore[union-attr]
    copies = [attrs["data-copy"] for tag, attrs in parse(html).elements if tag == "button"]
    assert copies == ["A/RES/75/158, par. 27", "A/RES/75/158, par. 5"]


def test_sources_resolve_ibid_footnotes_of_a_cited_paragraph(document: Document) -> None:
    pp2 = document.get("PP2")
    assert pp2 is not None and pp2.footnotes
    html = render_sources(Answer(question="q", text="2nd preambular paragraph", language="en",
                                 citations=(cite(document, "PP2", "en"),)), [document])
    shown = " ".join("".join(parse(html).text).split())
    for fid in pp2.footnotes:
        note = document.get(fid)
        assert note is not None and note.source
        assert not note.source.startswith("Ibid")
        assert note.source in shown
    assert "Ibid." not in shown
    footnote_links = [a["href"] for a in links(html) if "fn" in (a.get("class") or "").split()]
    assert footnote_links == ["#" + anchor(document.symbol, f) for f in pp2.footnotes]


def test_sources_prefer_the_footnote_citations_the_answer_carries(document: Document) -> None:
    given = Citation(id="fn9", doc=document.symbol, label="footnote 9", text="custom", source="Custom source, p. 1.")
    answer = Answer(question="q", text="2nd", language="en", citations=(cite(document, "PP5", "en"),),
                    footnotes=(given,))
    assert "Custom source, p. 1." in render_sources(answer, [document])


def test_sources_of_a_refusal_are_its_suggestions_and_empty_panel_says_what_will_come(document: Document) -> None:
    refusal = Answer(question="q", text="Not addressed.", language="en", refused=True,
                     suggestions=(cite(document, "OP12", "en"),))
    shown = " ".join("".join(parse(render_sources(refusal, [document])).text).split())
    assert document.get("OP12").text in shown  # type: ignore[union-attr]
    empty = render_sources(None, [document])
    assert "source-card" not in empty and "<p>" in empty


# --- the Resolution tab --------------------------------------------------------------------------


def test_the_document_has_every_unit_anchored_in_order(document: Document) -> None:
    html = render_document(document)
    ids = [attrs["id"] for tag, attrs in parse(html).elements if tag == "section"]
    assert ids == [anchor(document.symbol, u.id) for u in document.units]
    assert len(ids) == 1 + 38 + 52 + 34
    headings = "".join(parse(html).text)
    for part in ("Préambule", "Dispositif", "Notes"):
        assert part in headings


@pytest.mark.parametrize("unit_id", ["PP2", "OP1", "OP27", "OP52", "fn2", "fn17", "PP38"])
def test_a_unit_shows_its_words_with_footnote_markers_as_links(document: Document, unit_id: str) -> None:
    unit = document.get(unit_id)
    assert unit is not None
    html = unit_html_text(unit)
    # The words equal the parser's clean text once the marker numbers (link texts) are left out.
    words = "".join(parse(html, skip={"fnref"}).text)
    assert " ".join(words.split()) == unit.text
    assert [a["href"] for a in links(html)] == ["#" + anchor(unit.doc, f) for f in unit.footnotes]


def test_search_keeps_matching_units_and_marks_the_words(document: Document) -> None:
    html = render_document(document, "covid")
    sections = [(attrs["data-unit"], attrs["class"]) for tag, attrs in parse(html).elements if tag == "section"]
    shown = [uid for uid, classes in sections if "nomatch" not in (classes or "").split()]
    expected = [u.id for u in document.units if "covid" in u.text.casefold()]
    assert shown == expected and expected
    assert "<mark>COVID</mark>" in html
    assert search_summary([document], "covid") == f"{len(expected)} / {len(document)}"


def test_search_ignores_accents_and_finds_labels(document: Document) -> None:
    plain = {u.id for u in document.units if "prevention" in fold(u.text)}
    html = render_document(document, "prevention")
    shown = {attrs["data-unit"] for tag, attrs in parse(html).elements
             if tag == "section" and "nomatch" not in (attrs["class"] or "")}
    assert shown == plain and plain
    by_label = render_document(document, "par. 27")
    shown = [attrs["data-unit"] for tag, attrs in parse(by_label).elements
             if tag == "section" and "nomatch" not in (attrs["class"] or "")]
    assert "OP27" in shown


def test_highlighting_never_touches_markup(document: Document) -> None:
    # "cite" occurs in class names and "u" in ids: marking must only touch text.
    html = render_document(document, "cite")
    assert not re.search(r"<[^>]*<mark>", html)


# --- status line ---------------------------------------------------------------------------------


def test_status_line_names_backend_and_model_and_flags_problems() -> None:
    ok = render_status(EngineStatus(backend="llamacpp", model="qwen.gguf", embedding="embeddinggemma-300m"))
    assert "llamacpp" in ok and "qwen.gguf" in ok and 'class="status-line ok"' in ok
    degraded = render_status(EngineStatus(backend="extractive", model="no LLM", embedding="e",
                                          problem="llamacpp unavailable (x); answering in extractive mode"))
    assert "status-line degraded" in degraded and "answering in extractive mode" in degraded
    down = render_status(EngineStatus(backend="extractive", model="m", embedding="e", problem="index missing",
                                      ready=False))
    assert "status-line down" in down


def test_extractive_quotes_render_as_a_list_and_the_notice_shows_once(document: Document) -> None:
    notice = "Le modèle de langue n'a pas pu répondre (timeout) ; voici les passages pertinents du texte."
    text = f"{notice}\nPassages pertinents de la résolution :\n- « que les victimes … » (par. 27)\n- « Prie … » (par. 52)"
    answer = Answer(question="q", text=text, language="fr", notice=notice,
                    citations=(cite(document, "OP27"), cite(document, "OP52")))
    html = render_answer(answer)
    tags = [tag for tag, _ in parse(html).elements]
    assert tags.count("li") == 2 and tags.count("ul") == 1
    assert "".join(parse(html).text).count("n'a pas pu répondre") == 1
    assert 'class="notice"' in html


def test_refusal_links_the_suggestions_its_text_names(document: Document) -> None:
    suggestion = cite(document, "OP12", "en")
    refusal = Answer(question="q", text="Resolution A/RES/75/158 does not address this. Closest passages: para. 12.",
                     language="en", refused=True, suggestions=(suggestion,))
    html = render_answer(refusal)
    assert [a["href"] for a in links(html)] == ["#" + anchor(document.symbol, "OP12")]
    assert 'class="closest"' not in html  # already linked in the text: no second list
