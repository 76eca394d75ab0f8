"""The report files: every number in report.json, tables and failures in report.md, an offline report.html."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from resolution_qa.eval.dataset import EvalItem
from resolution_qa.eval.report import write_report
from resolution_qa.eval.scoring import Report, build_report
from resolution_qa.ingest import Document
from tests.support import CHROMIUM, CHROMIUM_ARGS, make_config


def test_report_files(tmp_path: Path, tiny_items: list[EvalItem], tiny_predictions: list, document: Document) -> None:
    report = build_report(tiny_items, tiny_predictions, make_config(tiny_items, systems=["ours"]), document,
                          notes=["a note from the caller"])
    paths = write_report(report, tmp_path)

    again = Report.model_validate_json(paths["json"].read_text())
    assert again.retrieval["ours"].overall.recall[5] == report.retrieval["ours"].overall.recall[5]
    assert len(again.answer_items) == 4 and again.notes[-1] == "a note from the caller"

    md = paths["md"].read_text()
    assert "| ours | 3 | 0.333 | 0.556 | 0.667 |" in md
    # accuracy, right among the answers given, coverage (t-1 right and t-4 wrong given; t-2, t-3 declined)
    assert "| extractive | 4 | 0.500 | 0.500 | 0.500 |" in md
    assert "List questions" in md and "list recall" in md
    assert "## Failed items (2)" in md and "**t-4**" in md and "invented reference" in md
    assert "At the configured threshold 0.40: refusal recall 1.000, false-refusal rate 0.333" in md
    for name in ("recall_at_k", "recall_by_type", "correctness_by_type", "latency", "refusal_tradeoff"):
        assert f"plots/{name}.png" in md
        assert (tmp_path / "plots" / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    html = paths["html"].read_text()
    sources = re.findall(r'<img src="([^"]+)"', html)
    assert len(sources) == 5 and all(s.startswith("data:image/png;base64,") for s in sources)
    assert not re.search(r'(?:src|href)="https?:', html)  # self-contained, nothing fetched
    assert "<table>" in html and "t-4" in html


def test_report_without_backends_says_so(tmp_path: Path, tiny_items: list[EvalItem], tiny_predictions: list,
                                         document: Document) -> None:
    retrieval_only = [p for p in tiny_predictions if p.kind == "retrieval"]
    report = build_report(tiny_items, retrieval_only, make_config(tiny_items, systems=["ours"], backends=[]), document)
    assert report.answers == {}
    assert any("No answer backend" in n for n in report.notes)
    md = write_report(report, tmp_path, with_plots=False)["md"].read_text()
    assert "## Answers" not in md and "## Retrieval" in md


@pytest.mark.browser
def test_html_report_renders_offline_in_a_browser(tmp_path: Path, tiny_items: list[EvalItem], tiny_predictions: list,
                                                  document: Document) -> None:
    chromium = CHROMIUM
    if not chromium.exists():
        pytest.skip("no /usr/bin/chromium; scripts/test installs it")
    from playwright.sync_api import sync_playwright

    report = build_report(tiny_items, tiny_predictions, make_config(tiny_items, systems=["ours"]), document)
    html = write_report(report, tmp_path)["html"]
    requested: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.on("request", lambda r: requested.append(r.url))
            page.goto(html.as_uri())
            decoded = page.evaluate("[...document.images].map(i => i.complete && i.naturalWidth > 0)")
            headings = page.evaluate("[...document.querySelectorAll('h2')].map(h => h.textContent)")
        finally:
            browser.close()
    assert decoded == [True] * 5
    assert "Retrieval" in headings and "Answers" in headings
    assert all(url.startswith(("file:", "data:")) for url in requested), requested
