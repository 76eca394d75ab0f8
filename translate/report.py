"""The Markdown report of a resolution's renderings: counts, time, and each flagged unit with its reasons, the
French beside the English."""

from __future__ import annotations

import os
import re
import statistics
from collections import Counter
from pathlib import Path

from resolution_qa.ingest.units import Document

from .store import RenderingStore, content_hash


def _kind(reason: str) -> str:
    """"piece 2/3: glossary terms not used: ..." -> "glossary terms not used"."""
    return re.sub(r"^(?:piece \d+/\d+|whole unit): ", "", reason).split(":", 1)[0]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def report_text(document: Document, store: RenderingStore) -> str:
    rows = [(u, store.get(u.key, content_hash(u))) for u in document.units]
    done = [r for _, r in rows if r is not None]
    missing = [u.id for u, r in rows if r is None]
    flagged = [(u, r) for u, r in rows if r is not None and r.status == "flagged"]
    by_model = Counter(r.model for r in done)
    modelled = [r for r in done if r.model != "rules"]
    seconds = sum(r.seconds for r in modelled)
    kinds = Counter(_kind(reason) for _, r in flagged for reason in r.reasons)
    lines = [
        f"# English renderings of {document.symbol}",
        "",
        f"- units: {len(document.units)}; rendered: {len(done)}; missing: {len(missing)}"
        + (f" ({', '.join(missing)})" if missing else ""),
        f"- ok: {len(done) - len(flagged)}; flagged: {len(flagged)}",
        f"- made by: {', '.join(f'{m} ({n})' for m, n in by_model.most_common())}",
        f"- model time: {seconds:.0f} s over {len(modelled)} units: {seconds / max(1, len(modelled)):.1f} s a unit on "
        f"average, median {statistics.median([r.seconds for r in modelled] or [0]):.1f} s, longest "
        f"{max([r.seconds for r in modelled] or [0]):.0f} s",
        "- candidates written for the unit's most-tried piece: "
        + (", ".join(f"{n} ({c} units)" for n, c in sorted(Counter(r.candidates for r in modelled).items())) or "-"),
        f"- machine when this report was written: {os.cpu_count()} CPU cores shared with other jobs, load average "
        + " / ".join(f"{x:.1f}" for x in os.getloadavg()) + " (1/5/15 min)",
        "- flag reasons: " + (", ".join(f"{k} ({n})" for k, n in kinds.most_common()) or "none"),
        "",
        "Method (translate/render.py): each unit is cut into sentences and \"; \" clauses (long ones at commas outside "
        "glossary names); the opening phrase is written in code from translate/data/phrases.tsv and the model "
        "continues it; the glossary entries found in a piece are listed in the prompt. Candidates are written in "
        "order (greedy; a sample of the same prompt; greedy with the glossary names already in English) until one "
        "passes every check (numbers and months incl. words and ordinals, symbols, no French left, glossary terms "
        "used, length ratio); among candidates failing equally, EmbeddingGemma's cosine with the French decides. "
        "Bare-reference footnotes are rendered by rules. Flagged units are shown to readers with the French beside "
        "them.",
        "",
    ]
    for unit, record in flagged:
        lines += [
            f"## {unit.id}",
            "",
            *[f"- {reason}" for reason in record.reasons],
            "",
            "| French (official) | English (unofficial translation) |",
            "|---|---|",
            f"| {_cell(unit.text)} | {_cell(record.text)} |",
            "",
        ]
    return "\n".join(lines)


def write_report(path: Path, document: Document, store: RenderingStore) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(report_text(document, store), encoding="utf-8")
