"""The chat app's "Add a resolution" (web/upload.py) on a real Chroma index with the fake embedder: a new resolution is
added beside the indexed ones and found again after a restart, a language version rides on its resolution, and
nothing an upload does not name can change; bad files, limits and who may upload."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from resolution_qa.core.settings import Settings
from resolution_qa.ingest import BUNDLED_PATH, Document, parse_file
from resolution_qa.vectorstore import BUNDLED_SOURCE, open_retriever
from resolution_qa.vectorstore.index import UnitIndex
from resolution_qa.web import upload
from resolution_qa.web.security import guard_middleware
from resolution_qa.web.upload import UPLOAD_ROUTE, Uploader, UploadError, uploads_allowed, uploads_folder
from tests.fakes import BagOfWordsEmbeddings
from tests.support import CORPUS, FIXTURES

NEW = CORPUS / "A_RES_75_901.en.txt"  # A/RES/75/901, English, 1.8 kB
VERSIONS = FIXTURES / "versions"  # A/RES/75/903 in French and English


@pytest.fixture
def running(settings: Settings):
    """The running app's retriever: the bundled resolution indexed as `resolution-qa chat` indexes it."""
    return open_retriever(settings, BagOfWordsEmbeddings())


@pytest.fixture
def uploader(settings: Settings, running) -> Uploader:  # noqa: ANN001
    return Uploader(settings, lambda: running)


def copy_as(tmp_path: Path, source: Path, name: str) -> Path:
    """The file as Gradio hands it over: the browser's file name, in a folder of its own."""
    folder = tmp_path / "gradio" / name.replace(".", "_")
    folder.mkdir(parents=True)
    (folder / name).write_bytes(source.read_bytes())
    return folder / name


def index_state(settings: Settings) -> tuple[str | None, tuple[str, ...]]:
    """The generation in use and the sources it records."""
    index = UnitIndex(settings.store, settings.embedding, BagOfWordsEmbeddings())
    info = index.info()
    return index.generation, info.sources if info else ()


def test_a_new_resolution_is_added_beside_the_indexed_one_and_kept_after_a_restart(
        settings: Settings, running, uploader: Uploader, document: Document, tmp_path: Path) -> None:  # noqa: ANN001
    steps: list[tuple[float, str]] = []
    indexed = running.documents[0]
    added = uploader.add(copy_as(tmp_path, NEW, "A_RES_75_901.en.txt"), "127.0.0.1", lambda f, what: steps.append((f, what)))

    assert added.document.symbol == "A/RES/75/901" and not added.version and not added.unchanged
    assert "A/RES/75/901 added" in added.message()
    new = parse_file(NEW)
    # Only the new resolution's passages were embedded; the indexed one was copied, unchanged.
    assert added.report is not None and added.report.added == len(new.units) and added.report.updated == 0
    assert added.report.removed == 0 and added.report.unchanged == len(document.units)
    # The running retriever follows at once: its documents and its searches include the new resolution.
    assert [d.symbol for d in running.documents] == ["A/RES/75/158", "A/RES/75/901"]
    assert running.documents[0] == indexed
    hits = running.search("coral reefs bleaching", docs=["A/RES/75/901"]).hits
    assert hits and all(h.unit.doc == "A/RES/75/901" for h in hits)
    # A progress bar: fractions that never go back, ending at 1.
    fractions = [f for f, _ in steps]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and any("embedding" in w for _, w in steps)
    # The file is kept in the data folder and recorded, so the app's next start indexes both.
    kept = list(uploads_folder(settings).iterdir())
    assert len(kept) == 1 and kept[0].read_bytes() == NEW.read_bytes()
    assert index_state(settings)[1] == (BUNDLED_SOURCE, str(kept[0].resolve()))
    restarted = open_retriever(settings, BagOfWordsEmbeddings())
    assert [d.symbol for d in restarted.documents] == ["A/RES/75/158", "A/RES/75/901"]


def test_the_running_assistant_answers_from_an_added_resolution(settings: Settings, running,  # noqa: ANN001
                                                                uploader: Uploader, tmp_path: Path) -> None:
    from resolution_qa.assistant import Assistant

    # Built before the upload, as the app's engine is: it must cite from the documents the index holds now.
    assistant = Assistant(settings.model_copy(update={"refusal_threshold": 0.05, "min_support": -1.0}),
                          backend="extractive", retriever=running)
    uploader.add(copy_as(tmp_path, NEW, "A_RES_75_901.en.txt"), "127.0.0.1")
    answer = assistant.ask("What does the resolution say about coral reefs bleaching?", docs=["A/RES/75/901"])
    assert not answer.refused and answer.citations
    assert {c.doc for c in answer.citations} == {"A/RES/75/901"}
    assert all(c.formal.startswith("A/RES/75/901") for c in answer.citations)


def test_a_language_version_rides_on_its_resolution(settings: Settings, running, uploader: Uploader,  # noqa: ANN001
                                                    tmp_path: Path) -> None:
    indexed = running.documents[0]
    uploader.add(copy_as(tmp_path, VERSIONS / "A_RES_75_903.fr.txt", "A_RES_75_903.fr.txt"), "127.0.0.1")
    added = uploader.add(copy_as(tmp_path, VERSIONS / "A_RES_75_903.en.txt", "A_RES_75_903.en.txt"), "127.0.0.1")

    assert added.version and added.lang == "en" and "en version was added" in added.message()
    symbols = [d.symbol for d in running.documents]
    assert symbols == ["A/RES/75/158", "A/RES/75/903"]  # one document, in two languages
    stored = running.documents[1]
    english = parse_file(VERSIONS / "A_RES_75_903.en.txt")
    assert stored.lang == "fr" and all(dict(u.versions)["en"] == english.get(u.id).text for u in stored.units
                                       if english.get(u.id) is not None)
    assert running.documents[0] == indexed
    # After a restart, the files recorded give the same document.
    restarted = open_retriever(settings, BagOfWordsEmbeddings())
    assert restarted.documents[1].units == stored.units


def test_an_indexed_resolution_is_never_replaced(settings: Settings, running, uploader: Uploader,  # noqa: ANN001
                                                 tmp_path: Path) -> None:
    before = index_state(settings)
    changed = tmp_path / "changed.txt"
    changed.write_text(BUNDLED_PATH.read_text(encoding="utf-8").replace("victimes", "personnes", 1), encoding="utf-8")
    with pytest.raises(UploadError) as refused:
        uploader.add(copy_as(tmp_path, changed, "A_RES_75_158.fr.txt"), "127.0.0.1")
    message = str(refused.value)
    assert "A/RES/75/158 is indexed already in this language (fr) with a different text" in message
    assert "\n" not in message and index_state(settings) == before
    assert not uploads_folder(settings).exists() or not any(uploads_folder(settings).iterdir())

    # The same text again changes nothing, and says so.
    same = uploader.add(copy_as(tmp_path, BUNDLED_PATH, "copie.txt"), "127.0.0.1")
    assert same.unchanged and "indexed already, with the same text" in same.message()
    assert index_state(settings) == before and [d.symbol for d in running.documents] == ["A/RES/75/158"]


def _big(path: Path) -> None:
    path.write_bytes(b"a" * (upload.MAX_UPLOAD_BYTES + 1))


BAD_FILES = [
    ("empty.txt", lambda p: p.write_bytes(b"  \n"), "empty.txt: file is empty"),
    ("notes.odt", lambda p: p.write_text("1. Prie", encoding="utf-8"), "notes.odt: not a PDF, Word (.docx) or text"),
    ("utf16.txt", lambda p: p.write_bytes("Nations Unies".encode("utf-16")), "utf16.txt: is UTF-16 text"),
    ("huge.txt", _big, "huge.txt: 5.0 MB is too large for one resolution (limit 5 MB)"),
    ("old.docx", lambda p: p.write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 600), "old.docx: is an old Word (.doc) file"),
    ("broken.docx", lambda p: p.write_bytes(b"PK\x03\x04" + b"\x01" * 300), "broken.docx: "),
    ("recipe.txt", lambda p: p.write_text("Mix the flour and the eggs.\n", encoding="utf-8"), "recipe.txt: "),
]


@pytest.mark.parametrize(("name", "write", "says"), BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_a_bad_file_gets_one_line_and_changes_nothing(settings: Settings, running, uploader: Uploader,  # noqa: ANN001
                                                      tmp_path: Path, name: str, write, says: str) -> None:  # noqa: ANN001
    before = index_state(settings)
    folder = tmp_path / "gradio"
    folder.mkdir()
    write(folder / name)
    with pytest.raises(UploadError) as refused:
        uploader.add(folder / name, "127.0.0.1")
    message = str(refused.value)
    assert message.startswith(says), message
    assert "\n" not in message and "Traceback" not in message and str(folder) not in message  # the user's name only
    assert index_state(settings) == before and [d.symbol for d in running.documents] == ["A/RES/75/158"]
    assert not uploads_folder(settings).exists()


def test_no_file_and_no_index_are_one_line(settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(UploadError, match="choose a PDF, Word"):
        Uploader(settings, lambda: None).add(None, "127.0.0.1")
    with pytest.raises(UploadError, match="no index to add to yet"):
        Uploader(settings, lambda: None).add(copy_as(tmp_path, NEW, "a.txt"), "127.0.0.1")


def test_each_address_adds_a_bounded_number_of_resolutions(monkeypatch: pytest.MonkeyPatch, uploader: Uploader,
                                                           tmp_path: Path) -> None:
    monkeypatch.setattr(upload, "UPLOADS_PER_CLIENT", 1)
    uploader.add(copy_as(tmp_path, NEW, "A_RES_75_901.en.txt"), "10.0.0.1")
    with pytest.raises(UploadError, match="you added 1 resolutions already"):
        uploader.add(copy_as(tmp_path, CORPUS / "A_RES_75_902.fr.txt", "A_RES_75_902.fr.txt"), "10.0.0.1")
    monkeypatch.setattr(upload, "UPLOADS_PER_APP", 1)
    with pytest.raises(UploadError, match="1 resolutions were added already"):
        uploader.add(copy_as(tmp_path, CORPUS / "A_RES_75_902.fr.txt", "x.txt"), "10.0.0.2")


def test_files_a_minute_are_bounded_bad_ones_included(settings: Settings, uploader: Uploader, tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"")
    for _ in range(upload.UPLOAD_ATTEMPTS_PER_MINUTE):
        with pytest.raises(UploadError, match="file is empty"):
            uploader.add(bad, "10.0.0.3")
    with pytest.raises(UploadError, match="too many files"):
        uploader.add(bad, "10.0.0.3")


@pytest.mark.parametrize(("web", "share", "allowed"), [
    ({}, False, True),  # loopback, no login
    ({}, True, False),  # a public share link without a login (allowed by the settings): off
    ({"host": "0.0.0.0", "auth_user": "u", "auth_password": "p"}, False, True),
    ({"host": "0.0.0.0", "auth_user": "u", "auth_password": "p"}, True, True),
    ({"host": "0.0.0.0", "allow_public_without_auth": True}, False, False),
    ({"auth_user": "u"}, False, False),  # a half-set login: the app refuses to start anyway
])
def test_uploads_need_a_login_or_loopback(web: dict, share: bool, allowed: bool) -> None:
    settings = Settings(_env_file=None, allow_public_without_auth=share or web.get("allow_public_without_auth", False),
                        **{k: v for k, v in web.items() if k != "allow_public_without_auth"})
    assert uploads_allowed(settings.web, share=share) is allowed
    assert Uploader(settings, lambda: None, share=share).refusal("x") is None if allowed else \
        "adding resolutions is off" in (Uploader(settings, lambda: None, share=share).refusal("x") or "")


def test_the_upload_route_alone_takes_a_file_past_the_request_cap(settings: Settings) -> None:
    async def echo(request: Request) -> PlainTextResponse:
        return PlainTextResponse(str(len(await request.body())))

    cap = settings.web.max_request_bytes
    routes = {UPLOAD_ROUTE: upload.MAX_UPLOAD_BYTES + cap}
    app = Starlette(routes=[Route(UPLOAD_ROUTE, echo, methods=["POST"]), Route("/other", echo, methods=["POST"])],
                    middleware=guard_middleware(settings.web, routes))
    pdf = b"%PDF-1.7 " + b"x" * 150_000  # a resolution's PDF is 100 kB or more
    with TestClient(app, base_url="http://127.0.0.1") as client:
        assert client.post(UPLOAD_ROUTE, content=pdf).text == str(len(pdf))
        other = client.post("/other", content=pdf)
        assert other.status_code == 413 and "ask a shorter question" in other.json()["error"]
        over = client.post(UPLOAD_ROUTE, content=b"x" * (upload.MAX_UPLOAD_BYTES + cap + 1))
        assert over.status_code == 413 and "give a smaller file" in over.json()["error"]


def test_the_control_is_on_the_page_only_when_uploads_are_allowed(settings: Settings, running) -> None:  # noqa: ANN001
    import json

    from resolution_qa.assistant import Assistant
    from resolution_qa.web.app import build_app
    from resolution_qa.web.service import ChatService

    def page(s: Settings):  # noqa: ANN202
        service = ChatService(s, lambda s: Assistant(s, backend="extractive", retriever=running))
        service.start()
        return build_app(service, running.documents, s)

    loopback = page(settings)
    assert getattr(loopback, "rqa_uploader", None) is not None
    config = json.dumps(loopback.get_config_file(), default=str)
    assert '"add-resolution"' in config and '"scope"' in config  # the menu exists, hidden with one resolution
    public = page(settings.model_copy(update={"host": "0.0.0.0", "allow_public_without_auth": True}))
    assert getattr(public, "rqa_uploader", None) is None and '"add-resolution"' not in json.dumps(public.get_config_file(), default=str)
