"""The `openai` backend against a real model server: llama-cpp-python's OpenAI-compatible server (`python -m
llama_cpp.server`, the `llamacpp-server` extra) serving the fetched GGUF, asked real questions through the project's
`openai` backend, then through `resolution-qa serve`'s endpoint in front of it (one shared model, README "Serving many
users")."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from benchmarks.llm_load import LlamaServer
from resolution_qa.core.model_files import gguf_path
from resolution_qa.core.settings import Settings
from resolution_qa.web.openai_api import ApiServer, OpenAIService, build_api
from tests.support import free_port, isolated_settings

pytestmark = [pytest.mark.slow, pytest.mark.server, pytest.mark.llm]  # the GGUF, in a server subprocess

#: Seconds an answer, or the server's start, may take. The claim is that the answer comes from the model, not how
#: fast: with the default 120 s LLM timeout a loaded 2-core machine gave the extractive fallback ("no complete
#: answer within 120 s", issue 20), so the bounds only stop a hung server.
PATIENCE_S = 1800.0


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory, models_dir: Path) -> Iterator[LlamaServer]:
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    model = gguf_path(isolated_settings(models_dir=models_dir).llm)
    server = LlamaServer(model, port=free_port(), log=log).start(timeout=PATIENCE_S)
    try:
        yield server
    finally:
        server.stop()


def test_the_openai_backend_answers_from_a_real_llama_cpp_server(llama_server: LlamaServer, real_settings: Settings,
                                                                  real_retriever) -> None:  # noqa: ANN001
    from resolution_qa.assistant import Assistant

    settings = Settings.model_validate({**real_settings.model_dump(), "backend": "openai",
                                        "openai_base_url": llama_server.url, "openai_model": llama_server.alias,
                                        "llm_timeout_s": PATIENCE_S})
    assistant = Assistant(settings, retriever=real_retriever)

    french = assistant.ask("Que demande la résolution aux États pour que les victimes ne soient pas poursuivies ?")
    assert french.backend == "openai", f"the LLM did not answer: {french.notice}"
    assert french.language == "fr" and not french.refused and french.citations
    assert any(c.id == "OP27" for c in french.citations), [c.id for c in french.citations]

    english = assistant.ask("What does paragraph 52 ask of the Secretary-General?")
    assert english.backend == "openai" and english.language == "en", english.notice
    assert english.citations[0].id == "OP52"

    # The same model behind `resolution-qa serve`: an OpenAI client -> this project's API -> llama.cpp's server.
    api_settings = settings.model_copy(update={"serve_port": free_port()})
    service = OpenAIService(api_settings, lambda s: assistant, backends=()).start()
    api = ApiServer(build_api(service), api_settings).start()
    try:
        client = openai.OpenAI(base_url=api.url, api_key="none", max_retries=0, timeout=PATIENCE_S)
        assert [m.id for m in client.models.list().data] == ["resolution-qa-openai"]
        chunks = list(client.chat.completions.create(
            model="resolution-qa-openai", stream=True,
            messages=[{"role": "user", "content": "What does the resolution say about the COVID-19 pandemic?"}]))
    finally:
        api.stop()
    final = chunks[-1].model_extra
    assert final["answer"]["backend"] == "openai" and final["citations"], final["answer"].get("notice")
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert f"- [{final['citations'][0]['formal']}] " in text
    assert "POST /v1/chat/completions" in llama_server.log.read_text()  # every answer came from the server
