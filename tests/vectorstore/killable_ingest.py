"""Child process for the data-safety tests: the real `vectorstore.ingest` with the tests' fake embedder, which
prints a line at a chosen point of the ingest and then waits there, so the test can SIGKILL it at that point.

Usage: python killable_ingest.py SPEC_JSON, with SPEC = {"settings": {...}, "document": PATH, "pause": POINT,
"step_s": seconds slept per embedded/written batch, "write_batch": records per Chroma write}.
POINT is one of: embedding (after the first embedded batch), writing (after the first batch written into the
new generation), flip (just before the pointer flips), flipped (just after it, before old generations are
removed), none (run to the end). The line printed is `AT <POINT>`; at the end `DONE <report json>`.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root: `tests` is importable

from resolution_qa.core.settings import Settings  # noqa: E402
from resolution_qa.ingest import parse_file  # noqa: E402
from resolution_qa.vectorstore import ingest  # noqa: E402
from resolution_qa.vectorstore.generations import Generations  # noqa: E402
from resolution_qa.vectorstore.sync import GenerationWriter  # noqa: E402
from tests.fakes import BagOfWordsEmbeddings  # noqa: E402

PAUSE_S = 600.0  # far longer than any test waits: the test kills the process first


def main() -> None:
    spec = json.loads(sys.argv[1])
    pause, step = spec["pause"], float(spec.get("step_s", 0.0))

    def at(point: str) -> None:
        print(f"AT {point}", flush=True)
        time.sleep(PAUSE_S)

    class SlowEmbeddings(BagOfWordsEmbeddings):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            time.sleep(step)
            vectors = super().embed_documents(texts)
            if pause == "embedding" and len(self.document_calls) == 2:
                at("embedding")
            return vectors

    write_batch, flip, remove_old = GenerationWriter._write_batch, Generations.flip, Generations.remove_old

    def slow_write(self, collection, *args, **kwargs):
        write_batch(self, collection, *args, **kwargs)
        time.sleep(step)
        if pause == "writing":
            at("writing")

    def paused_flip(self, *args, **kwargs):
        if pause == "flip":
            at("flip")
        return flip(self, *args, **kwargs)

    def paused_remove_old(self, *args, **kwargs):
        if pause == "flipped":
            at("flipped")
        return remove_old(self, *args, **kwargs)

    GenerationWriter._write_batch, Generations.flip, Generations.remove_old = slow_write, paused_flip, paused_remove_old
    GenerationWriter.write_batch = int(spec.get("write_batch", GenerationWriter.write_batch))
    settings = Settings(_env_file=None, **spec["settings"])
    report = ingest(settings, SlowEmbeddings.small(), [parse_file(Path(spec["document"]))])
    print(f"DONE {report.model_dump_json()}", flush=True)


if __name__ == "__main__":
    main()
