"""core/files.py (issue 20, case 5): a write of a user file that fails never damages what the file held.

A failing write is simulated by a short os.write followed by ENOSPC (what a nearly full disk does); the rating case
goes through the chat app's store (web/feedback.py), which appends with `append_line`.
"""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from resolution_qa.assistant.types import Answer
from resolution_qa.core.files import WriteError, append_line, check_target, read_lines, write_atomic
from resolution_qa.web.feedback import FeedbackError, FeedbackStore, make_record


def _full_disk_after(monkeypatch: pytest.MonkeyPatch, allowed: int) -> None:
    """os.write writes `allowed` bytes in all, then fails with ENOSPC."""
    real_write, left = os.write, [allowed]

    def write(fd: int, data: bytes) -> int:
        if left[0] <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        n = real_write(fd, bytes(memoryview(data)[: left[0]]))
        left[0] -= n
        return n

    monkeypatch.setattr(os, "write", write)


def test_an_append_that_fails_part_way_leaves_no_torn_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "log.jsonl"
    append_line(path, json.dumps({"n": 1}))
    before = path.read_bytes()
    _full_disk_after(monkeypatch, 7)
    with pytest.raises(WriteError, match="No space left on device; nothing of this line was kept"):
        append_line(path, json.dumps({"n": 2, "text": "x" * 500}))
    monkeypatch.undo()
    assert path.read_bytes() == before  # the 7 bytes written were taken back
    append_line(path, json.dumps({"n": 3}))
    assert [json.loads(line) for line in path.read_text().splitlines()] == [{"n": 1}, {"n": 3}]


def test_a_torn_last_line_gets_its_newline_before_the_next_one(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    path.write_text('{"n": 1}\n{"n": 2, "te', encoding="utf-8")  # left by an older program
    append_line(path, '{"n": 3}')
    lines, torn = read_lines(path.read_text(encoding="utf-8"))
    assert lines == ['{"n": 1}', '{"n": 2, "te', '{"n": 3}'] and not torn


def test_a_rating_saved_on_a_full_disk_leaves_the_file_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 document) -> None:  # noqa: ANN001
    """Was: the record's first bytes stayed as a torn line, the next rating was appended onto it, and every later
    export refused the file."""
    store = FeedbackStore(tmp_path / "feedback.jsonl")
    answer = Answer(question="Que dit le par. 27 ?", text="Le par. 27 en parle.", language="fr", backend="extractive")
    store.save(make_record(answer, [], "up", settings={}))
    before = store.path.read_bytes()
    _full_disk_after(monkeypatch, 100)
    with pytest.raises(FeedbackError, match="cannot save feedback: .*No space left on device"):
        store.save(make_record(answer, [], "down", settings={}, comment="x" * 1500))
    monkeypatch.undo()
    assert store.path.read_bytes() == before
    store.save(make_record(answer, [], "down", settings={}))
    records, problems = store.scan()
    assert [r.rating for r in records] == ["up", "down"] and problems == []


def test_an_atomic_write_that_fails_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "report.json"
    write_atomic(path, "old\n")
    path.chmod(0o640)
    _full_disk_after(monkeypatch, 3)
    with pytest.raises(WriteError, match="No space left on device; it is as it was before"):
        write_atomic(path, "new content\n" * 100)
    monkeypatch.undo()
    assert path.read_text() == "old\n" and sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]
    write_atomic(path, "new\n")
    assert path.read_text() == "new\n" and path.stat().st_mode & 0o777 == 0o640  # its permissions are kept


def test_targets_that_are_not_regular_files_are_refused(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    (tmp_path / "link").symlink_to(tmp_path / "file")
    for target, expected in ((tmp_path, "is a folder"), (tmp_path / "file" / "out", "which is a file, not a folder"),
                             (Path("/dev/null"), "not a regular file"), (tmp_path / "link", "symbolic link")):
        with pytest.raises(WriteError, match=expected):
            check_target(target)
    check_target(tmp_path / "new" / "out.json")  # a file that does not exist yet, in a folder to be made
