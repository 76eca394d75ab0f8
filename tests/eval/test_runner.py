"""The runner: one prediction line per (item, system/backend), conversations in order, resumable, clean on interrupt."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from resolution_qa.core.errors import EvalRunError
from resolution_qa.eval.dataset import EvalItem
from resolution_qa.eval.predictions import AnswerPrediction, RetrievalPrediction, read_predictions
from resolution_qa.eval.runner import PREDICTIONS, execute
from tests.fakes import FakeComponents, ScriptedAssistant, ScriptedSystem
from tests.support import make_config


def _components(tiny_items: list[EvalItem], **assistant_options: object) -> FakeComponents:
    rankings = {i.question: [["OP27"], ["OP5"]] for i in tiny_items}
    return FakeComponents(
        systems={"ours": ScriptedSystem("ours", rankings), "bm25": ScriptedSystem("bm25", rankings)},
        assistants={"extractive": ScriptedAssistant(**assistant_options)},  # type: ignore[arg-type]
    )


def test_full_run(tmp_path: Path, tiny_items: list[EvalItem]) -> None:
    comps = _components(tiny_items)
    _, preds = execute(tiny_items, make_config(tiny_items), comps, tmp_path, show_progress=False)
    assert len(preds) == 4 * 3
    on_disk, dropped = read_predictions(tmp_path / PREDICTIONS)
    assert dropped == 0 and [p.key for p in on_disk] == [p.key for p in preds]
    # the conversation: both turns asked in order, the second with the first answer as history
    assert comps.assistants["extractive"].calls[-2:] == [("Parle-moi de la Journée mondiale.", 0), ("Et son objectif ?", 1)]
    conv = {p.system: p for p in preds if isinstance(p, RetrievalPrediction) and p.item_id == "t-4"}
    assert conv["ours"].query_source == "standalone"
    assert conv["ours"].query == "Parle-moi de la Journée mondiale. Et son objectif ?"  # the scripted rewrite
    assert conv["bm25"].query_source == "joined_turns"
    single = next(p for p in preds if isinstance(p, RetrievalPrediction) and p.item_id == "t-1")
    assert single.query_source == "question" and single.ranking == [["OP27"], ["OP5"]]
    assert json.loads((tmp_path / "run.json").read_text())["item_ids"] == ["t-1", "t-2", "t-3", "t-4"]


def test_interrupted_run_resumes_without_redoing_work(tmp_path: Path, tiny_items: list[EvalItem]) -> None:
    config = make_config(tiny_items)
    first = _components(tiny_items, interrupt_on=tiny_items[2].question)
    with pytest.raises(KeyboardInterrupt):
        execute(tiny_items, config, first, tmp_path, show_progress=False)
    kept, _ = read_predictions(tmp_path / PREDICTIONS)
    assert len(kept) == 2 * 3  # items t-1 and t-2 done, nothing of t-3

    # simulate a line torn by the interruption: it is dropped and redone
    with (tmp_path / PREDICTIONS).open("a") as f:
        f.write('{"kind": "retrieval", "item_id": "t-3", "sys')
    with pytest.raises(EvalRunError, match="pass --resume"):
        execute(tiny_items, config, _components(tiny_items), tmp_path, show_progress=False)

    second = _components(tiny_items)
    _, preds = execute(tiny_items, config, second, tmp_path, resume=True, show_progress=False)
    assert len(preds) == 12 and len({p.key for p in preds}) == 12
    assert [q for q, _ in second.assistants["extractive"].calls] == [tiny_items[2].question, *tiny_items[3].turns]
    assert second.systems["ours"].queries[0] == tiny_items[2].question
    on_disk, dropped = read_predictions(tmp_path / PREDICTIONS)
    assert dropped == 0 and len(on_disk) == 12

    # a finished run resumes to nothing and builds nothing
    third = _components(tiny_items)
    resumed_config, preds = execute(tiny_items, config.model_copy(update={"started_at": "later"}), third, tmp_path,
                                    resume=True, show_progress=False)
    assert len(preds) == 12 and resumed_config.started_at == config.started_at
    assert third.built == []


def test_resume_refuses_different_work(tmp_path: Path, tiny_items: list[EvalItem]) -> None:
    execute(tiny_items, make_config(tiny_items), _components(tiny_items), tmp_path, show_progress=False)
    other = make_config(tiny_items, systems=["ours"])
    with pytest.raises(EvalRunError, match="different systems"):
        execute(tiny_items, other, _components(tiny_items), tmp_path, resume=True, show_progress=False)


def test_a_failing_answer_is_recorded_not_fatal(tmp_path: Path, tiny_items: list[EvalItem]) -> None:
    comps = _components(tiny_items, fail_on=tiny_items[0].question)
    _, preds = execute(tiny_items, make_config(tiny_items, systems=[]), comps, tmp_path, show_progress=False)
    failed = next(p for p in preds if isinstance(p, AnswerPrediction) and p.item_id == "t-1")
    assert failed.error == "RuntimeError: model crashed" and failed.final is None
    assert all(p.error is None for p in preds if p.item_id != "t-1")


def test_a_run_can_be_extended_to_more_items(tmp_path: Path, tiny_items: list[EvalItem]) -> None:
    execute(tiny_items[:2], make_config(tiny_items[:2]), _components(tiny_items), tmp_path, show_progress=False)
    with pytest.raises(EvalRunError, match="different items"):
        execute(tiny_items[1:], make_config(tiny_items[1:]), _components(tiny_items), tmp_path, resume=True,
                show_progress=False)
    more = _components(tiny_items)
    _, preds = execute(tiny_items, make_config(tiny_items), more, tmp_path, resume=True, show_progress=False)
    assert len(preds) == 12 and more.systems["bm25"].queries == [tiny_items[2].question, " ".join(tiny_items[3].turns)]
    assert json.loads((tmp_path / "run.json").read_text())["item_ids"] == ["t-1", "t-2", "t-3", "t-4"]
