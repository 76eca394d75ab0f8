"""Server mode: RESOLUTION_QA_CHROMA_URL switches to a real `chroma run` and nothing else changes; a server that
is not there, or dies mid-session, is one clear error after bounded retries."""

from __future__ import annotations

import time

import httpx
import pytest

from resolution_qa.core.errors import IndexUnavailableError
from resolution_qa.core.settings import Settings
from resolution_qa.vectorstore import client as client_module
from resolution_qa.vectorstore import ingest, make_client, open_retriever
from tests.fakes import BagOfWordsEmbeddings
from tests.support import ChromaServer, free_port

QUESTIONS = ["par. 27", "la traite des femmes et des filles", "victims of trafficking", "note 17"]


@pytest.mark.server
def test_the_server_answers_exactly_like_the_embedded_store(tmp_path, chroma_server, document) -> None:
    embedded = Settings(index_dir=tmp_path / "index")
    server = Settings(index_dir=tmp_path / "unused", chroma_url=chroma_server, collection="same_as_embedded")
    answers = []
    for settings in (embedded, server):
        retriever = open_retriever(settings, BagOfWordsEmbeddings.small(), documents=[document])
        answers.append([[(h.unit.key, round(h.score, 5), h.via) for h in retriever.search(q).hits] for q in QUESTIONS])
    assert answers[0] == answers[1]
    assert not (tmp_path / "unused").exists()  # in server mode nothing is written locally


@pytest.mark.server
def test_telemetry_is_off_in_both_modes(tmp_path, chroma_server) -> None:
    for settings in (Settings(index_dir=tmp_path / "i"), Settings(chroma_url=chroma_server)):
        assert make_client(settings.store).get_settings().anonymized_telemetry is False


@pytest.mark.server
def test_an_unreachable_server_is_one_clear_error_after_bounded_retries(monkeypatch) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    tries: list[str] = []
    real_get = httpx.get

    def counting_get(address, **kwargs):
        tries.append(address)
        return real_get(address, **kwargs)

    monkeypatch.setattr(httpx, "get", counting_get)
    started = time.monotonic()
    with pytest.raises(IndexUnavailableError) as error:
        ingest(Settings(chroma_url=url), BagOfWordsEmbeddings.small())
    elapsed = time.monotonic() - started
    message = str(error.value)
    assert len(tries) == client_module.CONNECT_TRIES == 3 and all(t.startswith(url) for t in tries)
    assert sum(client_module.CONNECT_BACKOFF_S) <= elapsed < 10  # it waited between tries, and not for long
    assert "\n" not in message and url in message and "unreachable" in message
    assert "chroma run" in message and "unset RESOLUTION_QA_CHROMA_URL" in message


@pytest.mark.parametrize("url", ["127.0.0.1:8000", "ftp://127.0.0.1:8000", "http://127.0.0.1:99999"])
def test_a_bad_server_url_is_a_clear_error(url) -> None:
    with pytest.raises(IndexUnavailableError, match="RESOLUTION_QA_CHROMA_URL=.*use e.g. http://127.0.0.1:8000"):
        make_client(Settings(chroma_url=url).store)


@pytest.mark.server
def test_a_server_dying_mid_session_is_a_clear_error_not_a_traceback(tmp_path, document) -> None:
    server = ChromaServer(tmp_path / "data", tmp_path / "server.log").start()
    try:
        settings = Settings(chroma_url=server.url)
        fake = BagOfWordsEmbeddings.small()
        retriever = open_retriever(settings, fake, documents=[document])
        assert retriever.search("par. 27").hits[0].unit.id == "OP27"
    finally:
        server.stop()
    for attempt in (lambda: retriever.search("la traite"), lambda: ingest(settings, fake, [document])):
        with pytest.raises(IndexUnavailableError) as error:
            attempt()
        message = str(error.value)
        assert "\n" not in message and server.url in message and "chroma run" in message


@pytest.mark.server
def test_cli_with_an_unreachable_server_prints_one_line(monkeypatch, cli_main, model_loads) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("RESOLUTION_QA_CHROMA_URL", url)
    for args in (["search", "par. 27"], ["ingest"]):
        code, out, err = cli_main(*args)
        assert code == 2 and out == ""
        [line] = err.strip().splitlines()
        assert line.startswith("error: the Chroma server at " + url) and "chroma run" in line


@pytest.mark.server  # two server starts: about 10 s on a loaded 2-core machine
def test_server_data_survives_a_server_restart(tmp_path, document) -> None:
    data = tmp_path / "data"
    server = ChromaServer(data, tmp_path / "server.log").start()
    try:
        settings = Settings(chroma_url=server.url)
        assert ingest(settings, BagOfWordsEmbeddings.small(), [document]).embedded > 0
    finally:
        server.stop()
    again = ChromaServer(data, tmp_path / "server.log")
    again.port, again.url = server.port, server.url  # same address: the setting does not change
    again.start()
    try:
        assert ingest(settings, BagOfWordsEmbeddings.small(), [document]).embedded == 0
    finally:
        again.stop()

