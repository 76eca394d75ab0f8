"""Run retrieval systems and answer backends over the items, one prediction line at a time (resumable)."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

from tqdm import tqdm

from resolution_qa.assistant.types import Answer, Answerer
from resolution_qa.core.errors import EvalRunError, ResolutionQAError
from resolution_qa.core.files import write_atomic

from .baselines import RetrievalSystem
from .dataset import EvalItem
from .predictions import (
    AnswerPrediction,
    QuerySource,
    RetrievalPrediction,
    RunConfig,
    dump,
    read_predictions,
)

#: Retrieval systems are asked for this many slots, so recall@1/5/10 come from one call.
RETRIEVAL_K = 10
PREDICTIONS = "predictions.jsonl"
RUN_CONFIG = "run.json"

Prediction = RetrievalPrediction | AnswerPrediction


@runtime_checkable
class Components(Protocol):
    """Builds what a run evaluates; only what still has work is built (a finished part is not reloaded)."""

    def retrieval_system(self, name: str) -> RetrievalSystem: ...

    def assistant(self, backend: str) -> Answerer:
        """What answers with this backend (its `ask`: a question, given the conversation so far)."""
        ...


def _diff(old: RunConfig, new: RunConfig) -> str:
    a, b = old.model_dump(exclude={"started_at", "code"}), new.model_dump(exclude={"started_at", "code"})
    return ", ".join("items" if k == "item_ids" else k for k in a if a[k] != b[k])


def prepare(out: Path, config: RunConfig, *, resume: bool) -> tuple[RunConfig, list[Prediction]]:
    """Check the output folder; return the run's config (a resumed run keeps its start time and commit)
    and the predictions it keeps.

    A line cut by an interruption is dropped and the file rewritten, so new lines never follow a
    torn one.
    """
    out.mkdir(parents=True, exist_ok=True)
    config_path, pred_path = out / RUN_CONFIG, out / PREDICTIONS
    existing, dropped = read_predictions(pred_path)
    if existing:  # a folder whose run died before its first prediction has nothing to keep
        if not resume:
            raise EvalRunError(
                f"{out} already holds a run ({len(existing)} predictions); pass --resume to continue it, "
                "or choose another --out"
            )
        try:
            old = RunConfig.model_validate_json(config_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise EvalRunError(f"{config_path} is missing or unreadable; start the run again with another --out") from None
        if not old.same_work(config):
            raise EvalRunError(
                f"{out} holds a run with a different {_diff(old, config)}; resume it with the same options, "
                "or choose another --out"
            )
        config = config.model_copy(update={"started_at": old.started_at, "code": old.code})
    if dropped or not existing:
        write_atomic(pred_path, "".join(dump(p) + "\n" for p in existing), what="the predictions")
    write_atomic(config_path, config.model_dump_json(indent=2), what="the run's config")
    return config, existing


def _converse(assistant: Answerer, item: EvalItem, backend: str) -> AnswerPrediction:
    answers: list[Answer] = []
    try:
        for turn in item.turns:
            answers.append(assistant.ask(turn, list(answers)))
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # noqa: BLE001 - one bad item must not end an hour-long run; it is reported
        kind = "" if isinstance(exc, ResolutionQAError) else f"{type(exc).__name__}: "
        return AnswerPrediction(item_id=item.id, backend=backend, answers=answers, error=f"{kind}{exc}")
    return AnswerPrediction(item_id=item.id, backend=backend, answers=answers)


def query_for(item: EvalItem, system: str, answer: AnswerPrediction | None) -> tuple[str, QuerySource]:
    """The query a retrieval system gets (see QuerySource)."""
    if len(item.turns) == 1:
        return item.question, "question"
    if system == "ours" and answer is not None and answer.final is not None and answer.final.standalone:
        return answer.final.standalone, "standalone"
    return " ".join(item.turns), "joined_turns"


def retrieve(system: RetrievalSystem, item: EvalItem, name: str, answer: AnswerPrediction | None) -> RetrievalPrediction:
    query, source = query_for(item, name, answer)
    start = time.perf_counter()
    try:
        hits = system.search(query, RETRIEVAL_K)
    except ResolutionQAError as exc:
        # e.g. "paragraph 60" in a 52-paragraph resolution: nothing retrieved, and that is the point
        return RetrievalPrediction(item_id=item.id, system=name, query=query, query_source=source, ranking=[],
                                   seconds=time.perf_counter() - start, error=f"{type(exc).__name__}: {exc}")
    return RetrievalPrediction(
        item_id=item.id, system=name, query=query, query_source=source, ranking=hits.ranking,
        context=hits.context, best_dense=hits.best_dense,
        seconds=hits.seconds if hits.seconds is not None else time.perf_counter() - start,
    )


def execute(
    items: Sequence[EvalItem],
    config: RunConfig,
    components: Components,
    out: Path,
    *,
    resume: bool = False,
    show_progress: bool = True,
) -> tuple[RunConfig, list[Prediction]]:
    """Run every (item, backend) then every (item, system) not yet in out/predictions.jsonl.

    Lines are appended and flushed as they are made: an interrupted run keeps its work and
    KeyboardInterrupt propagates to the caller.
    """
    config, predictions = prepare(out, config, resume=resume)
    done = {p.key for p in predictions}
    # The first backend's rewritten question is what "ours" retrieves for on conversational items.
    lead = config.backends[0] if config.backends else None
    first_answer = {p.item_id: p for p in predictions if isinstance(p, AnswerPrediction) and p.backend == lead}
    pending_backends = [b for b in config.backends if any(("answer", b, i.id) not in done for i in items)]
    pending_systems = [s for s in config.systems if any(("retrieval", s, i.id) not in done for i in items)]
    # Heavy parts (models, indexes) load before the progress bar starts.
    assistants = {b: components.assistant(b) for b in pending_backends}
    systems = {s: components.retrieval_system(s) for s in pending_systems}
    total = len(items) * (len(config.backends) + len(config.systems))
    with (
        (out / PREDICTIONS).open("a", encoding="utf-8") as sink,
        tqdm(total=total, initial=len(done), desc="eval", unit="step", file=sys.stderr, disable=not show_progress,
             mininterval=1.0 if sys.stderr.isatty() else 30.0) as bar,
    ):
        def keep(prediction: Prediction) -> None:
            sink.write(dump(prediction) + "\n")
            sink.flush()
            predictions.append(prediction)
            bar.update(1)

        for item in items:
            for backend in config.backends:
                if ("answer", backend, item.id) in done:
                    continue
                bar.set_postfix_str(f"{item.id} {backend}", refresh=False)
                prediction = _converse(assistants[backend], item, backend)
                if backend == lead:
                    first_answer[item.id] = prediction
                keep(prediction)
            for name in config.systems:
                if ("retrieval", name, item.id) in done:
                    continue
                bar.set_postfix_str(f"{item.id} {name}", refresh=False)
                keep(retrieve(systems[name], item, name, first_answer.get(item.id)))
    return config, predictions
