"""The ingest lock (vectorstore/lock.py), in the embedded store and on a real Chroma server: a second ingest stops at
once with "another ingest is running" and changes nothing; a dead or expired holder does not block the next one."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from resolution_qa.core.settings import Settings
from resolution_qa.ingest import BUNDLED_PATH, parse_file, parse_text
from resolution_qa.vectorstore import ingest
from resolution_qa.vectorstore.index import UnitIndex
from resolution_qa.vectorstore.lock import Holder, IndexBusyError, IngestLock
from resolution_qa.vectorstore.sync import Sync
from tests.fakes import BagOfWordsEmbeddings

CHILD = Path(__file__).parent / "killable_ingest.py"
#: Above Linux's largest pid (2**22): no process has it.
NO_SUCH_PID = 2**22 + 7


def _index(settings: Settings) -> UnitIndex:
    return UnitIndex(settings.store, settings.embedding, BagOfWordsEmbeddings.small())


def _lock_record(settings: Settings, **fields: object) -> None:
    """A lock record as another ingest leaves it: alive (our parent process) unless `fields` say otherwise."""
    now = time.time()
    holder = {"token": "other", "host": socket.gethostname(), "pid": os.getppid(), "since": now, "expires": now + 120}
    index = _index(settings)
    index.client.create_collection(f"{settings.collection}-ingest-lock", embedding_function=None,
                                   metadata={**holder, **fields})


def _state(settings: Settings) -> tuple[str | None, list[str]]:
    index = _index(settings)
    return index.generation, sorted(d.symbol for d in index.documents())


@pytest.fixture
def changed() -> object:
    text = BUNDLED_PATH.read_text(encoding="utf-8")
    return parse_text(text.replace("75/158. Traite", "75/903. Traite"), name="changed")


def test_a_second_ingest_stops_at_once_and_changes_nothing(index_settings: Settings, document, changed,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    ingest(index_settings, BagOfWordsEmbeddings.small(), [document])
    before = _state(index_settings)
    _lock_record(index_settings)
    monkeypatch.setattr(Sync, "_embed", lambda *_: pytest.fail("embedded while another ingest held the lock"))
    with pytest.raises(IndexBusyError) as info:
        ingest(index_settings, BagOfWordsEmbeddings.small(), [changed])
    message = str(info.value)
    assert message.startswith("another ingest is running on the index at ") and "\n" not in message
    assert f"(process {os.getppid()} on {socket.gethostname()}, since " in message
    assert "nothing was changed" in message
    assert _state(index_settings) == before
    # Nothing to write needs no lock: an ingest (or a reader) of what is indexed goes through.
    assert ingest(index_settings, BagOfWordsEmbeddings.small(), [document]).embedded == 0


@pytest.mark.parametrize("holder", [{"pid": NO_SUCH_PID}, {"host": "another-machine", "expires": 1.0}],
                         ids=["dead-process-here", "expired-elsewhere"])
def test_a_dead_or_expired_holder_is_taken_over(index_settings: Settings, document, changed, holder) -> None:
    ingest(index_settings, BagOfWordsEmbeddings.small(), [document])
    _lock_record(index_settings, **holder)
    report = ingest(index_settings, BagOfWordsEmbeddings.small(), [changed])
    assert report.documents == ("A/RES/75/903",) and _state(index_settings)[1] == ["A/RES/75/903"]
    assert IngestLock(_index(index_settings).generations).holder() is None  # released afterwards


def test_the_lock_is_given_back_after_a_failed_ingest(index_settings: Settings, document) -> None:
    class Failing(BagOfWordsEmbeddings):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            raise RuntimeError("embedder crashed")

    with pytest.raises(RuntimeError, match="embedder crashed"):
        ingest(index_settings, Failing.small(), [document])
    assert IngestLock(_index(index_settings).generations).holder() is None
    assert ingest(index_settings, BagOfWordsEmbeddings.small(), [document]).added == 125


def test_a_holder_record_round_trips() -> None:
    holder = Holder("t", "h", 12, 1.5, 2.5)
    assert Holder.of(holder.metadata()) == holder
    assert Holder.of({"token": "t"}) is None
    assert holder.gone(now=3.0) and not Holder("t", socket.gethostname(), os.getpid(), 0, 10).gone(now=1.0)


@pytest.mark.server  # two ingest processes
def test_two_ingest_processes_one_result_and_one_clear_message(index_settings: Settings, tmp_path: Path) -> None:
    """Was: both embedded for minutes, then the loser said "Collection [uuid] does not exist" or "another ingest
    changed the index while this one ran"."""
    text = BUNDLED_PATH.read_text(encoding="utf-8")
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    first.write_text(text.replace("75/158. Traite", "75/904. Traite"), encoding="utf-8")
    second.write_text(text.replace("75/158. Traite", "75/905. Traite"), encoding="utf-8")
    ingest(index_settings, BagOfWordsEmbeddings.small(), [parse_file(BUNDLED_PATH)])

    def child(document: Path, pause: str) -> subprocess.Popen[str]:
        spec = {"settings": {"index_dir": str(index_settings.index_dir), "chroma_url": index_settings.chroma_url,
                             "collection": index_settings.collection, "embedding_batch_size": 4},
                "document": str(document), "pause": pause, "step_s": 0.0, "write_batch": 10}
        return subprocess.Popen([sys.executable, str(CHILD), json.dumps(spec)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

    holder = child(first, "embedding")  # takes the lock, then stops while embedding
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "AT embedding"
        started = time.monotonic()
        loser = child(second, "none")
        out, err = loser.communicate(timeout=120)
        assert loser.returncode != 0 and "DONE" not in out
        assert "IndexBusyError: another ingest is running" in err and f"(process {holder.pid} on " in err
        assert time.monotonic() - started < 60  # it did not wait for, or embed behind, the holder
        assert _state(index_settings)[1] == ["A/RES/75/158"]  # nothing changed by the loser
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
    # The holder died mid-ingest: its lock does not block the next ingest.
    again = child(second, "none")
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0 and "DONE" in out, err
    assert _state(index_settings)[1] == ["A/RES/75/905"]
