"""Injected LLM faults against real HTTP servers on 127.0.0.1: down, slow, garbage -> extractive answer with a notice.

Both HTTP backends (openai-compatible and ollama) talk to a small server started by the test; the
retriever is the fake one over the bundled resolution, so only the backend fault is under test.
"""

from __future__ import annotations

import time

import pytest

from resolution_qa.assistant import Answer, Assistant
from resolution_qa.core.settings import Settings
from tests.fakes import FakeLLMServer
from tests.support import free_port, run_cli

QUESTION = "Que dit le paragraphe 27 ?"
GOOD = "Le texte demande de ne pas sanctionner les victimes [S1]."


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


BACKENDS = ["openai", "ollama"]


@pytest.mark.server
@pytest.mark.parametrize("backend", BACKENDS)
def test_backend_down(backend: str, settings: Settings, retriever) -> None:
    s = backend_settings(settings, backend, free_port())
    started = time.perf_counter()
    answer = Assistant(s, retriever=retriever).ask(QUESTION)
    assert_extractive_fallback(answer)
    assert "connect" in answer.notice.lower() or "refused" in answer.notice.lower(), answer.notice
    assert time.perf_counter() - started < 10


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
    assert elapsed < 4.0  # bounded by the timeout (openai retries once), not by the server's 6 s


@pytest.mark.server
@pytest.mark.parametrize("backend", BACKENDS)
def test_backend_that_trickles_past_the_deadline(backend: str, settings: Settings, retriever, fault: FakeLLMServer) -> None:
    fault.mode, fault.sleep, fault.reply = "trickle", 0.15, "mot " * 40 + "[S1]."
    s = backend_settings(settings, backend, fault.port, timeout=1.0)
    started = time.perf_counter()
    answer = Assistant(s, retriever=retriever).ask(QUESTION)
    assert_extractive_fallback(answer, "1 s")
    assert time.perf_counter() - started < 5.0


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
    fault.mode = "empty"
    answer = Assistant(backend_settings(settings, backend, fault.port), retriever=retriever).ask(QUESTION)
    assert_extractive_fallback(answer)


@pytest.mark.server
@pytest.mark.parametrize("backend", BACKENDS)
def test_gibberish_and_invented_tags_keep_only_valid_citations(backend: str, settings: Settings, retriever,
                                                                fault: FakeLLMServer) -> None:
    fault.reply = "Zorglub flimflam wibble quux [S99]. Blorp snark frobnicate grault [S7][S42]. " + GOOD
    answer = Assistant(backend_settings(settings, backend, fault.port), retriever=retriever).ask(QUESTION)
    assert answer.backend == backend and not answer.refused
    assert [c.id for c in answer.citations] == ["OP27"]  # the one unit given to the model, nothing else
    assert "S99" not in answer.text and "[S" not in answer.text and "S42" not in answer.text
    assert set(c.id for c in answer.citations) <= set(answer.retrieved)


@pytest.mark.server
@pytest.mark.parametrize("backend", BACKENDS)
def test_a_huge_answer_is_bounded(backend: str, settings: Settings, retriever, fault: FakeLLMServer) -> None:
    fault.reply = ("Le texte demande de protéger les victimes de la traite [S1]. " * 4000).strip()  # ~250 kB
    started = time.perf_counter()
    answer = Assistant(backend_settings(settings, backend, fault.port, timeout=20.0), retriever=retriever).ask(QUESTION)
    elapsed = time.perf_counter() - started
    assert_extractive_fallback(answer, "characters")  # a server ignoring max_tokens is cut off, not believed
    assert len(answer.text) < 2_000
    assert elapsed < 10


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
    from resolution_qa.core.errors import ModelsMissingError

    broken = settings.model_copy(update={"models_dir": tampered_models(tmp_path, missing=missing)})
    with pytest.raises(ModelsMissingError, match="resolution-qa models fetch"):
        Assistant(broken, backend="llamacpp", retriever=retriever)


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
