"""Issue 20, cases 4, 5 and 12: `feedback export` on a hostile or damaged feedback file, and to a hostile --out.

Each bad line or record is skipped with one warning naming it and counted; the good records are still exported, and
the export is a question set `eval` loads. An --out that is a folder, under a file, a device, the ratings file itself
or a symbolic link is refused in one line before anything is written; a write that fails leaves the old file.
"""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from resolution_qa.assistant.types import Answer
from resolution_qa.eval.dataset import load_dataset
from resolution_qa.ingest import Document
from resolution_qa.web.feedback import FeedbackStore, make_record
from tests.fakes import cite_unit

Run = Callable[..., tuple[int, str, str]]
SNAPSHOT = {"backend": "extractive", "k": 5}


def _answer(document: Document, question: str, text: str, *ids: str, lang: str = "fr") -> Answer:
    cited = tuple(cite_unit(document, uid, lang) for uid in ids)  # type: ignore[arg-type]
    return Answer(question=question, text=text, language=lang, backend="extractive", citations=cited)


def _good(document: Document, store: FeedbackStore) -> list[str]:
    """Two good ratings in the store; their ids."""
    first = make_record(_answer(document, "Que dit le paragraphe 27 ?", "Selon le par. 27, les victimes ne doivent "
                                "pas être poursuivies.", "OP27"), [], "up", settings=SNAPSHOT)
    second = make_record(_answer(document, "What does paragraph 10 say?", "Paragraph 10 proclaims the World Day "
                                 "against Trafficking in Persons.", "OP10", lang="en"), [], "up", settings=SNAPSHOT)
    store.save(first)
    store.save(second)
    return [first.id, second.id]


def _variant(document: Document, change: Callable[[dict], None]) -> str:
    record = make_record(_answer(document, "Que dit le par. 5 ?", "Le par. 5 en parle.", "OP5"), [], "up",
                         settings=SNAPSHOT).model_dump(mode="json")
    change(record)
    return json.dumps(record, ensure_ascii=False)


def _set(path: str, value: object) -> Callable[[dict], None]:
    def change(record: dict) -> None:
        *parents, last = path.split(".")
        target = record
        for key in parents:
            target = target[key][0] if key == "citations" else target[key]
        target[last] = value

    return change


def _hostile_lines(document: Document) -> dict[str, str]:
    return {
        "nested 100,000 deep": "[" * 100_000 + "]" * 100_000,
        "a 5,000-digit number": '{"id": "fb-digits", "n": ' + "7" * 5000 + "}",
        "answer {}": _variant(document, _set("answer", {})),
        "citations a string": _variant(document, _set("answer.citations", "OP5")),
        "language de": _variant(document, _set("answer.language", "de")),
        "blank question": _variant(document, _set("question", "   ")),
        "id ../../etc/passwd": _variant(document, _set("answer.citations.id", "../../etc/passwd")),
        "OP999": _variant(document, _set("answer.citations.id", "OP999")),
        "not JSON": "{not json",
        "a JSON list": "[1, 2]",
    }


def test_every_bad_record_is_skipped_with_one_warning_and_the_rest_is_exported(document: Document, tmp_path: Path,
                                                                               cli_main: Run) -> None:
    """Was: a RecursionError, a ValueError or a ValidationError traceback, and no export at all for one bad record
    (OP999 was exported, then refused by `eval`)."""
    store = FeedbackStore(tmp_path / "feedback.jsonl")
    good = _good(document, store)
    hostile = _hostile_lines(document)
    with store.path.open("a", encoding="utf-8") as out:
        out.write("".join(line + "\n" for line in hostile.values()))
    later = make_record(_answer(document, "Que dit le par. 28 ?", "Le par. 28 renforce la coopération.", "OP28"), [],
                        "up", settings=SNAPSHOT)
    store.save(later)

    out = tmp_path / "items.jsonl"
    code, stdout, stderr = cli_main("feedback", "export", "--from", str(store.path), "--out", str(out))
    assert code == 0, stderr
    assert "Traceback" not in stderr + stdout
    warnings = [line for line in stderr.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == len(hostile), stderr  # one line per bad record, none for the good ones
    assert f"{len(hostile)} bad line(s) or record(s) skipped" in stderr
    assert "3 item(s)" in stderr
    assert any("nested too deep" in w for w in warnings) and any("OP999" in w and "does not have" in w
                                                                for w in warnings)
    items = load_dataset(out, document=document).items  # `eval` accepts what was exported
    assert [i.id for i in items] == [*good, later.id]


def test_a_torn_last_line_is_skipped_and_the_next_rating_is_kept(document: Document, tmp_path: Path,
                                                                 cli_main: Run) -> None:
    """Case 5, the reader's side: a line torn by a failed write (older versions), with the next rating appended
    onto it, costs only the torn record; a torn last line is skipped, not a refusal of the whole file."""
    store = FeedbackStore(tmp_path / "feedback.jsonl")
    good = _good(document, store)
    whole = store.path.read_text(encoding="utf-8")
    torn = _variant(document, lambda r: None)[:150]
    store.path.write_text(whole + torn, encoding="utf-8")  # what the old append left on a full disk
    later = make_record(_answer(document, "Que dit le par. 28 ?", "Le par. 28 renforce la coopération.", "OP28"), [],
                        "up", settings=SNAPSHOT)
    glued = whole + torn + json.dumps(later.model_dump(mode="json"), ensure_ascii=False) + "\n"
    store.path.write_text(glued + torn, encoding="utf-8")  # ... the next rating glued onto it, and a torn last line
    records, problems = store.scan()
    assert [r.id for r in records] == [*good, later.id]
    assert len(problems) == 2 and "torn record before column 151" in problems[0] and "cut short" in problems[1]
    code, stdout, stderr = cli_main("feedback", "export", "--from", str(store.path))
    assert code == 0 and len(stdout.splitlines()) == 3, stderr


@pytest.mark.parametrize("kind", ["folder", "under-a-file", "dev-full", "the-ratings", "symlink", "symlink-to-ratings"])
def test_a_hostile_out_is_refused_in_one_line_and_nothing_is_overwritten(kind: str, document: Document,
                                                                         tmp_path: Path, cli_main: Run) -> None:
    """Was: tracebacks (folder, under a file, /dev/full); exit 0 replacing the ratings with items (--out the same
    file as --from); the symbolic link's target overwritten in silence."""
    store = FeedbackStore(tmp_path / "feedback.jsonl")
    _good(document, store)
    ratings = store.path.read_bytes()
    precious = tmp_path / "precious.txt"
    precious.write_text("keep me\n", encoding="utf-8")
    targets = {
        "folder": tmp_path,
        "under-a-file": precious / "items.jsonl",
        "dev-full": Path("/dev/full"),
        "the-ratings": store.path,
        "symlink": tmp_path / "link.jsonl",
        "symlink-to-ratings": tmp_path / "link-to-ratings.jsonl",
    }
    (tmp_path / "link.jsonl").symlink_to(precious)
    (tmp_path / "link-to-ratings.jsonl").symlink_to(store.path)
    code, stdout, stderr = cli_main("feedback", "export", "--from", str(store.path), "--out", str(targets[kind]))
    assert code == 2, (stdout, stderr)
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --out ") and "nothing was written" in lines[0], stderr
    assert store.path.read_bytes() == ratings and precious.read_text(encoding="utf-8") == "keep me\n"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no temporary file left


def test_a_write_that_fails_leaves_the_previous_export(document: Document, tmp_path: Path, cli_main: Run,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A full disk in the middle of writing --out: one line, and the file holds the previous export, whole."""
    store = FeedbackStore(tmp_path / "feedback.jsonl")
    _good(document, store)
    out = tmp_path / "items.jsonl"
    assert cli_main("feedback", "export", "--from", str(store.path), "--out", str(out))[0] == 0
    before = out.read_bytes()
    store.save(make_record(_answer(document, "Que dit le par. 28 ?", "Le par. 28 en parle.", "OP28"), [], "up",
                           settings=SNAPSHOT))
    real_write = os.write

    def half_then_full(fd: int, data: bytes) -> int:
        if len(data) > 40:
            return real_write(fd, bytes(data[:40]))  # a short write, then ENOSPC
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "write", half_then_full)
    code, _, stderr = cli_main("feedback", "export", "--from", str(store.path), "--out", str(out))
    monkeypatch.undo()
    assert code == 2 and "No space left on device" in stderr and "Traceback" not in stderr
    assert out.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_file_with_no_readable_record_is_an_error(tmp_path: Path, cli_main: Run) -> None:
    broken = tmp_path / "broken.jsonl"
    broken.write_text("[" * 5000 + "\n" + '{"id": "x"}\n', encoding="utf-8")
    code, _, stderr = cli_main("feedback", "export", "--from", str(broken))
    assert code == 2 and "Traceback" not in stderr
    assert stderr.strip().splitlines()[-1].startswith(f"error: {broken}: no feedback record could be read")
