"""Injected LLM faults against real HTTP servers on 127.0.0.1: down, slow, broken -> extractive answer with a notice;
garbage, tags, an empty or a huge reply -> never shown: the passage is quoted in place of the sentence.

Both HTTP backends (openai-compatible and ollama) talk to a small server started by the test; the retriever is the
fake one over the bundled resolution, so only the backend fault is under test. The model files: missing or failing
their hash, they are named with the command that fetches them.
"""

from __future__ import annotations

import time

import pytest

from resolution_qa.assistant import Answer, Assistant
from resolution_qa.core.errors import BackendError
from resolution_qa.core.settings import Settings
from tests.fakes import FakeLLMServer
from tests.support import free_port, run_cli

QUESTION = "Que dit le paragraphe 27 ?"
GOOD = "Le texte demande de ne pas sanctionner les victimes."
#: The quote of par. 27 put in place of a sentence that cannot be shown (the first line of the answer).
QUOTED_IN_PLACE = "par. 27 : « Engage instamment les gouvernements"


@pytest.fixture
def fault(llm_server: FakeLLMServer) -> FakeLLMServer:
    """The fake LLM server (tests/fakes.py): set its `mode` (ok, sleep, trickle, status, invalid_json, empty) and
    `reply`, `status`, `sleep`."""
    llm_server.reply = GOOD
    return llm_server


def backend_settings(settings: Settings, backend: str, port: int, timeout: float = 5.0) -> Settings:
    url = f"http://127.0.0.1:{port}"
    return settings.model_copy(update={
        "backend": backend, "llm_timeout_s": timeout, "refusal_threshold": 0.05,
        "ollama_url": url, "ollama_model": "tiny:1b", "openai_base_url": f"{url}/v1", "openai_model": "tiny",
    })


def assert_extractive_fallback(answer: Answer, *reason: str) -> None:
    """The answer quotes the named paragraph, says the LLM failed and why, and cites only real units."""
    assert answer.backend == "extractive" and not answer.refused
    assert answer.notice and answer.text.startswith(answer.notice)
    assert answer.notice.startswith("Le modèle de langue n'a pas pu répondre")
    assert "\n" not in answer.notice
    for word in reason:
        assert word.lower() in answer.notice.lower(), answer.notice
    assert [c.id for c in answer.citations] == ["OP27"]
    assert "« Engage instamment les gouvernements" in answer.text


def assert_quoted_in_place(answer: Answer, backend: str) -> None:
    """The backend answered, but what it wrote could not be shown: par. 27 is quoted in place of the sentence, and
    nothing else is cited."""
    assert answer.backend == backend and not answer.refused, answer.notice
    assert answer.notice is None
    assert answer.text.startswith(QUOTED_IN_PLACE), answer.text
    assert [c.id for c in answer.citations] == ["OP27"]
    assert "Le par. 27 engage instamment." not in answer.text  # never the opening alone, as if it were a sentence


BACKENDS = ["openai", "ollama"]


@pytest.mark.server
@pytest.mark.parametrize("backend", BACKENDS)
def test_backend_down(backend: str, settings: Settings, retriever) -> None:
    s = backend_settings(settings, backend, free_port())
    started = time.perf_counter()
    answer = Assistant(s, retriever=retriever).ask(QUESTION)
    assert_extractive_fallback(answer)
    assert "connect" in answer.notice.lower() or "refused" in answer.notice.lower(), answer.notice
    # A hang guard: building the Assistant imports the client libraries, 12.3 s on a loaded 2-core machine (issue 20).
    assert time.perf_counter() - started < 60


@pytest.mark.server
@pytest.mark.parametrize("backend", BACKENDS)
def test_backend_that_never_answers_times_out(backend: str, settings: Settings, retriever, fault: FakeLLMServer) -> None:
    fault.mode, fault.sleep = "sleep", 6.0
    s = backend_settings(settings, backend, fault.port, timeout=0.5)
    started = time.perf_counter()
    answer = Assistant(s, retriever=retriever).ask(QUESTION)
    elapsed = time.perf_counter() - started
    assert_extractive_fallback(answer)
    assert "time" in answer.notice.lower(), answer.notice
    assert elapsed < fault.sleep  # bounded by the timeout (openai retries once), not by the server's 6 s


@pytest.mark.server
@pytest.mark.parametrize("backend", BACKENDS)
def test_backend_that_trickles_past_the_deadline(backend: str, settings: Settings, retriever, fault: FakeLLMServer) -> None:
    """Each word comes well within the HTTP read timeout, but the answer as a whole is past llm_timeout_s."""
    fault.mode, fault.sleep, fault.reply = "trickle", 0.15, "mot " * 40 + "fin."
    s = backend_settings(settings, backend, fault.port, timeout=1.0)
    started = time.perf_counter()
    answer = Assistant(s, retriever=retriever).ask(QUESTION)
    assert_extractive_fallback(answer, "1 s")
    assert time.perf_counter() - started < 40 * 0.15  # stopped at the deadline, before the whole trickle (6 s)


@pytest.mark.server
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("status", [500, 503, 404])
def test_backend_http_errors(backend: str, status: int, settings: Settings, retriever, fault: FakeLLMServer) -> None:
    fault.mode, fault.status = "status", status
    answer = Assistant(backend_settings(settings, backend, fault.port), retriever=retriever).ask(QUESTION)
    assert_extractive_fallback(answer)


@pytest.mark.server
@pytest.mark.parametrize("backend", BACKENDS)
def test_backend_invalid_json(backend: str, settings: Settings, retriever, fault: FakeLLMServer) -> None:
    fault.mode = "invalid_json"
    answer = Assistant(backend_settings(settings, backend, fault.port), retriever=retriever).ask(QUESTION)
    assert_extractive_fallback(answer)


@pytest.mark.server
@pytest.mark.parametrize("backend", BACKENDS)
def test_backend_empty_content(backend: str, settings: Settings, retriever, fault: FakeLLMServer) -> None:
    """Nothing written is nothing to show: the passage is quoted, not the opening the model was asked to continue."""
    fault.mode = "empty"
    answer = Assistant(backend_settings(settings, backend, fault.port), retriever=retriever).ask(QUESTION)
    assert_quoted_in_place(answer, backend)


GIBBERISH = "Zorglub flimflam wibble quux [S99]."
TAGS = "Blorp snark frobnicate grault [S7][S42]."


@pytest.mark.server
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("reply", [f"{GIBBERISH} {TAGS} {GOOD}", f"{TAGS} {GIBBERISH} {GOOD}",
                                   "Le texte demande de ne pas sanctionner les victimes [S1]. " + GIBBERISH],
                         ids=["gibberish-first", "tags-first", "tagged-sentence"])
def test_gibberish_and_invented_tags_are_never_shown(backend: str, reply: str, settings: Settings, retriever,
                                                     fault: FakeLLMServer) -> None:
    """The writer keeps a reply's first sentence; gibberish or a tag (the old answer format's [S1], an [S99] that
    cites nothing) in it is never shown, and only the unit the sentence was written from is cited."""
    fault.reply = reply
    answer = Assistant(backend_settings(settings, backend, fault.port), retriever=retriever).ask(QUESTION)
    assert answer.backend == backend and not answer.refused, answer.notice
    assert [c.id for c in answer.citations] == ["OP27"]  # the one unit named, nothing else
    for bad in ("[S", "S99", "S42", "S7", "Zorglub", "Blorp"):
        assert bad not in answer.text, (bad, answer.text)
    assert set(c.id for c in answer.citations) <= set(answer.retrieved)


@pytest.mark.server
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("reply", [("Le texte demande de protéger les victimes de la traite. " * 4000).strip(),
                                   "mot " * 60000], ids=["sentences", "run-on"])
def test_a_huge_answer_is_bounded(backend: str, reply: str, settings: Settings, retriever,
                                  fault: FakeLLMServer) -> None:
    """A server ignoring max_tokens (~250 kB) is read one sentence far, not believed: the answer stays short."""
    fault.reply = reply
    started = time.perf_counter()
    answer = Assistant(backend_settings(settings, backend, fault.port, timeout=20.0), retriever=retriever).ask(QUESTION)
    elapsed = time.perf_counter() - started
    assert not answer.refused and [c.id for c in answer.citations] == ["OP27"]
    assert answer.backend == backend, answer.notice  # cut by the reader, not by a failure
    assert len(answer.text) < 2_000
    first_line = answer.text.split("\n")[0]
    assert first_line.count("protéger les victimes de la traite") <= 1 and first_line.count("mot mot") <= 120
    assert elapsed < 10


def test_a_backend_failing_after_a_sentence_streams_the_extractive_answer_after_it(make_assistant) -> None:
    """Mid-answer: what was shown stays, the extractive answer follows with a one-line notice naming the reason."""
    assistant = make_assistant("les États à ériger la traite en infraction.", BackendError("llama.cpp crashed"))
    events = list(assistant.stream("Que disent les paragraphes 26 et 27 ?"))
    final = events[-1]
    assert isinstance(final, Answer)
    pieces = [e for e in events[:-1] if isinstance(e, str)]
    assert pieces[0].startswith("Le par. 26 demande")
    assert pieces[-1].startswith("\n\n") and pieces[-1].strip() == final.text  # the fallback after what was shown
    assert final.backend == "extractive" and final.notice and "llama.cpp crashed" in final.notice
    assert "\n" not in final.notice and final.text.startswith(final.notice)
    assert {c.id for c in final.citations} == {"OP26", "OP27"}


# --- model files missing or failing their hash ------------------------------------------------------


def tampered_models(tmp_path, *, missing: bool = False):
    """A models folder where each default model has a file of the right size whose recorded sha256 is wrong
    (or, with missing=True, no file at all). The files are sparse: no gigabyte is written."""
    import json as _json

    from resolution_qa.core.model_files import EMBEDDINGGEMMA, QWEN_GGUF

    root = tmp_path / ("no-models" if missing else "tampered-models")
    root.mkdir()
    if missing:
        return root
    for spec in (EMBEDDINGGEMMA, QWEN_GGUF):
        folder = root / spec.name
        folder.mkdir()
        checked = folder / spec.checked_file
        with checked.open("wb") as f:
            f.truncate(spec.size)
        stat = checked.stat()
        (folder / ".verified.json").write_text(_json.dumps({"sha256": "0" * 64, "size": stat.st_size,
                                                            "mtime_ns": stat.st_mtime_ns}))
    return root


@pytest.mark.parametrize("missing", [True, False], ids=["missing", "wrong-hash"])
def test_embedding_model_fault_names_the_fetch_command(settings: Settings, tmp_path, missing: bool) -> None:
    from resolution_qa.core.errors import ModelsMissingError

    broken = settings.model_copy(update={"models_dir": tampered_models(tmp_path, missing=missing)})
    with pytest.raises(ModelsMissingError) as info:
        Assistant.from_settings(broken, backend="extractive")
    assert "resolution-qa models fetch" in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("missing", [True, False], ids=["missing", "wrong-hash"])
def test_gguf_fault_names_the_fetch_command(settings: Settings, retriever, tmp_path, missing: bool) -> None:
    """The GGUF cannot start: the assistant still answers, from the text, and every answer says why in one line."""
    broken = settings.model_copy(update={"models_dir": tampered_models(tmp_path, missing=missing)})
    assistant = Assistant(broken, backend="llamacpp", retriever=retriever)
    assert assistant.unavailable and "resolution-qa models fetch" in assistant.unavailable
    assert assistant.reading is None  # nothing is asked of a model that did not start
    for question, lang in ((QUESTION, "fr"), ("What does paragraph 27 say?", "en")):
        answer = assistant.ask(question)
        assert answer.backend == "extractive" and answer.language == lang and not answer.refused
        assert answer.notice and "\n" not in answer.notice and answer.text.startswith(answer.notice)
        assert "resolution-qa models fetch" in answer.notice and "llamacpp" in answer.notice
        assert [c.id for c in answer.citations] == ["OP27"]


def test_a_gguf_file_that_is_not_one_names_the_fetch_command(settings: Settings, retriever, tmp_path) -> None:
    """RESOLUTION_QA_GGUF_PATH pointing at a truncated or foreign file: named in one line, answers from the text."""
    fake = tmp_path / "model.gguf"
    fake.write_bytes(b"<html>404 Not Found</html>" * 100)
    assistant = Assistant(settings.model_copy(update={"gguf_path": fake}), backend="llamacpp", retriever=retriever)
    assert assistant.unavailable and str(fake) in assistant.unavailable
    assert "resolution-qa models fetch" in assistant.unavailable and "\n" not in assistant.unavailable
    answer = assistant.ask(QUESTION)
    assert answer.backend == "extractive" and answer.notice and str(fake) in answer.notice
    assert [c.id for c in answer.citations] == ["OP27"]


def test_chat_app_reports_a_wrong_hash_in_its_status(settings: Settings, tmp_path) -> None:
    from resolution_qa.web.service import ChatService

    status = ChatService(settings.model_copy(update={"models_dir": tampered_models(tmp_path)})).start()
    assert not status.ready and status.problem and "resolution-qa models fetch" in status.problem


@pytest.mark.server
def test_cli_with_a_wrong_hash_says_to_fetch_in_one_line(tmp_path) -> None:
    import os

    env = {**os.environ, "RESOLUTION_QA_MODELS_DIR": str(tampered_models(tmp_path)),
           "RESOLUTION_QA_INDEX_DIR": str(tmp_path / "index")}
    ask = run_cli("ask", "Que dit le paragraphe 27 ?", timeout=120, env=env)
    assert ask.returncode == 2 and ask.stdout == ""
    lines = ask.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "resolution-qa models fetch" in lines[0], ask.stderr
    status = run_cli("models", "status", timeout=120, env=env)
    assert status.stdout.count("missing (run `resolution-qa models fetch`)") == 2, status.stdout
