"""`resolution-qa ask`: turns as one conversation, JSON lines, batch files, clear errors."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from resolution_qa.cli import ask_cmd
from resolution_qa.core.settings import Settings
from tests.fakes import StreamingRecordingAssistant as RecordingAssistant


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> list[RecordingAssistant]:
    made: list[RecordingAssistant] = []

    def build(settings: Settings) -> RecordingAssistant:
        made.append(RecordingAssistant(settings))
        return made[-1]

    monkeypatch.setattr(ask_cmd, "build_assistant", build)
    return made


@pytest.fixture
def run(cli_main: Callable[..., tuple[int, str, str]]) -> Callable[..., tuple[int, str, str]]:
    """`resolution-qa ask ARGS` in this process: (exit code, stdout, stderr)."""
    return lambda *args: cli_main("ask", *args)


def test_questions_are_turns_of_one_conversation(run, built: list[RecordingAssistant]) -> None:
    code, out, _ = run("Que dit le paragraphe 39 ?", "Et le paragraphe suivant ?", "--format", "json")
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["question"] for r in rows] == ["Que dit le paragraphe 39 ?", "Et le paragraphe suivant ?"]
    assert built[0].calls == [("Que dit le paragraphe 39 ?", 0), ("Et le paragraphe suivant ?", 1)]
    first = rows[0]
    assert set(first) >= {"question", "answer", "language", "refused", "citations", "timings", "backend"}
    assert first["citations"] == [{"id": "OP27", "doc": "A/RES/75/158", "label": "par. 27", "text": "Engage…"}]
    assert first["timings"].items() >= {"retrieval": 0.1, "first_token": 0.2, "total": 0.3}.items()
    assert first["backend"] == "llamacpp"  # the default, from settings


def test_backend_option_overrides_settings(run, built: list[RecordingAssistant]) -> None:
    code, out, _ = run("Q ?", "--backend", "extractive", "--format", "json")
    assert code == 0 and json.loads(out)["backend"] == "extractive"
    assert built[0].settings.backend == "extractive"


def test_text_output_lists_citations_under_the_answer(run, built: list[RecordingAssistant]) -> None:
    code, out, _ = run("Que dit le paragraphe 27 ?")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "Q: Que dit le paragraphe 27 ?"
    assert lines[1] == "Sources : par. 27"  # the passages found, before the answer
    assert lines[2] == "Que dit le paragraphe 27 ? #1"
    assert lines[3] == "Citations :"
    assert lines[4] == "  [A/RES/75/158, par. 27] Engage…"


def test_batch_runs_each_line_as_its_own_conversation(run, built: list[RecordingAssistant], tmp_path: Path) -> None:
    batch = tmp_path / "questions.jsonl"
    batch.write_text("\n".join([
        json.dumps({"id": "a", "turns": ["Que dit le paragraphe 39 ?", "Et le suivant ?"], "gold": ["OP40"]}),
        "not json",
        json.dumps({"turns": []}),
        json.dumps({"id": "d", "turns": ["boom"]}),
        "",
        json.dumps({"turns": ["What is the capital of France?"]}),
    ]), encoding="utf-8")
    code, out, _ = run("--batch", str(batch), "--format", "json")
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == 5
    assert rows[0]["id"] == "a" and rows[0]["question"] == "Et le suivant ?" and rows[0]["answer"].endswith("#2")
    assert rows[1]["line"] == 2 and "not valid JSON" in rows[1]["error"]
    assert rows[2]["line"] == 3 and "non-empty list" in rows[2]["error"]
    assert rows[3]["id"] == "d" and rows[3]["error"] == "model crashed"
    assert rows[4]["refused"] is True and rows[4]["citations"] == []
    assert len(built) == 1  # models loaded once for the whole batch
    assert ("Et le suivant ?", 1) in built[0].calls and ("What is the capital of France?", 0) in built[0].calls


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "give one or more questions, or --batch FILE"),
        (("Q ?", "--batch", "x.jsonl"), "not both"),
        (("--batch", "missing.jsonl"), "missing.jsonl: file not found"),
        (("Q ?", "--backend", "gpt5"), "gpt5"),
    ],
)
def test_bad_invocations_say_what_to_do(run, built: list[RecordingAssistant], args: tuple[str, ...], message: str) -> None:
    code, _, err = run(*args)
    assert code == 2
    assert message in err
    assert built == []


def test_an_empty_question_is_a_one_line_error(run, built: list[RecordingAssistant]) -> None:
    code, out, err = run("   ")
    assert code == 2
    assert err.strip() == "error: the question is empty; type a question about the resolution"


@pytest.mark.slow
@pytest.mark.server
def test_real_stack_extractive_json(cli: Callable[..., subprocess.CompletedProcess[str]],
                                    real_index_env: dict[str, str]) -> None:
    """The installed command on the real embedder and the session's real index, without an LLM."""
    result = cli("ask", "Que dit le paragraphe 27 ?", "And the next paragraph?", "--backend", "extractive",
                 "--format", "json", env=real_index_env)
    assert result.returncode == 0, result.stderr
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert first["language"] == "fr" and [c["id"] for c in first["citations"]] == ["OP27"]
    assert first["citations"][0]["label"] == "par. 27"
    assert second["language"] == "en" and [c["id"] for c in second["citations"]] == ["OP28"]
    assert second["citations"][0]["label"] == "para. 28"
    assert second["backend"] == "extractive" and not second["refused"]


def test_text_mode_prints_the_sources_as_soon_as_retrieval_is_done(run, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 11: "Sources : ..." is on screen before the first piece of the answer is even produced, then the
    answer as it streams, then the citations block."""
    import sys

    from resolution_qa.assistant.types import Answer, Citation, Sources, Timings

    seen_before_text: list[str] = []
    cited = (Citation(id="OP27", doc="A/RES/75/158", label="para. 27", text="Urges…"),
             Citation(id="fn17", doc="A/RES/75/158", label="footnote 17", text="A/75/169."))

    class Streaming(RecordingAssistant):
        def stream(self, question, history=None, docs=None):
            yield Sources(citations=cited)
            seen_before_text.append(sys.stdout.getvalue())  # what the user sees while the model writes
            yield "It urges "
            yield "States [S1]."
            yield Answer(question=question, text="It urges States [S1].", language="en", citations=cited[:1],
                         timings=Timings(retrieval=0.1, total=1.0), backend="llamacpp")

    monkeypatch.setattr(ask_cmd, "build_assistant", Streaming)
    code, out, _ = run("What does paragraph 27 say?")
    assert code == 0
    assert seen_before_text and seen_before_text[0].splitlines()[-1] == "Sources: para. 27, footnote 17"
    lines = out.splitlines()
    assert lines[:4] == ["Q: What does paragraph 27 say?", "Sources: para. 27, footnote 17", "It urges States [S1].",
                         "Citations:"]


def test_json_output_is_one_record_per_turn_as_before(run, built: list[RecordingAssistant]) -> None:
    code, out, _ = run("Que dit le paragraphe 27 ?", "--format", "json")
    assert code == 0 and len(out.splitlines()) == 1
    assert "Sources" not in out and json.loads(out)["answer"] == "Que dit le paragraphe 27 ? #1"
