"""The README's Python code runs as written: the "Python API" example (fake embedder and the extractive backend in the
fast lane; the real models in a slow test) and the OpenAI client example of "Serving many users" (against the API on
a free port: the only change made to the code is that port)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support import ROOT, free_port

README = ROOT / "README.md"
SERVE_URL = "http://127.0.0.1:7861/v1"  # what the README's client example connects to


def python_blocks() -> dict[str, list[str]]:
    """Each ```python block of the README, by the title of the "## " section it is in."""
    blocks: dict[str, list[str]] = {}
    section = ""
    for match in re.finditer(r"^## (?P<title>[^\n]+)$|^```python\n(?P<code>.*?)^```$", README.read_text(encoding="utf-8"),
                             re.MULTILINE | re.DOTALL):
        if match["title"]:
            section = match["title"].strip()
        else:
            blocks.setdefault(section, []).append(match["code"])
    return blocks


def run_blocks(code: list[str]) -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "readme"}
    for block in code:
        exec(compile(block, str(README), "exec"), namespace)  # noqa: S102 (the README's own code)
    return namespace


def test_every_python_block_of_the_readme_is_run_here() -> None:
    blocks = python_blocks()
    assert set(blocks) == {"Python API", "Serving many users"}, "a new python block needs a test in this file"
    assert [len(b) for b in blocks.values()] == [1, 1]


def test_the_python_api_example_runs_on_the_fake_embedder(monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    from resolution_qa import vectorstore
    from tests.fakes import BagOfWordsEmbeddings

    monkeypatch.setattr(vectorstore, "load_embeddings", lambda settings, **kw: BagOfWordsEmbeddings())
    monkeypatch.setenv("RESOLUTION_QA_BACKEND", "extractive")
    namespace = run_blocks(python_blocks()["Python API"])
    out = capsys.readouterr().out
    assert "A/RES/75/158, par. 27 - " in out and "passages found: " in out
    assert out.splitlines().count("A/RES/75/158, par. 28") == 1  # the follow-up
    assert namespace["answer"].citations[0].id == "OP27" and namespace["follow_up"].citations[0].id == "OP28"
    assert namespace["quotes"].retriever is namespace["assistant"].retriever


@pytest.mark.slow
@pytest.mark.llm
def test_the_python_api_example_runs_on_the_real_models(monkeypatch: pytest.MonkeyPatch, real_settings,  # noqa: ANN001
                                                        real_retriever, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: ANN001
    monkeypatch.setenv("RESOLUTION_QA_INDEX_DIR", str(real_settings.index_dir))
    monkeypatch.setenv("RESOLUTION_QA_MODELS_DIR", str(real_settings.models_dir))
    # A fresh machine builds each passage's model state on first use (median 3.4 s, more on a loaded runner): the
    # claim here is that the example runs on the real model, not how fast, so the deadline is not what is tested.
    monkeypatch.setenv("RESOLUTION_QA_LLM_TIMEOUT_S", "900")
    namespace = run_blocks(python_blocks()["Python API"])  # the default backend: llamacpp
    out = capsys.readouterr().out
    assert namespace["answer"].backend == "llamacpp", namespace["answer"].notice
    assert any(c.id == "OP27" for c in namespace["answer"].citations)
    assert namespace["follow_up"].citations[0].id == "OP28"
    assert "A/RES/75/158, par. 28" in out


@pytest.mark.server
def test_the_openai_client_example_runs_against_serve(settings, make_assistant: Callable[..., Any],  # noqa: ANN001
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    from resolution_qa.web.openai_api import ApiServer, OpenAIService, build_api

    api_settings = settings.model_copy(update={"serve_port": free_port()})
    assistant = make_assistant()
    service = OpenAIService(api_settings, lambda s: assistant).start()
    server = ApiServer(build_api(service), api_settings).start()
    try:
        code = [block.replace(SERVE_URL, server.url) for block in python_blocks()["Serving many users"]]
        assert all(server.url in block for block in code)
        run_blocks(code)
    finally:
        server.stop()
    out = capsys.readouterr().out
    assert "Citations :\n- [A/RES/75/158, par. 27] " in out
    assert out.splitlines()[-1].strip() == "['A/RES/75/158, par. 28']"


def test_the_readme_names_what_the_package_exports() -> None:
    import resolution_qa

    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Python API"):text.index("## Layout")]
    named = set(re.findall(r"`(\w+)`", section.split("```python")[0]))
    assert set(resolution_qa.__all__) - {"__version__"} <= named, "list every public name in the README"
    for name in resolution_qa.__all__:
        assert getattr(resolution_qa, name) is not None
    assert Path(resolution_qa.__file__).with_name("py.typed").is_file()
