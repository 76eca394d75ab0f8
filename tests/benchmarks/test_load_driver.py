"""The load driver's own logic: scripts that expose cross-talk, and the figures it reports."""

from __future__ import annotations

from collections import Counter

from benchmarks.load_driver import LoadRun, TurnResult, _first_cited, session_script
from resolution_qa.assistant.types import Answer, Citation
from resolution_qa.ingest import Document
from resolution_qa.web.render import render_answer, render_failure


def test_at_every_step_twenty_sessions_expect_different_paragraphs() -> None:
    scripts = [session_script(i, 6, 52) for i in range(20)]
    for step in range(6):
        expected = Counter(script[step].expected for script in scripts)
        assert max(expected.values()) == 1, (step, expected)
    assert scripts[3][0].question == "Que dit le paragraphe 7 ?" and scripts[3][1].expected == "OP8"
    assert all(1 <= int(s.expected[2:]) <= 52 for script in scripts for s in script)


def test_the_first_citation_is_read_from_the_rendered_answer(document: Document) -> None:
    units = [document.get("OP12"), document.get("fn3")]
    citations = tuple(Citation(id=u.id, doc=u.doc, label=u.label("fr"), text=u.text) for u in units if u)
    answer = Answer(question="q", text="Selon le par. 12 ...", language="fr", citations=citations, backend="extractive")
    assert _first_cited([{"content": render_answer(answer)}]) == ("OP12", None)
    cited, error = _first_cited([{"content": render_failure("the index is missing; run `resolution-qa ingest`")}])
    assert cited is None and error is not None and "resolution-qa ingest" in error


def test_figures() -> None:
    run = LoadRun(2, 2, wall_s=4.0, rss=[(0, 100), (1, 150), (2, 160), (3, 170), (4, 175)])
    run.turns = [TurnResult(0, 0, "OP1", "OP1", 1.0), TurnResult(0, 1, "OP2", "OP3", 2.0),
                 TurnResult(1, 0, "OP3", None, 3.0, "boom"), TurnResult(1, 1, "OP4", "OP4", 4.0)]
    assert [t.step for t in run.crossed] == [1] and [t.error for t in run.errors] == ["boom"]
    assert run.latencies() == [1.0, 2.0, 4.0]
    assert run.throughput == 0.75
    assert run.percentile(0.5) == 2.0 and run.percentile(0.95) == 3.8
    assert run.rss_growth(0.5) == 175 - 160
