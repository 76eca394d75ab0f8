"""A person's session in headless Chromium: ask in French and English, follow a citation, copy it, stay offline."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

from resolution_qa.ingest import Document

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.server]  # real index; the app in a subprocess

LAPTOP = {"width": 1366, "height": 860}
PHONE = {"width": 390, "height": 844}
ANSWER_TIMEOUT_MS = 120_000  # first question loads the language detector; a busy 2-core machine

# Watches the chat while it changes: did an answer-in-progress bubble show, with some text in it?
WATCH_STREAMING = """() => {
  window.__streamed = [];
  const chat = document.querySelector('#chat');
  new MutationObserver(() => {
    const bubble = chat.querySelector('.streaming');
    if (bubble) window.__streamed.push(bubble.textContent.trim().length);
  }).observe(chat, {subtree: true, childList: true, characterData: true});
}"""

# The words of the unit the page shows as focused, without the paragraph number and footnote markers.
FOCUSED_UNIT = """() => {
  const unit = document.querySelector('.unit.focused');
  if (!unit) return null;
  const text = unit.querySelector('.unit-text').cloneNode(true);
  text.querySelectorAll('sup, .num').forEach(e => e.remove());
  const box = unit.getBoundingClientRect();
  return {id: unit.dataset.unit, anchor: unit.id, text: text.textContent.replace(/\\s+/g, ' ').trim(),
          top: box.top, bottom: box.bottom, height: window.innerHeight};
}"""


class Session:
    """One browser tab on the app, recording every request it makes."""

    def __init__(self, page, url: str) -> None:  # noqa: ANN001 (playwright's Page)
        self.page = page
        self.requests: list[str] = []
        page.on("request", lambda request: self.requests.append(request.url))
        page.goto(url)
        page.wait_for_selector("#question textarea")

    def ask(self, question: str) -> str:
        """Type a question, press Enter, wait for the finished answer; return its bubble's HTML."""
        page = self.page
        before = page.locator("#chat .answer:not(.streaming), #chat .refusal, #chat .failure").count()
        page.evaluate(WATCH_STREAMING)
        page.fill("#question textarea", question)
        page.press("#question textarea", "Enter")
        page.wait_for_function(
            "n => document.querySelectorAll('#chat .answer:not(.streaming), #chat .refusal, #chat .failure').length > n",
            arg=before,
            timeout=ANSWER_TIMEOUT_MS,
        )
        return page.locator("#chat .answer:not(.streaming), #chat .refusal, #chat .failure").last.evaluate(
            "e => e.outerHTML")

    def streamed(self) -> list[int]:
        return self.page.evaluate("window.__streamed")

    def offsite_requests(self) -> list[str]:
        return [u for u in self.requests if urlparse(u).hostname not in ("127.0.0.1", "localhost", None)
                and not u.startswith(("data:", "blob:"))]


@pytest.fixture
def laptop(browser, app_url: str) -> Iterator[Session]:  # noqa: ANN001
    context = browser.new_context(viewport=LAPTOP)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=app_url.rstrip("/"))
    try:
        yield Session(context.new_page(), app_url)
    finally:
        context.close()


@pytest.fixture
def phone(browser, app_url: str) -> Iterator[Session]:  # noqa: ANN001
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    try:
        yield Session(context.new_page(), app_url)
    finally:
        context.close()


def _follow_first_citation(session: Session, document: Document) -> dict:
    page = session.page
    link = page.locator("#chat .answer:not(.streaming)").last.locator("a.cite").first
    href = link.get_attribute("href")
    assert href and href.startswith("#u-")
    link.click()
    page.wait_for_selector("#tab-resolution-button[aria-selected='true']")
    page.wait_for_function("() => { const u = document.querySelector('.unit.focused'); "
                           "if (!u) return false; const b = u.getBoundingClientRect(); "
                           "return b.top >= 0 && b.top < window.innerHeight; }", timeout=10_000)
    focused = page.evaluate(FOCUSED_UNIT)
    assert focused["anchor"] == href[1:]
    unit = document.get(focused["id"])
    assert unit is not None
    assert focused["text"] == unit.text, "the Resolution tab must show the cited unit's exact words"
    return focused


def test_french_then_english_question_cite_and_show_the_paragraph(
    laptop: Session, document: Document, artifacts: Path
) -> None:
    page = laptop.page
    page.screenshot(path=artifacts / "laptop-0-start.png")

    french = laptop.ask("Que demande la résolution pour que les victimes de la traite ne soient pas poursuivies ?")
    assert laptop.streamed(), "an answer-in-progress bubble should show before the final answer"
    assert 'class="answer"' in french and 'class="cite' in french
    labels = re.findall(r'class="cite[^"]*"[^>]*>([^<]+)</a>', french)
    assert labels and all(re.match(r"(par\. \d+|\d+(er|e) alinéa du préambule|note \d+)$", lb) for lb in labels)
    sources = page.inner_text("#sources")
    assert "A/RES/75/158, " in sources
    page.screenshot(path=artifacts / "laptop-1-french-answer.png")

    # The sources panel copies the formal citation in one click.
    first_card = page.locator("#sources .source-card").first
    formal = first_card.locator("code.formal").inner_text()
    first_card.locator("button.copy-cite").click()
    page.wait_for_function("() => document.querySelector('#sources button.copy-cite').classList.contains('done')")
    assert page.evaluate("navigator.clipboard.readText()") == formal

    _follow_first_citation(laptop, document)
    page.screenshot(path=artifacts / "laptop-2-french-citation-in-resolution.png")

    page.click("#tab-chat-button")
    english = laptop.ask("What does the resolution ask about victims' protection from prosecution?")
    labels = re.findall(r'class="cite[^"]*"[^>]*>([^<]+)</a>', english)
    assert labels and all(re.match(r"(para\. \d+|\d+(st|nd|rd|th) preambular paragraph|footnote \d+)$", lb)
                          for lb in labels)
    page.screenshot(path=artifacts / "laptop-3-english-answer.png")
    _follow_first_citation(laptop, document)
    page.screenshot(path=artifacts / "laptop-4-english-citation-in-resolution.png")

    assert laptop.offsite_requests() == []


def test_a_refusal_looks_different_and_clear_starts_over(laptop: Session) -> None:
    page = laptop.page
    refusal = laptop.ask("Quelle est la recette de la ratatouille ?")
    assert "refusal-title" in refusal
    border = page.locator("#chat .refusal").last.evaluate(
        "e => [getComputedStyle(e).borderLeftWidth, getComputedStyle(e).borderLeftColor]")
    assert border == ["4px", "rgb(217, 119, 6)"]  # the amber bar that marks "not in the resolution"
    page.click("#clear")
    page.wait_for_function("() => !document.querySelector('#chat .refusal')")
    assert page.locator("#sources .source-card").count() == 0


def test_resolution_tab_is_structured_and_searchable(laptop: Session, document: Document) -> None:
    page = laptop.page
    page.click("#tab-resolution-button")
    assert page.locator(".unit-preambular").count() == document.count("preambular")
    assert page.locator(".unit-operative").count() == document.count("operative")
    assert page.locator(".unit-footnote").count() == document.count("footnote")
    search = page.locator("#search textarea")
    search.press_sequentially("COVID", delay=30)  # typed like a person: one search per key
    expected = sorted(u.id for u in document.units if "covid" in u.text.casefold())
    page.wait_for_function(
        "n => document.querySelectorAll('.unit:not(.nomatch)').length === n", arg=len(expected), timeout=15_000
    )
    shown = sorted(page.eval_on_selector_all(".unit:not(.nomatch)", "els => els.map(e => e.dataset.unit)"))
    assert shown == expected
    # A footnote marker in the text jumps to its footnote.
    search.press("Control+a")
    search.press("Backspace")
    page.wait_for_function("() => document.querySelectorAll('.unit.nomatch').length === 0", timeout=15_000)
    page.locator("#u-A-RES-75-158-PP2 a.fnref").first.click()
    page.wait_for_function("() => document.querySelector('.unit.focused')?.dataset.unit === 'fn1'")


def test_phone_width_is_usable(phone: Session, artifacts: Path) -> None:
    page = phone.page
    answer = phone.ask("What does paragraph 27 say?")
    assert 'class="cite' in answer
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"the page scrolls sideways by {overflow}px at phone width"
    page.screenshot(path=artifacts / "phone-1-answer.png")
    page.locator("#sources").scroll_into_view_if_needed()
    page.screenshot(path=artifacts / "phone-2-sources.png")
    assert phone.offsite_requests() == []
