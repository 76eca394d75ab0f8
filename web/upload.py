"""Adding a resolution from the chat app: who may, which file, and its ingest into the running index, with progress.

The rules are the command line's (the same readers, the same one-line errors), plus the web's own:

- the control exists only when the app has a login, or listens on loopback without a public share link;
- a file of at most MAX_UPLOAD_BYTES (core/inputs.py's limit), named .pdf, .docx or .txt; at most UPLOADS_PER_CLIENT
  resolutions added per client address and UPLOADS_PER_APP in all while the app runs, and UPLOAD_ATTEMPTS_PER_MINUTE
  tries per address (reading a PDF costs seconds of CPU);
- an upload adds to what is indexed and names what it touches: a new symbol is a new document, a new language of an
  indexed symbol becomes that resolution's language version, the same language of an indexed symbol is refused
  unless it is the same text. The indexed documents are taken from the index itself (not re-read from their files),
  so nothing the upload does not name can change; the file is kept in the data folder and added to the sources the
  index records, so the app finds it again when it restarts.
"""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from resolution_qa.core.errors import ResolutionQAError, one_line
from resolution_qa.core.inputs import RESOLUTION
from resolution_qa.core.settings import Settings, WebSettings
from resolution_qa.ingest import Document, Lang, parse_file
from resolution_qa.ingest.sources import same_file_key

from .security import LOOPBACK, AppConfigError, ClientRateLimiter, login_of

if TYPE_CHECKING:  # the vector store (chromadb) loads with the engine, not with the page
    from resolution_qa.vectorstore.index import UnitIndex
    from resolution_qa.vectorstore.sync import SyncReport

log = logging.getLogger(__name__)

#: The largest file accepted: the command line's limit for one resolution (5 MB).
MAX_UPLOAD_BYTES = RESOLUTION.limit
#: Resolutions one client address may add while the app runs, and all clients together.
UPLOADS_PER_CLIENT = 5
UPLOADS_PER_APP = 20
#: Files one client address may send in any minute, refused ones included.
UPLOAD_ATTEMPTS_PER_MINUTE = 6
#: The formats the readers take, by file name (the readers then go by the first bytes).
SUFFIXES = (".pdf", ".docx", ".txt")
#: Gradio's upload route (gradio.routes: API_PREFIX + "/upload"): the one route whose body may be a file.
UPLOAD_ROUTE = "/gradio_api/upload"

#: progress(fraction done, what is being done)
Report = Callable[[float, str], None]


class UploadError(ResolutionQAError):
    """An upload is refused: one line saying why and what to do; nothing was changed."""


def uploads_allowed(web: WebSettings, *, share: bool = False) -> bool:
    """True when the app has a login, or listens on loopback without a public share link."""
    try:
        login = login_of(web, share=share)
    except AppConfigError:
        return False
    return login is not None or (web.host in LOOPBACK and not share)


# --- the file ----------------------------------------------------------------------------------------------------


def read_upload(path: Path, name: str) -> Document:
    """The resolution in an uploaded file, the command line's reader's one-line errors naming the file as the user
    knows it (`name`), never the server's copy."""
    if not name.lower().endswith(SUFFIXES):
        raise UploadError(f"{name}: not a PDF, Word (.docx) or text (.txt) file; give the resolution in one of them")
    try:
        return parse_file(path)
    except ResolutionQAError as exc:
        raise UploadError(one_line(exc, limit=300).replace(str(path), name)) from None
    except Exception as exc:  # a reader's bug on a strange file: one line here, the traceback in the server log
        log.exception("reading an uploaded file failed")
        raise UploadError(f"{name}: could not be read ({type(exc).__name__}); see the server log") from None


def _texts(document: Document, lang: Lang) -> dict[str, str] | None:
    """Each unit's official text in `lang`, or None when the document does not hold that language."""
    if document.lang == lang:
        return {u.id: u.text for u in document.units}
    if not any(version == lang for u in document.units for version, _ in u.versions):
        return None
    return {u.id: dict(u.versions).get(lang, "") for u in document.units}


def _with_version(document: Document, version: Document) -> Document:
    """`document` with `version`'s texts added as its official text in another language (versions kept)."""
    units = []
    for unit in document.units:
        found = version.get(unit.id)
        units.append(unit.model_copy(update={"versions": (*unit.versions, (version.lang, found.text))}) if found else unit)
    return document.model_copy(update={"units": tuple(units)})


def plan_addition(indexed: Sequence[Document], new: Document) -> list[Document] | None:
    """The documents the index holds once `new` is added, every indexed one kept; None when `new` is indexed
    already, word for word. UploadError when it would replace a different text of the same symbol and language."""
    same = next((d for d in indexed if d.symbol == new.symbol), None)
    if same is None:
        return [*indexed, new]
    held = _texts(same, new.lang)
    if held is None:  # a new language version of an indexed resolution
        return [_with_version(d, new) if d is same else d for d in indexed]
    if held == {u.id: u.text for u in new.units}:
        return None
    raise UploadError(
        f"{new.symbol} is indexed already in this language ({new.lang}) with a different text; an upload never "
        "replaces an indexed resolution: run `resolution-qa ingest` with the files you want indexed"
    )


def keep_file(path: Path, name: str, folder: Path) -> tuple[Path, bool]:
    """A copy of the upload in `folder` (named by its content), and whether it was made now."""
    data = path.read_bytes()
    stem = re.sub(r"[^\w.-]+", "_", Path(name).stem)[:60] or "resolution"
    kept = folder / f"{hashlib.sha256(data).hexdigest()[:16]}-{stem}{Path(name).suffix.lower()}"
    if kept.is_file():
        return kept, False
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, kept)
    return kept, True


def uploads_folder(settings: Settings) -> Path:
    """Where uploaded files are kept: `uploads/` in the data folder, beside the index (never served)."""
    return settings.index_dir.expanduser().parent / "uploads"


# --- the ingest ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Added:
    """What an upload did: the resolution (as indexed), whether it was a new language version, or nothing to do."""

    document: Document
    lang: Lang
    version: bool = False
    unchanged: bool = False
    report: SyncReport | None = None
    restart_note: bool = False  # settings name the indexed files: the next start indexes those only

    def message(self) -> str:
        symbol, n = self.document.symbol, len(self.document.units)
        if self.unchanged:
            text = f"{symbol} ({self.lang}) is indexed already, with the same text; nothing changed · déjà indexée"
        elif self.version:
            text = f"{symbol}: its {self.lang} version was added ({n} units) · version ajoutée"
        else:
            text = f"{symbol} added ({n} units); choose it in the Resolution menu · ajoutée, voir le menu Résolution"
        if self.restart_note:
            text += "; RESOLUTION_QA_DOCUMENTS names the indexed files: add the file there to keep it after a restart"
        return text


def add_to_index(index: UnitIndex, new: Document, source: Path, progress: Report, *, restart_note: bool = False
                 ) -> Added:
    """Add `new` (read from the kept file `source`) to the documents `index` holds, as one new generation."""
    progress(0.3, "checking the index")
    indexed, info = index.documents(), index.info()
    documents = plan_addition(indexed, new)
    if documents is None:
        return Added(next(d for d in indexed if d.symbol == new.symbol), new.lang, unchanged=True)
    key = same_file_key(source)
    # The index records the files it was built from, for the app's next start; an index built from documents
    # given in code records none, and then keeps recording none.
    recorded = list(info.sources) if info is not None else []
    sources = (recorded if key in recorded else [*recorded, key]) if recorded else None

    def embedded(done: int, total: int) -> None:
        progress(0.35 + 0.6 * done / max(total, 1), f"embedding {done}/{total} passages")

    report = index.sync(documents, sources=sources, progress=embedded)
    progress(1.0, "done")
    version = any(d.symbol == new.symbol for d in indexed)
    stored = next(d for d in documents if d.symbol == new.symbol)
    return Added(stored, new.lang, version=version, report=report, restart_note=restart_note)


class Uploader:
    """The app's "Add a resolution": limits, one upload at a time, the file kept, the running index extended.

    `retriever_of()` gives the running engine's retriever (its `index` and `embeddings`; a FollowingRetriever's
    `follow()` moves it to the generation just written), or None when the engine has none.
    """

    def __init__(self, settings: Settings, retriever_of: Callable[[], Any], *, share: bool = False) -> None:
        self.settings = settings
        self.retriever_of = retriever_of
        self.share = share
        self.added: dict[str, int] = {}  # resolutions added, by client address
        self.attempts = ClientRateLimiter(UPLOAD_ATTEMPTS_PER_MINUTE)
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return uploads_allowed(self.settings.web, share=self.share)

    def refusal(self, client: str) -> str | None:
        """Why this client may not upload now, or None."""
        if not self.enabled:
            return "adding resolutions is off: the app has no login and is reachable from other machines"
        if sum(self.added.values()) >= UPLOADS_PER_APP:
            return f"{UPLOADS_PER_APP} resolutions were added already; restart the app, or use `resolution-qa ingest`"
        if self.added.get(client, 0) >= UPLOADS_PER_CLIENT:
            return f"you added {UPLOADS_PER_CLIENT} resolutions already; use `resolution-qa ingest` for more"
        verdict = self.attempts.check(client)
        if not verdict.allowed:
            return f"too many files: at most {UPLOAD_ATTEMPTS_PER_MINUTE} a minute; try again in " \
                   f"{verdict.retry_after_s:.0f} s"
        return None

    def add(self, path: str | Path | None, client: str, progress: Report = lambda *_: None) -> Added:
        """Read, check and ingest one uploaded file (Gradio's copy at `path`); UploadError with one line otherwise."""
        if not path:
            raise UploadError("choose a PDF, Word (.docx) or text file first")
        path = Path(path)
        if (refused := self.refusal(client)) is not None:
            raise UploadError(refused)
        name = path.name  # Gradio keeps the browser's file name, in a folder of its own
        try:
            size = path.stat().st_size
        except OSError:
            raise UploadError(f"{name}: the upload did not arrive whole; send it again") from None
        if size > MAX_UPLOAD_BYTES:
            raise UploadError(f"{name}: {size / 1e6:.1f} MB is too large for one resolution "
                              f"(limit {MAX_UPLOAD_BYTES / 1e6:g} MB)")
        progress(0.05, f"reading {name}")
        new = read_upload(path, name)
        retriever = self.retriever_of()
        if retriever is None or getattr(retriever, "index", None) is None:
            raise UploadError("the assistant has no index to add to yet; see the status line")
        with self._lock:  # one upload at a time: the check of what is indexed and the ingest go together
            return self._ingest(retriever, path, name, new, client, progress)

    def _ingest(self, retriever: Any, path: Path, name: str, new: Document, client: str, progress: Report) -> Added:
        from resolution_qa.vectorstore.index import UnitIndex

        store = self.settings.store
        index = UnitIndex(store, self.settings.embedding, retriever.embeddings, client=retriever.index.client)
        kept, made = keep_file(path, name, uploads_folder(self.settings))
        try:
            added = add_to_index(index, new, kept, progress, restart_note=bool(store.documents))
        except ResolutionQAError as exc:
            self._forget(kept, made)
            raise UploadError(one_line(exc, limit=300)) from None
        except Exception as exc:
            self._forget(kept, made)
            log.exception("adding an uploaded resolution failed")
            raise UploadError(f"{name}: could not be added ({type(exc).__name__}); see the server log") from None
        if added.unchanged:
            self._forget(kept, made)
            return added
        self.added[client] = self.added.get(client, 0) + 1
        if hasattr(retriever, "follow"):
            retriever.follow()  # the next question, and the document menu, see the new generation at once
        return added

    @staticmethod
    def _forget(kept: Path, made: bool) -> None:
        if made:
            kept.unlink(missing_ok=True)


# --- the control in the page -----------------------------------------------------------------------------------------


def listing(documents: Sequence[Document], choices: Callable[[Sequence[Document]], list[tuple[str, str]]]
            ) -> tuple[Any, str]:
    """The document menu's update (shown with 2+ documents) and the Resolution tab's text, for these documents."""
    import gradio as gr

    from .render import render_document

    return gr.update(choices=choices(documents), visible=len(documents) > 1), "".join(render_document(d) for d in documents)


def upload_control(uploader: Uploader, handlers: Any, menu: Any, resolution: Any,
                   choices: Callable[[Sequence[Document]], list[tuple[str, str]]]) -> Any:
    """The "Add a resolution" box, laid out where it is called and wired: a file dropped there is read, checked and
    ingested with a progress bar, then the document `menu` and the `resolution` tab list what the index holds.

    `handlers`: the app's Handlers (its `documents` and `service` are updated); `choices(documents)`: the menu's
    entries. Returns the file box."""
    import gradio as gr

    from .security import client_key

    with gr.Accordion("Ajouter une résolution · Add a resolution", open=False, elem_id="add-resolution"):
        file = gr.File(
            label=f"PDF, Word (.docx) ou texte · or text (≤ {MAX_UPLOAD_BYTES / 1e6:g} MB)", file_types=list(SUFFIXES),
            file_count="single", type="filepath", elem_id="upload-file",
        )
        note = gr.HTML("", elem_id="upload-note")

    def add(path: str | None, request: gr.Request | None = None, progress: gr.Progress = gr.Progress()
            ) -> tuple[Any, ...]:
        try:
            added = uploader.add(path, client_key(request, uploader.settings.web),
                                 lambda done, what: progress(done, desc=what))
        except UploadError as exc:
            return f'<p class="upload-note failed" role="alert">{escape(str(exc))}</p>', gr.skip(), gr.skip(), None
        except Exception as exc:  # the page shows one line, never a traceback; the log keeps it
            log.exception("an upload failed")
            failed = f"the file could not be added ({type(exc).__name__}); see the server log"
            return f'<p class="upload-note failed" role="alert">{failed}</p>', gr.skip(), gr.skip(), None
        handlers.documents = handlers.service.documents() or handlers.documents
        return (f'<p class="upload-note" role="status">{escape(added.message())}</p>', *listing(handlers.documents, choices),
                None)

    file.upload(add, inputs=[file], outputs=[note, menu, resolution, file], api_visibility="private",
                concurrency_id="upload", concurrency_limit=1, show_progress="full", show_progress_on=[note])
    return file


def refresh_on_load(demo: Any, handlers: Any, menu: Any, resolution: Any,
                    choices: Callable[[Sequence[Document]], list[tuple[str, str]]]) -> None:
    """A page opened after an upload lists what the index holds now, not what it held when the app started."""
    def current() -> tuple[Any, str]:
        return listing(handlers.documents, choices)

    demo.load(current, outputs=[menu, resolution], api_visibility="private", show_progress="hidden")
