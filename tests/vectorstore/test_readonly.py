"""Issue 20, case 11: an index on a read-only mount is read (from a private temporary copy, since Chroma writes to any
folder it opens), and anything that would change it says "read-only" in one line, never "the folder looks damaged:
run `resolution-qa ingest --rebuild`" (which was the answer to every read, and which would have moved it aside).

The real case mounts the index folder read-only in a private mount namespace (`unshare --mount`, with
`--map-root-user` when not root), so nothing outside the test's process sees the mount.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from resolution_qa.core.settings import Settings
from resolution_qa.ingest import BUNDLED_PATH
from resolution_qa.vectorstore import client as client_module
from tests.support import clean_env, cli_command

Run = Callable[..., tuple[int, str, str]]
READ_ONLY = "is on a read-only file system: it can be searched but not changed"


def _read_only_prefix() -> list[str] | None:
    """The argv prefix that runs a command with `folder` ($1 of the script) mounted read-only, or None."""
    if shutil.which("unshare") is None:
        return None
    prefix = ["unshare", "--mount", *([] if os.geteuid() == 0 else ["--map-root-user"])]
    probe = subprocess.run([*prefix, "true"], capture_output=True, timeout=30)
    return prefix if probe.returncode == 0 else None


def _run_read_only(folder: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    prefix = _read_only_prefix()
    if prefix is None:
        pytest.skip("no `unshare --mount` here to mount a folder read-only")
    script = 'mount --bind "$0" "$0" && mount -o remount,ro,bind "$0" && exec "$@"'
    return subprocess.run([*prefix, "sh", "-c", script, str(folder), *cli_command(*args, fake_embedder=True)],
                          capture_output=True, text=True, timeout=600, env=env)


@pytest.mark.server
def test_a_read_only_index_is_searched_and_refuses_changes_in_one_line(run_index: Path, tmp_path: Path) -> None:
    env = clean_env(RESOLUTION_QA_INDEX_DIR=str(run_index), TMPDIR=str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    before = sorted((p.relative_to(run_index), p.stat().st_size) for p in run_index.rglob("*"))

    search = _run_read_only(run_index, "search", "paragraphe 27", "--format", "json", env=env)
    assert search.returncode == 0, search.stderr
    assert "OP27" in search.stdout and "damaged" not in search.stderr
    documents = _run_read_only(run_index, "documents", env=env)
    assert documents.returncode == 0 and documents.stdout.startswith("A/RES/75/158"), documents.stderr
    ask = _run_read_only(run_index, "ask", "--backend", "extractive", "Que dit le paragraphe 27 ?", env=env)
    assert ask.returncode == 0 and "par. 27" in ask.stdout, ask.stderr

    other = tmp_path / "other.txt"
    other.write_text(BUNDLED_PATH.read_text(encoding="utf-8").replace("75/158. Traite", "75/906. Traite"),
                     encoding="utf-8")
    for args in (("ingest", str(other)), ("ingest", "--rebuild")):
        result = _run_read_only(run_index, *args, env=env)
        lines = [line for line in result.stderr.strip().splitlines() if not line.startswith("warning: ")]
        assert result.returncode == 2 and len(lines) == 1 and READ_ONLY in lines[0], result.stderr
        assert "damaged" not in result.stderr and "Traceback" not in result.stderr
    assert sorted((p.relative_to(run_index), p.stat().st_size) for p in run_index.rglob("*")) == before
    assert list((tmp_path / "tmp").iterdir()) == []  # the temporary copies are removed at exit


@pytest.fixture
def run_index(cli_main: Run, model_loads: list) -> Path:
    code, _, err = cli_main("ingest", str(BUNDLED_PATH))
    assert code == 0, err
    return Settings().index_dir


def test_reads_come_from_a_copy_and_writes_are_refused(run_index: Path, cli_main: Run,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The same logic without a mount (fast lane): the folder is taken for read-only."""
    monkeypatch.setattr(client_module, "is_read_only", lambda path: Path(path) == run_index)
    monkeypatch.setattr(client_module, "_COPIES", {})
    code, out, err = cli_main("search", "paragraphe 27", "--format", "json")
    assert code == 0 and "OP27" in out, err
    assert client_module._COPIES[str(run_index)].is_dir()  # searched in the copy
    code, _, err = cli_main("ingest", "--rebuild")
    assert code == 2 and READ_ONLY in err and "damaged" not in err


def test_a_read_only_error_from_chroma_is_not_called_damage(tmp_path: Path) -> None:
    """What Chroma raised on the read-only mount (SQLite's code 8) names the cause, not damage."""
    settings = Settings(index_dir=tmp_path)

    class RustError(Exception):
        __module__ = "chromadb_rust_bindings"

    with pytest.raises(Exception) as caught, client_module.store_errors(settings.store, "reading the index"):
        raise RustError("error returned from database: (code: 8) attempt to write a readonly database")
    assert READ_ONLY in str(caught.value) and "damaged" not in str(caught.value)
