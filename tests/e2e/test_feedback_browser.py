"""The chat app in headless Chromium on a slow scripted engine: the sources panel fills before the answer is written,
thumbs up/down and a comment are saved locally, and the conversation exports as Markdown with formal citations."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from resolution_qa.assistant.types import Answer, Answerer, Sources, Timings
from resolution_qa.ingest import Document
from resolution_qa.web.feedback import FeedbackStore
from resolution_qa.web.service import ChatService
from tests.fakes import cite_unit
from tests.support import free_port, isolated_settings, launch_app

pytestmark = [pytest.mark.browser, pytest.mark.server]  # the app on a loopback port, driven by Chromium

ANSWER_TIMEOUT_MS = 60_000


@dataclass
class SlowSourcesEngine(Answerer):
    """Streams as the Assistant does, slowly: Sources (OP27, OP28) at once, then after `think` s the answer word by
    word (`pace` s each), then the Answer citing OP27. Records when the sources were sent."""

    document: Document
    think: float = 1.5
    pace: float = 0.15
    sent_sources: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def stream(
        self, question: str, history: Sequence[Answer] | None = None, docs: Sequence[str] | None = None
    ) -> Iterator[Sources | str | Answer]:
        lang = "en" if "What" in question else "fr"
        cited = cite_unit(self.document, "OP27", lang)
        yield Sources(citations=(cited, cite_unit(self.document, "OP28", lang)))
        with self.lock:
            self.sent_sources.append(time.monotonic())
        time.sleep(self.think)
        text = f"Selon le {cited.label}, les États ne doivent pas poursuivre les victimes." if lang == "fr" else \
            f"Under {cited.label}, States should not prosecute victims."
        for word in text.split(" "):
            time.sleep(self.pace)
            yield word + " "
        yield Answer(question=question, text=text, language=lang, citations=(cited,), backend="scripted",
                     standalone=question, timings=Timings(retrieval=0.01, first_token=self.think, total=2.0))


@pytest.fixture(scope="module")
def slow_app(tmp_path_factory: pytest.TempPathFactory, document: Document) -> Iterator[tuple[str, Path]]:
    work = tmp_path_factory.mktemp("feedback-app")
    settings = isolated_settings(index_dir=work / "index", backend="extractive", port=free_port(),
                                 feedback_path=work / "feedback.jsonl")
    service = ChatService(settings, lambda _: SlowSourcesEngine(document))
    service.start()
    demo, url = launch_app(service, [document], settings)
    try:
        yield url, work / "feedback.jsonl"
    finally:
        demo.close()


@pytest.fixture
def page(browser, slow_app: tuple[str, Path]) -> Iterator[object]:  # noqa: ANN001 (playwright's Browser)
    context = browser.new_context(viewport={"width": 1366, "height": 860}, accept_downloads=True)
    try:
        page = context.new_page()
        page.goto(slow_app[0])
        page.wait_for_selector("#question textarea")
        yield page
    finally:
        context.close()


# Times (ms since the question was sent) at which the sources panel showed the passages found, the answer bubble
# first showed words, and the finished answer appeared.
WATCH = """() => {
  const t0 = performance.now();
  window.__seen = {};
  const mark = (name) => { if (!(name in window.__seen)) window.__seen[name] = performance.now() - t0; };
  new MutationObserver(() => {
    if (document.querySelector('#sources .sources.retrieved .source-card')) mark('sources');
    const bubble = document.querySelector('#chat .streaming');
    if (bubble && bubble.textContent.replace('▍', '').trim().length > 0) mark('words');
    if (document.querySelector('#chat .answer:not(.streaming)')) mark('answer');
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


def _ask(page, question: str) -> None:  # noqa: ANN001
    before = page.locator("#chat .answer:not(.streaming)").count()
    page.fill("#question textarea", question)
    page.press("#question textarea", "Enter")
    page.wait_for_function("n => document.querySelectorAll('#chat .answer:not(.streaming)').length > n",
                           arg=before, timeout=ANSWER_TIMEOUT_MS)


def test_the_sources_panel_fills_before_the_answer_is_written(page) -> None:  # noqa: ANN001
    page.evaluate(WATCH)
    page.fill("#question textarea", "Que demande le texte sur les poursuites ?")
    page.press("#question textarea", "Enter")
    page.wait_for_selector("#sources .sources.retrieved .source-card", timeout=ANSWER_TIMEOUT_MS)
    panel = page.inner_text("#sources")
    assert "Passages trouvés" in panel and "A/RES/75/158, par. 27" in panel and "A/RES/75/158, par. 28" in panel
    assert page.locator("#chat .answer:not(.streaming)").count() == 0, "the answer is not written yet"
    page.wait_for_function("() => window.__seen.answer !== undefined", timeout=ANSWER_TIMEOUT_MS)
    seen = page.evaluate("window.__seen")
    assert seen["sources"] < seen["words"] < seen["answer"], seen
    # The finished answer's citations replace the passages found.
    assert page.locator("#sources .sources.retrieved").count() == 0
    assert [c.get_attribute("data-unit") for c in page.locator("#sources .source-card").all()] == ["OP27"]


def test_thumbs_and_a_comment_are_saved_and_the_conversation_exports(page, slow_app: tuple[str, Path],
                                                                      tmp_path: Path) -> None:  # noqa: ANN001
    store = FeedbackStore(slow_app[1])
    before = len(store.read())
    _ask(page, "Que dit le paragraphe 27 ?")
    _ask(page, "What does it ask of States?")

    first_answer = page.locator("#chat button[aria-label='Dislike']").first
    first_answer.click()
    page.wait_for_selector("#feedback-note .feedback-note")
    assert "votre avis est enregistré" in page.inner_text("#feedback-note")
    comment = page.locator("#feedback-comment textarea")
    comment.fill("Il fallait citer aussi le par. 28.")
    comment.press("Enter")
    page.wait_for_function("() => document.querySelector('#feedback-note')?.innerText.includes('Commentaire enregistré')")
    page.locator("#chat button[aria-label='Like']").last.click()
    page.wait_for_function("() => document.querySelector('#feedback-note')?.innerText.includes('rating is saved')")

    records = store.read()[before:]
    assert [(r.rating, r.question, r.comment) for r in records] == [
        ("down", "Que dit le paragraphe 27 ?", "Il fallait citer aussi le par. 28."),
        ("up", "What does it ask of States?", ""),
    ]
    assert records[0].parsed_answer().citations[0].formal == "A/RES/75/158, par. 27"
    assert records[1].history[0].question == "Que dit le paragraphe 27 ?" and records[1].backend == "scripted"
    assert records[1].settings["backend"] == "extractive" and "k" in records[1].settings

    with page.expect_download() as download:
        page.click("#export")
    saved = tmp_path / "conversation.md"
    download.value.save_as(saved)
    assert download.value.suggested_filename == "resolution-qa-conversation.md"
    markdown = saved.read_text(encoding="utf-8")
    assert "## 1. Que dit le paragraphe 27 ?" in markdown and "## 2. What does it ask of States?" in markdown
    assert "- [A/RES/75/158, par. 27] " in markdown and "- [A/RES/75/158, para. 27] " in markdown
    assert json.dumps(markdown)  # plain text, nothing binary
