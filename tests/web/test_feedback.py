"""The chat app's feedback and export handlers on a scripted engine (no server): a rating finds its answer, a comment
amends it, the sources panel fills when retrieval is done, and the conversation exports as Markdown."""

from __future__ import annotations

from pathlib import Path

import gradio as gr
import pytest

from resolution_qa.assistant.types import Sources
from resolution_qa.core.settings import Settings
from resolution_qa.ingest import Document
from resolution_qa.web.app import Conversation, Handlers
from resolution_qa.web.feedback import FeedbackStore
from resolution_qa.web.service import ChatService
from tests.fakes import ScriptedEngine


@pytest.fixture
def handlers(settings: Settings, document: Document, tmp_path: Path, make_assistant) -> Handlers:
    app_settings = settings.model_copy(update={"feedback_path": tmp_path / "feedback.jsonl"})
    service = ChatService(app_settings, lambda _: make_assistant())  # the real Assistant, extractive, fake retriever
    service.start()
    return Handlers(service, [document], app_settings)


def _ask(handlers: Handlers, question: str, conversation: Conversation) -> tuple[list[tuple], Conversation]:
    updates = list(handlers.respond(question, conversation))
    return updates, updates[-1][-1]


def _like(index: int, liked: bool | str) -> gr.LikeData:
    return gr.LikeData(None, {"index": index, "value": ["..."], "liked": liked})


def test_the_sources_panel_fills_when_retrieval_is_done(handlers: Handlers) -> None:
    updates, _ = _ask(handlers, "Que dit le paragraphe 27 ?", Conversation())
    panels = [u[2] for u in updates if isinstance(u[2], str)]
    assert len(panels) == 2, "the passages found, then the answer's citations"
    assert "Passages trouvés" in panels[0] and 'class="sources retrieved"' in panels[0]
    assert 'data-unit="OP27"' in panels[0] and "A/RES/75/158, par. 27" in panels[0]
    first_text = next(i for i, u in enumerate(updates) if isinstance(u[1], list) and "streaming" in str(u[1][-1]))
    sources_at = next(i for i, u in enumerate(updates) if isinstance(u[2], str))
    assert first_text < sources_at  # the empty bubble shows first, then the passages, then the words
    assert "retrieved" not in panels[-1] and 'data-unit="OP27"' in panels[-1]


def test_a_rating_and_its_comment_are_saved_with_the_conversation(handlers: Handlers) -> None:
    _, conversation = _ask(handlers, "Que dit le paragraphe 27 ?", Conversation())
    _, conversation = _ask(handlers, "Et le paragraphe suivant ?", conversation)
    note, comment_box, pending = handlers.rate(conversation, _like(3, False))
    assert "votre avis est enregistré" in note["value"] and comment_box["visible"] is True
    note, comment_box, pending = handlers.comment("Il manque le par. 29.", pending)
    assert "Commentaire enregistré" in note["value"] and comment_box["visible"] is False
    records = FeedbackStore(handlers.feedback.path).read()
    assert len(records) == 1
    record = records[0]
    assert (record.rating, record.question, record.comment) == ("down", "Et le paragraphe suivant ?",
                                                                 "Il manque le par. 29.")
    assert [t.question for t in record.history] == ["Que dit le paragraphe 27 ?"]
    assert record.history[0].citations[0] == "A/RES/75/158, par. 27"
    assert record.parsed_answer().citations[0].id == "OP28" and record.backend == "extractive"
    assert record.settings["backend"] == "extractive" and record.settings["refusal_threshold"] == 0.34


def test_only_answers_can_be_rated(handlers: Handlers) -> None:
    _, conversation = _ask(handlers, "Que dit le paragraphe 27 ?", Conversation())
    note, _, pending = handlers.rate(conversation, _like(0, True))  # the question's own bubble
    assert "Seules les réponses" in note["value"] and pending is None
    _, _, pending = handlers.rate(conversation, _like(1, ""))  # a thumb clicked off
    assert pending is None and FeedbackStore(handlers.feedback.path).read() == []
    assert handlers.comment("no rating before", None)[2] is None


def test_the_conversation_exports_as_markdown_with_formal_citations(handlers: Handlers) -> None:
    _, conversation = _ask(handlers, "Que dit le paragraphe 27 ?", Conversation())
    _, conversation = _ask(handlers, "What does paragraph 52 ask of the Secretary-General?", conversation)
    markdown = handlers.export_markdown(conversation)
    assert markdown.startswith("# resolution-qa · A/RES/75/158\n")
    assert "## 1. Que dit le paragraphe 27 ?" in markdown and "## 2. What does paragraph 52" in markdown
    assert "Citations :\n- [A/RES/75/158, par. 27] " in markdown
    assert "Citations:\n- [A/RES/75/158, para. 52] " in markdown


def test_a_long_session_keeps_each_bubble_paired_with_its_exchange(settings: Settings, document: Document,
                                                                    tmp_path: Path) -> None:
    app_settings = settings.model_copy(update={"feedback_path": tmp_path / "f.jsonl", "rate_limit_per_minute": 0})
    service = ChatService(app_settings, lambda _: ScriptedEngine(document))
    handlers = Handlers(service, [document], app_settings)
    conversation = Conversation()
    for n in range(60):  # more than MAX_SHOWN_TURNS: the oldest bubbles are dropped
        _, conversation = _ask(handlers, f"Que dit le par. {n % 50 + 1} ?", conversation)
    assert len(conversation.messages) == len(conversation.exchanges) == 100
    last = conversation.exchanges[-1]
    assert last is not None and last.question == "Que dit le par. 10 ?" and last.answer is not None
    assert sum(e is None for e in conversation.exchanges) == 50


def test_sources_events_pass_through_the_service(settings: Settings, make_assistant) -> None:
    service = ChatService(settings, lambda _: make_assistant())
    events = list(service.stream("Que dit le paragraphe 27 ?"))
    assert isinstance(events[0], Sources) and events[0].citations[0].id == "OP27"
