"""The chat app with fake engines: fallback and error handling, then its API through gradio_client on 127.0.0.1."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from resolution_qa.assistant.types import Answer, Answerer, Sources
from resolution_qa.core.errors import (
    BackendError,
    EmptyQuestionError,
    IndexUnavailableError,
    ModelsMissingError,
)
from resolution_qa.core.settings import Settings
from resolution_qa.ingest import Document
from resolution_qa.web.service import ChatService, Failure, Piece
from tests.fakes import ScriptedEngine as FakeEngine
from tests.support import ENGLISH_FIXTURE, free_port, launch_app


def factory_of(engines: dict[str, Answerer | Exception]) -> Callable[[Settings], Answerer]:
    """An engine factory by backend name; an exception value is raised (e.g. models missing)."""

    def make(settings: Settings) -> Answerer:
        made = engines[settings.backend]
        if isinstance(made, Exception):
            raise made
        return made

    return make


# --- ChatService -----------------------------------------------------------------------------------


def test_pieces_stream_then_the_answer(settings: Settings, document: Document) -> None:
    service = ChatService(settings, factory_of({"extractive": FakeEngine(document)}))
    events = list(service.stream("Que dit le par. 27 ?"))
    pieces = [e for e in events if isinstance(e, Piece)]
    assert len(pieces) > 3
    assert isinstance(events[-1], Answer) and events[-1].citations[0].id == "OP27"
    assert "".join(p.text for p in pieces).strip() == events[-1].text


def test_unavailable_llm_at_start_means_extractive_answers_that_say_so(settings: Settings, document: Document) -> None:
    llm = settings.model_copy(update={"backend": "llamacpp"})
    missing = ModelsMissingError("LLM file missing; run `resolution-qa models fetch`")
    service = ChatService(llm, factory_of({"llamacpp": missing, "extractive": FakeEngine(document)}))
    status = service.start()
    assert status.ready and status.backend == "extractive"
    assert status.problem is not None and "models fetch" in status.problem and "extractive" in status.problem
    answer = list(service.stream("What does para. 27 say?"))[-1]
    assert isinstance(answer, Answer) and answer.notice and "extractive" in answer.notice


def test_llm_failing_mid_answer_gives_an_extractive_answer(settings: Settings, make_assistant) -> None:
    assistant = make_assistant(BackendError("llama.cpp crashed"))  # the writer fails
    service = ChatService(settings.with_backend("llamacpp"), lambda _: assistant)
    events = list(service.stream("Que dit le par. 27 ?"))
    assert isinstance(events[0], Sources) and all(isinstance(e, Piece) for e in events[1:-1])
    assert "llama.cpp crashed" in "".join(e.text for e in events[1:-1])
    final = events[-1]
    assert isinstance(final, Answer) and final.backend == "extractive"
    assert final.notice is not None and "llama.cpp crashed" in final.notice and final.citations


def test_an_engine_that_crashes_at_start_leaves_the_app_up_with_one_line(settings: Settings) -> None:
    def crash(_: Settings) -> Answerer:
        raise MemoryError("cannot allocate 1.2 GB\nmore details")

    service = ChatService(settings, crash)
    status = service.start()
    assert not status.ready
    assert status.problem == "the assistant could not start (MemoryError: cannot allocate 1.2 GB); see the server log"
    assert list(service.stream("par. 27 ?")) == [Failure(status.problem)]


def test_nothing_available_is_a_message_and_a_later_fix_is_picked_up(settings: Settings, document: Document) -> None:
    engines: dict[str, Answerer | Exception] = {
        "extractive": IndexUnavailableError("no index in /tmp/x; run `resolution-qa ingest`"),
    }
    service = ChatService(settings, factory_of(engines))
    assert not service.start().ready
    events = list(service.stream("par. 27 ?"))
    assert events == [Failure("no index in /tmp/x; run `resolution-qa ingest`")]
    engines["extractive"] = FakeEngine(document)  # the user ran the command; no restart needed
    assert isinstance(list(service.stream("par. 27 ?"))[-1], Answer)
    assert service.status().ready and service.status().problem is None


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (EmptyQuestionError("the question is empty; type a question"), "the question is empty; type a question"),
        (RuntimeError("boom\nTraceback (most recent call last)"), None),
    ],
)
def test_errors_become_one_line_messages(settings: Settings, document: Document, error: Exception,
                                         expected: str | None) -> None:
    service = ChatService(settings, factory_of({"extractive": FakeEngine(document, error=error)}))
    events = list(service.stream("par. 27 ?"))
    assert len(events) == 1 and isinstance(events[0], Failure)
    if expected is not None:
        assert events[0].message == expected
    else:
        assert events[0].message == "unexpected error (RuntimeError: boom); see the server log"


# --- the app's API on a real server (marked server) -----------------------------------------------


@dataclass
class RunningApp:
    url: str
    engine: FakeEngine
    client: Client


@pytest.fixture
def running_app(settings: Settings, document: Document) -> Iterator[RunningApp]:
    engine = FakeEngine(document)
    app_settings = settings.model_copy(update={"port": free_port(), "history_turns": 2})
    service = ChatService(app_settings, factory_of({"extractive": engine}))
    service.start()
    demo, url = launch_app(service, [document], app_settings)
    try:
        yield RunningApp(url, engine, Client(url, verbose=False, download_files=False))
    finally:
        demo.close()


@pytest.mark.server
def test_app_listens_on_loopback_only(running_app: RunningApp) -> None:
    assert running_app.url.startswith("http://127.0.0.1:")
    endpoints = set(running_app.client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert {"/chat", "/clear", "/search", "/ask"} <= endpoints


@pytest.mark.server
def test_ask_returns_the_answer_with_formal_citations(running_app: RunningApp, document: Document) -> None:
    result = running_app.client.predict("What does paragraph 27 say?", api_name="/ask")
    assert result["language"] == "en" and not result["refused"]
    assert [(c["id"], c["label"], c["formal"]) for c in result["citations"]] == [
        ("OP27", "para. 27", "A/RES/75/158, para. 27")
    ]
    assert result["citations"][0]["text"] == document.get("OP27").text  # type: ignore[union-attr]


@pytest.mark.server
def test_ask_errors_are_friendly(running_app: RunningApp) -> None:
    with pytest.raises(AppError) as caught:
        running_app.client.predict("   ", api_name="/ask")
    assert "the question is empty" in str(caught.value)
    assert "Traceback" not in str(caught.value)


@pytest.mark.server
def test_chat_streams_then_shows_linked_citations_and_sources(running_app: RunningApp, document: Document) -> None:
    job = running_app.client.submit("Que dit le paragraphe 27 ?", api_name="/chat")
    outputs = list(job)  # every update the server streamed
    final = job.result()
    _, chat, sources, status = final
    assert outputs[0][0] == ""  # the question box is emptied as soon as the question is sent
    streaming = [o for o in outputs if "streaming" in str(o[1])]
    assert len(streaming) >= 3, "the answer should arrive in pieces"
    answer_html = chat[-1]["content"]
    text = answer_html if isinstance(answer_html, str) else str(answer_html)
    assert 'class="cite"' in text and 'href="#u-A-RES-75-158-OP27"' in text
    assert "par. 27" in text
    unit_text = document.get("OP27").text  # type: ignore[union-attr]
    assert unit_text.split(",")[0].replace("'", "&#x27;") in sources
    assert 'data-copy="A/RES/75/158, par. 27"' in sources
    assert "extractive" in status


@pytest.mark.server
def test_chat_keeps_history_per_session_and_clear_forgets_it(running_app: RunningApp) -> None:
    client = running_app.client
    client.predict("Que dit le paragraphe 27 ?", api_name="/chat")
    client.predict("Et ensuite ?", api_name="/chat")
    assert [len(h) for h in running_app.engine.histories] == [0, 1]
    assert running_app.engine.histories[1][0].citations[0].id == "OP27"
    # Another session (another client) starts with an empty history.
    Client(running_app.url, verbose=False).predict("Une autre question", api_name="/chat")
    assert len(running_app.engine.histories[2]) == 0
    box, chat, sources, status = client.predict(api_name="/clear")
    assert chat == [] and "source-card" not in sources
    client.predict("Nouvelle question", api_name="/chat")
    assert len(running_app.engine.histories[3]) == 0


@pytest.mark.server
def test_chat_history_is_capped_by_settings(running_app: RunningApp) -> None:
    for q in ("un", "deux", "trois", "quatre"):
        running_app.client.predict(q, api_name="/chat")
    assert [len(h) for h in running_app.engine.histories] == [0, 1, 2, 2]


@pytest.mark.server
def test_refusal_is_marked_as_such(running_app: RunningApp) -> None:
    _, chat, sources, _ = running_app.client.predict("What about the weather?", api_name="/chat")
    assert 'class="refusal"' in str(chat[-1]["content"])
    assert 'data-unit="OP12"' in sources


@pytest.mark.server
def test_search_filters_the_resolution(running_app: RunningApp, document: Document) -> None:
    html, count = running_app.client.predict("covid", api_name="/search")
    matching = [u for u in document.units if "covid" in u.text.casefold()]
    assert count == f"{len(matching)} / {len(document)}"
    classes = re.findall(r'<section [^>]*class="([^"]*)"', html)
    assert len(classes) == len(document)
    assert sum("nomatch" not in c for c in classes) == len(matching)


# --- the real Assistant behind the app (fake retriever, scripted chat model) -----------------------


@pytest.fixture
def serve(settings: Settings, document: Document) -> Iterator[Callable[[Answerer], Client]]:
    """Serve the app around a given engine on a free loopback port; returns a client for it."""
    demos = []

    def start(engine: Answerer) -> Client:
        app_settings = settings.model_copy(update={"port": free_port(), "backend": "llamacpp"})
        service = ChatService(app_settings, lambda _: engine)
        service.start()
        demo, url = launch_app(service, [document], app_settings)
        demos.append(demo)
        return Client(url, verbose=False)

    yield start
    for demo in demos:
        demo.close()


@pytest.mark.server
def test_real_assistant_answer_streams_with_a_clickable_citation(serve, make_assistant, document: Document) -> None:
    assistant = make_assistant(
        "Les gouvernements doivent veiller à ce que les victimes ne soient pas poursuivies [S1]. "
        "Elles ne sont pas punies [S1]. Elles sont protégées [S1].",
        delay=0.02,
    )
    client = serve(assistant)
    job = client.submit("Que dit le paragraphe 27 ?", api_name="/chat")
    outputs = list(job)
    _, chat, sources, status = job.result()
    assert sum("streaming" in str(o[1]) for o in outputs) >= 2  # sentence by sentence
    final = str(chat[-1]["content"])
    assert 'href="#u-A-RES-75-158-OP27"' in final and ">par. 27</a>" in final
    assert 'data-copy="A/RES/75/158, par. 27"' in sources
    assert "llamacpp" in status


@pytest.mark.server
def test_real_assistant_llm_failure_still_answers_extractively_and_says_so(serve, make_assistant) -> None:
    assistant = make_assistant(ConnectionError("connection refused"))  # the writer fails
    client = serve(assistant)
    _, chat, sources, status = client.predict("Que dit le paragraphe 27 ?", api_name="/chat")
    final = str(chat[-1]["content"])
    assert 'class="notice"' in final and "connection refused" in final
    assert final.count("connection refused") == 1  # the notice once, not also inside the text
    assert 'href="#u-A-RES-75-158-OP27"' in final
    assert "source-card" in sources and "extractive" in status


@pytest.mark.server
def test_llm_backend_down_still_answers_extractively_and_says_so(
    serve, settings: Settings, retriever, document: Document
) -> None:
    from resolution_qa.assistant import Assistant

    # A real Ollama client pointed at a loopback port where nothing listens.
    down = settings.model_copy(update={
        "backend": "ollama", "ollama_url": f"http://127.0.0.1:{free_port()}", "refusal_threshold": 0.05,
        "llm_timeout_s": 10.0,
    })
    client = serve(Assistant(down, retriever=retriever))
    _, chat, sources, _ = client.predict("Que dit le paragraphe 27 ?", api_name="/chat")
    final = str(chat[-1]["content"])
    assert 'class="notice"' in final and 'href="#u-A-RES-75-158-OP27"' in final
    assert "source-card" in sources


@pytest.mark.server
def test_models_missing_is_a_friendly_message_in_the_status_and_the_chat(
    settings: Settings, document: Document, tmp_path
) -> None:
    # The real Assistant factory on an empty models folder: no model can load.
    empty = settings.model_copy(update={"models_dir": tmp_path / "no-models", "port": free_port()})
    service = ChatService(empty)
    status = service.start()
    assert not status.ready and status.problem and "resolution-qa models fetch" in status.problem
    demo, url = launch_app(service, [document], empty)
    try:
        client = Client(url, verbose=False)
        _, chat, _, status_html = client.predict("Que dit le paragraphe 27 ?", api_name="/chat")
        failure = str(chat[-1]["content"])
        assert 'class="failure"' in failure and "resolution-qa models fetch" in failure
        assert "Traceback" not in failure and "File \"" not in failure
        assert "status-line down" in status_html
    finally:
        demo.close()


# --- the document filter (2+ indexed resolutions) ----------------------------------------------------


@pytest.fixture
def two_documents(document: Document) -> list[Document]:
    from resolution_qa.ingest import parse_file

    return [document, parse_file(ENGLISH_FIXTURE)]


def _serve_documents(settings: Settings, engine: FakeEngine, documents: list[Document]):
    app_settings = settings.model_copy(update={"port": free_port()})
    service = ChatService(app_settings, factory_of({"extractive": engine}))
    service.start()
    return launch_app(service, documents, app_settings)


@pytest.mark.server
def test_with_several_documents_the_chat_and_api_filter_by_symbol(
    settings: Settings, document: Document, two_documents: list[Document]
) -> None:
    import httpx

    other = two_documents[1].symbol
    engine = FakeEngine(document)
    demo, url = _serve_documents(settings, engine, two_documents)
    try:
        config = httpx.get(url + "config", timeout=30).text
        assert '"elem_id":"scope"' in config.replace(" ", "") and other in config
        client = Client(url, verbose=False)
        client.predict("Que dit le paragraphe 27 ?", other, api_name="/chat")
        client.predict("Que dit le paragraphe 27 ?", "", api_name="/chat")  # "all resolutions"
        client.predict("What does paragraph 27 say?", [other], api_name="/ask")
        client.predict("What does paragraph 27 say?", None, api_name="/ask")
        assert engine.filters == [[other], None, [other], None]
        with pytest.raises(AppError, match="unknown document 'A/RES/1/1'"):
            client.predict("What does paragraph 27 say?", ["A/RES/1/1"], api_name="/ask")
        assert len(engine.filters) == 4
    finally:
        demo.close()


@pytest.mark.server
def test_with_one_document_there_is_no_filter(settings: Settings, document: Document) -> None:
    import httpx

    engine = FakeEngine(document)
    demo, url = _serve_documents(settings, engine, [document])
    try:
        assert '"elem_id":"scope"' not in httpx.get(url + "config", timeout=30).text.replace(" ", "")
        Client(url, verbose=False).predict("Que dit le paragraphe 27 ?", api_name="/chat")
        assert engine.filters == [None]
    finally:
        demo.close()
