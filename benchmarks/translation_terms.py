"""The share of the established English terms (eval/data/terms_en.tsv) that the English renderings use.

For each row of the table whose French phrase occurs in a unit, the unit's kept rendering must contain the English
term (case, accents, hyphens and plural s aside). Writes benchmarks/results/translation_terms.md.

    .venv/bin/python benchmarks/translation_terms.py [--renderings FILE] [--out FILE]
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import defaultdict
from pathlib import Path

from resolution_qa.ingest import parse_file
from resolution_qa.translate.store import RenderingStore, bundled_path, content_hash
from resolution_qa.translate.terms import fold, read_tsv, uses

ROOT = Path(__file__).resolve().parent.parent
TABLE = ROOT / "eval" / "data" / "terms_en.tsv"
OUT = ROOT / "benchmarks" / "results" / "translation_terms.md"
TARGET = 0.90


def occurs(phrase: str, text: str) -> bool:
    pattern = r"[\s\-]+".join(re.escape(p) for p in re.split(r"[\s\-]+", fold(phrase)))
    return re.search(rf"(?<![\w-]){pattern}(?![\w-])", fold(text)) is not None


def measure(store: RenderingStore) -> dict:
    document = parse_file(None)
    rows = read_tsv(TABLE)
    pairs, used, no_rendering = 0, 0, 0
    misses: dict[str, list[str]] = defaultdict(list)
    row_hits: dict[str, list[bool]] = defaultdict(list)
    for unit in document.units:
        record = store.get(unit.key, content_hash(unit))
        for row in rows:
            if not occurs(row.fr, unit.text):
                continue
            if record is None:
                no_rendering += 1
                continue
            pairs += 1
            hit = uses(record.text, row.en)
            used += hit
            row_hits[row.fr].append(hit)
            if not hit:
                misses[f"{row.fr} = {row.en}"].append(unit.id)
    rows_found = len(row_hits)
    rows_all = sum(all(h) for h in row_hits.values())
    return {"rows": len(rows), "rows_found": rows_found, "rows_all": rows_all, "pairs": pairs, "used": used,
            "share": used / pairs if pairs else 0.0, "no_rendering": no_rendering, "misses": dict(misses),
            "units": len(document.units), "rendered": sum(1 for u in document.units if store.get(u.key, content_hash(u)))}


def report(result: dict, source: Path) -> str:
    sys.path.insert(0, str(ROOT))
    from benchmarks.common import machine

    verdict = "meets" if result["share"] >= TARGET else "misses"
    lines = [
        "# Established English terms in the renderings of A/RES/75/158",
        "",
        f"Table: `eval/data/terms_en.tsv` ({result['rows']} rows, written before any rendering was read); "
        f"renderings: `{source.relative_to(ROOT) if source.is_relative_to(ROOT) else source}` "
        f"({result['rendered']} of {result['units']} units).",
        "",
        f"- (row, unit) pairs where the French phrase occurs in a rendered unit: {result['pairs']}",
        f"- pairs whose rendering uses the established term: {result['used']} -> **share {result['share']:.3f}** "
        f"({verdict} the target {TARGET:.2f})",
        f"- rows found in the text: {result['rows_found']}; rows used in every unit they occur in: {result['rows_all']}",
        f"- pairs in units without a rendering (not counted): {result['no_rendering']}",
        "",
        "Missed terms (unit ids):",
        "",
        *[f"- {term}: {', '.join(ids)}" for term, ids in sorted(result["misses"].items(), key=lambda kv: -len(kv[1]))],
        "",
        f"Machine: {machine()} (the measurement itself reads files only).",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renderings", type=Path, default=bundled_path("A/RES/75/158", "en"))
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    result = measure(RenderingStore(args.renderings))
    args.out.write_text(report(result, args.renderings.resolve()), encoding="utf-8")
    print(f"share {result['share']:.3f} over {result['pairs']} pairs ({result['rendered']}/{result['units']} units) "
          f"-> {args.out}")


if __name__ == "__main__":
    main()
