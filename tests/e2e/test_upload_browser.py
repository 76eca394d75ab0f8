"""The chat app's "Add a resolution" in headless Chromium: a UN-layout PDF dropped in the box is ingested into the
running index (the fake embedder, a real Chroma index) with a progress bar, then listed in the document menu and the
Resolution tab; a file that is not a resolution gets one line and changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from resolution_qa.assistant import Assistant
from resolution_qa.core.settings import Settings
from resolution_qa.vectorstore import open_retriever
from resolution_qa.web.service import ChatService
from tests.fakes import BagOfWordsEmbeddings
from tests.ingest.un_layout import SMALL_FR, resolution_pdf
from tests.support import free_port, isolated_settings, launch_app

pytestmark = [pytest.mark.browser, pytest.mark.server]  # the app on a loopback port, driven by Chromium

UPLOAD_TIMEOUT_MS = 120_000  # the PDF is read in a bounded subprocess; a busy 2-core machine

# Did a progress indicator show over the upload's note while the file was being added?
WATCH_PROGRESS = """() => {
  window.__progress = [];
  new MutationObserver(() => {
    const shown = document.querySelector('#upload-note .progress-text, #upload-note .eta-bar, #upload-note .wrap');
    if (shown) window.__progress.push(shown.textContent.trim());
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


@pytest.fixture(scope="module")
def upload_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Settings]]:
    """The app on loopback (uploads on), its extractive engine on a Chroma index of the bundled resolution."""
    work = tmp_path_factory.mktemp("upload-app")
    settings = isolated_settings(index_dir=work / "index", backend="extractive", port=free_port(),
                                 feedback_path=work / "feedback.jsonl")
    retriever = open_retriever(settings, BagOfWordsEmbeddings())
    service = ChatService(settings, lambda s: Assistant(s, backend="extractive", retriever=retriever))
    service.start()
    demo, url = launch_app(service, retriever.documents, settings)
    try:
        yield url, settings
    finally:
        demo.close()


@pytest.fixture(scope="module")
def small_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A/RES/75/904 (French), a small resolution written for the tests, as the UN lays out its PDF."""
    path = tmp_path_factory.mktemp("upload-files") / "A_RES_75_904.fr.pdf"
    resolution_pdf(SMALL_FR, path, job="20-17901", date="8 janvier 2021")
    return path


@pytest.fixture(scope="module")
def bundled_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled A/RES/75/158 as the UN lays out its PDF: 100 kB or more, past the 64 kB request cap."""
    from resolution_qa.ingest import BUNDLED_PATH

    path = tmp_path_factory.mktemp("upload-files") / "A_RES_75_158.fr.pdf"
    resolution_pdf(BUNDLED_PATH.read_text(encoding="utf-8"), path)
    return path


@pytest.fixture
def page(browser, upload_app: tuple[str, Settings]) -> Iterator[object]:  # noqa: ANN001 (playwright's Browser)
    context = browser.new_context(viewport={"width": 1366, "height": 860})
    try:
        page = context.new_page()
        page.goto(upload_app[0])
        page.wait_for_selector("#question textarea")
        yield page
    finally:
        context.close()


def _upload(page, path: Path) -> str:  # noqa: ANN001
    """Drop a file in the box; the note shown once it is handled."""
    page.click("#add-resolution button")  # open the accordion
    page.set_input_files("#upload-file input[type=file]", str(path))
    page.wait_for_selector("#upload-note .upload-note", timeout=UPLOAD_TIMEOUT_MS)
    return page.inner_text("#upload-note")


def _menu(page) -> list[str]:  # noqa: ANN001
    """The document menu's entries, as a person sees them when opening it."""
    page.click("#scope input")
    page.wait_for_selector("[role=option]")
    entries = [e.strip() for e in page.locator("[role=option]").all_inner_texts()]
    page.keyboard.press("Escape")
    return entries


def test_a_bad_file_gets_one_line(page, tmp_path: Path) -> None:  # noqa: ANN001
    recipe = tmp_path / "recipe.txt"
    recipe.write_text("Mix the flour and the eggs.\n", encoding="utf-8")
    note = _upload(page, recipe)
    assert note.startswith("recipe.txt: ") and "\n" not in note.strip() and "Traceback" not in note
    assert page.locator("#scope").is_hidden()  # still one resolution: no menu


def test_a_pdf_is_added_and_listed_in_the_document_menu(page, upload_app: tuple[str, Settings],  # noqa: ANN001
                                                        small_pdf: Path) -> None:
    assert page.locator("#scope").is_hidden()  # one resolution indexed: no menu yet
    page.evaluate(WATCH_PROGRESS)
    note = _upload(page, small_pdf)
    assert "A/RES/75/904 added" in note, note
    progress = page.evaluate("window.__progress")  # e.g. "0.4s  reading A_RES_75_904.fr.pdf - 5.0%", "embedding"
    assert any("reading A_RES_75_904.fr.pdf" in shown and "%" in shown for shown in progress), progress
    page.wait_for_selector("#scope", state="visible")
    entries = _menu(page)
    assert any(e.startswith("A/RES/75/904") for e in entries) and any(e.startswith("A/RES/75/158") for e in entries)
    page.click("#tab-resolution-button, button[role=tab]:has-text('Résolution')")
    assert "75/904" in page.inner_text("#resolution")

    # A page opened afterwards lists it too.
    page.reload()
    page.wait_for_selector("#scope", state="visible")
    assert any(e.startswith("A/RES/75/904") for e in _menu(page))


def test_a_pdf_past_the_request_cap_arrives_and_never_replaces_the_indexed_text(
        page, upload_app: tuple[str, Settings], bundled_pdf: Path) -> None:  # noqa: ANN001
    settings = upload_app[1]
    assert bundled_pdf.stat().st_size > settings.web.max_request_bytes
    note = _upload(page, bundled_pdf)
    # The same resolution, already indexed: "the same text, nothing changed", or, if the PDF reads differently,
    # refused; never an HTTP 413 from the body cap, never a replaced resolution.
    assert "A/RES/75/158" in note and "indexed already" in note, note
