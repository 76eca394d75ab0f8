"""The Resolution tab shows each unit beside its text in the other language, saying whether that one is official."""

from __future__ import annotations

from resolution_qa.ingest import Document
from resolution_qa.web.render import render_document


def _with(document: Document, unit_id: str, **update: object) -> Document:
    units = tuple(u.model_copy(update=update) if u.id == unit_id else u for u in document.units)
    return Document(symbol=document.symbol, lang=document.lang, title=document.title, units=units)


def test_an_unofficial_translation_is_shown_beside_the_french_and_labelled(document: Document) -> None:
    html = render_document(_with(document, "OP27", rendered=(("en", "Urges Governments <to protect> victims"),)))
    section = html[html.index('data-unit="OP27"'):]
    section = section[: section.index("</section>")]
    assert 'class="unit-pair"' in section and 'lang="fr">' in section
    assert "English · unofficial translation" in section and 'class="unit-text unit-other unofficial" lang="en"' in section
    assert "Urges Governments &lt;to protect&gt; victims" in section  # escaped like every text
    assert html.count("unit-pair") == 1  # units without another language are shown alone


def test_an_official_version_is_labelled_official(document: Document) -> None:
    html = render_document(_with(document, "OP1", versions=(("en", "Takes note of the report"),)))
    section = html[html.index('data-unit="OP1"'):]
    assert "English · official text" in section[: section.index("</section>")]
