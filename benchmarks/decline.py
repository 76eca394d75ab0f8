"""When the extractive path declines, before and after the text signals of issue 18, on the dev splits.

Runs understand -> retrieve -> select for every item (no model writes; the real embedding model and index), and
compares the old rule (decline when the best dense similarity is under the threshold) with the new one (the old
rule, or a name the resolution never uses, or "the text does not give that detail"). Writes
benchmarks/results/decline.md. Tuning splits only (dev, blind_dev, calibration): the held-out ones are for reports.

    .venv/bin/python benchmarks/decline.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import machine  # noqa: E402

SPLITS = ("dev", "blind_dev", "calibration")
OUT = Path(__file__).parent / "results" / "decline.md"


def main() -> None:
    from resolution_qa import Assistant, Settings
    from resolution_qa.assistant.select import _not_addressed, select
    from resolution_qa.eval.dataset import load_dataset

    settings = Settings()
    assistant = Assistant(settings, backend="extractive")
    rows = []
    started = time.perf_counter()
    for split in SPLITS:
        items = load_dataset(ROOT / "eval" / "data" / f"{split}.jsonl", document=assistant.documents[0]).items
        counts = {"answerable": 0, "unanswerable": 0, "old_tp": 0, "old_fp": 0, "new_tp": 0, "new_fp": 0,
                  "not_given": 0, "foreign": 0}
        for item in items:
            if len(item.turns) > 1:
                continue  # follow-ups need their conversation: single questions only here
            state = assistant.prepare(item.turns[-1])
            if state.result is None:
                continue  # out of range: declined by both
            old = _not_addressed(state.result, settings.answer.refusal_threshold)
            select(state, assistant.documents, settings.answer, judged=False, vocabulary=assistant._words)
            new = state.refused or state.missing is not None
            counts["not_given"] += state.missing is not None
            counts["foreign"] += bool(state.foreign)
            key = "unanswerable" if not item.answerable else "answerable"
            counts[key] += 1
            if not item.answerable:
                counts["old_tp"] += old
                counts["new_tp"] += new
            else:
                counts["old_fp"] += old
                counts["new_fp"] += new
        rows.append((split, counts))
    seconds = time.perf_counter() - started
    lines = ["# Declining on the tuning splits: the dense threshold alone vs the text signals (issue 18)", "",
             f"Measured {time.strftime('%Y-%m-%d')} on {machine()}; {seconds:.0f} s for all items.",
             "Extractive path (no model): understand, retrieve, select. Recall = unanswerable items declined;",
             "false refusals = answerable items declined (a \"does not give that detail\" answer counts as declined);",
             "single-turn items only.",
             "", "| split | unanswerable | recall before | recall after | answerable | false refusals before | after |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for split, c in rows:
        u, a = max(c["unanswerable"], 1), max(c["answerable"], 1)
        lines.append(f"| {split} | {c['unanswerable']} | {c['old_tp'] / u:.2f} | {c['new_tp'] / u:.2f} | "
                     f"{c['answerable']} | {c['old_fp'] / a:.3f} | {c['new_fp'] / a:.3f} |")
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
