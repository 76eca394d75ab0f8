"""The Gradio chat app: streamed cited answers, a sources panel, feedback on answers, the conversation as Markdown,
and the resolution's full text."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

from resolution_qa.assistant.assistant import MAX_QUESTION_CHARS
from resolution_qa.assistant.types import Answer, Sources
from resolution_qa.core.errors import ResolutionQAError
from resolution_qa.core.settings import Settings
from resolution_qa.core.strings import both, ui_text
from resolution_qa.ingest import Document, parse_file

from .feedback import (
    FeedbackError,
    FeedbackRecord,
    FeedbackStore,
    feedback_path,
    make_record,
    settings_snapshot,
    with_comment,
)
from .render import (
    conversation_markdown,
    render_answer,
    render_document,
    render_failure,
    render_retrieved,
    render_sources,
    render_status,
    render_streaming,
    search_summary,
)
from .security import ClientRateLimiter, client_key, guard_middleware, login_of, quiet_client_loggers
from .service import ChatService, EngineFactory, Failure, Piece
from .upload import (
    MAX_UPLOAD_BYTES,
    UPLOAD_ROUTE,
    Uploader,
    refresh_on_load,
    upload_control,
    uploads_allowed,
    uploads_folder,
)

# Gradio reads this when it is imported: no usage statistics, no version check against its servers.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402  (after the variable above)

#: Turns a session keeps on screen: older bubbles are dropped so a long session's state (and the
#: chat sent back with every update) stays bounded; only `history_turns` answers feed the assistant.
MAX_SHOWN_TURNS = 50
#: Characters of an overlong question echoed back in its bubble.
ECHO_CHARS = 300
#: The document filter's value for "every indexed resolution".
ALL_DOCUMENTS = ""

STATIC = Path(__file__).parent / "static"
TITLE = "resolution-qa"

EXAMPLES: tuple[str, ...] = (
    "Que demande la résolution aux États pour que les victimes ne soient pas poursuivies ?",
    "Que dit le paragraphe 27 ?",
    "Quel rapport le Secrétaire général doit-il présenter, et quand ?",
    "What does the resolution say about the COVID-19 pandemic?",
    "Which conventions on trafficking does the preamble recall?",
    "What does paragraph 52 ask of the Secretary-General?",
)

PLACEHOLDER = (
    "**Posez une question sur la résolution A/RES/75/158 — ou en anglais.**  \n"
    "Ask about resolution A/RES/75/158 in French or English. Every answer cites the paragraphs it "
    "comes from; click a citation to read it in the full text."
)


@dataclass(frozen=True)
class Exchange:
    """What an assistant bubble shows: the question, its answer (None: an error), and the answers asked before it
    (what a rating records)."""

    question: str
    answer: Answer | None
    history: tuple[Answer, ...] = ()


@dataclass
class Conversation:
    """One browser session's chat: the bubbles shown, the answers kept as history, and for each bubble the exchange
    it shows (None for a question's bubble), so a thumbs up or down finds its answer."""

    messages: list[gr.ChatMessage] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)
    exchanges: list[Exchange | None] = field(default_factory=list)

    def bounded(self, keep_answers: int) -> Conversation:
        """The same conversation with at most MAX_SHOWN_TURNS turns shown and `keep_answers` answers kept."""
        messages = self.messages[-2 * MAX_SHOWN_TURNS :]
        exchanges = self.exchanges[max(0, len(self.exchanges) - len(messages)) :]
        answers = self.answers[-keep_answers:] if keep_answers else []
        return Conversation(messages=messages, answers=answers, exchanges=exchanges)

    def asked(self) -> list[Exchange]:
        """The exchanges shown, oldest first."""
        return [e for e in self.exchanges if e is not None]


def _note(message: str, *, failed: bool = False) -> Any:
    css = "feedback-note failed" if failed else "feedback-note"
    return gr.update(value=f'<p class="{css}" role="status">{escape(message)}</p>', visible=True)


# --- handlers ----------------------------------------------------------------------------------


class Handlers:
    """The app's event handlers, bound to one shared ChatService and the parsed documents."""

    def __init__(self, service: ChatService, documents: Sequence[Document], settings: Settings) -> None:
        self.service = service
        self.documents = list(documents)
        self.settings = settings
        self.limiter = ClientRateLimiter(settings.web.rate_limit_per_minute)  # per client address, not session
        self.feedback = FeedbackStore(feedback_path(settings))
        # The public /search endpoint and the ratings (each one a record on disk) have their own budgets (issue 20).
        self.search_limiter = ClientRateLimiter(settings.web.searches_per_minute)
        self.rating_limiter = ClientRateLimiter(settings.web.ratings_per_minute)

    def _history(self, conversation: Conversation) -> list[Answer]:
        keep = self.settings.answer.history_turns
        return conversation.answers[-keep:] if keep else []

    def filter_of(self, docs: str | Sequence[str] | None) -> list[str] | None:
        """The symbols to answer from (None: all); raises ValueError naming an unknown one."""
        wanted = [docs] if isinstance(docs, str) else list(docs) if isinstance(docs, list | tuple) else [docs] if docs else []
        if any(not isinstance(d, str) for d in wanted):  # /ask docs=[5] raised AttributeError, logged as a traceback
            raise ValueError(f"docs must be document symbols (text), e.g. [\"A/RES/75/158\"], not {str(docs)[:80]}")
        wanted = [d.strip() for d in wanted if d and d.strip() and d.strip() != ALL_DOCUMENTS]
        known = [d.symbol for d in self.documents]
        for symbol in wanted:
            if symbol not in known:
                raise ValueError(f"unknown document {symbol!r}; choose among {', '.join(known)} (or none for all)")
        return wanted or None

    def refusal(self, question: str, request: gr.Request | None) -> str | None:
        """Why this question is not answered now (too long, too many from this session), or None."""
        if len(question) > MAX_QUESTION_CHARS:
            return (
                f"the question is {len(question)} characters long; ask something shorter than "
                f"{MAX_QUESTION_CHARS} characters"
            )
        verdict = self.limiter.check(client_key(request, self.settings.web))
        return None if verdict.allowed else self.limiter.message(verdict)

    def respond(
        self, question: str, conversation: Conversation, scope: str = ALL_DOCUMENTS, request: gr.Request | None = None
    ) -> Iterator[tuple[Any, ...]]:
        """Stream one answer: yields (question box, chatbot, sources, status, conversation).

        `scope` is the document filter's value (a symbol, or ALL_DOCUMENTS); it exists with 2+ documents.
        """
        question = (question or "").strip()
        last = conversation.answers[-1] if conversation.answers else None
        if not question:
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip(), conversation
            return
        shown = question if len(question) <= ECHO_CHARS else question[:ECHO_CHARS] + " …"
        messages = [*conversation.messages, gr.ChatMessage(role="user", content=escape(shown, quote=False))]
        exchanges: list[Exchange | None] = [*conversation.exchanges, None]
        keep = self.settings.answer.history_turns
        try:
            docs = self.filter_of(scope)
            refused = self.refusal(question, request)
        except ValueError as exc:
            docs, refused = None, str(exc)
        if refused is not None:  # the question stays in its box, to shorten it or send it again later
            messages.append(gr.ChatMessage(role="assistant", content=render_failure(refused)))
            exchanges.append(Exchange(question, None))
            conversation = Conversation(messages, list(conversation.answers), exchanges)
            yield gr.skip(), messages, gr.skip(), gr.skip(), conversation.bounded(keep)
            return
        history = self._history(conversation)
        bubble = gr.ChatMessage(role="assistant", content=render_streaming(""))
        text = ""
        retrieved = False
        yield "", [*messages, bubble], gr.skip(), gr.skip(), conversation
        for event in self.service.stream(question, history, docs):
            if isinstance(event, Sources):
                # The passages found show at once, before the answer is written; the answer's citations replace them.
                retrieved = True
                yield gr.skip(), gr.skip(), render_retrieved(event, self.documents), gr.skip(), conversation
            elif isinstance(event, Piece):
                text += event.text
                bubble = gr.ChatMessage(role="assistant", content=render_streaming(text))
                yield gr.skip(), [*messages, bubble], gr.skip(), gr.skip(), conversation
            elif isinstance(event, Failure):
                messages.append(gr.ChatMessage(role="assistant", content=render_failure(event.message)))
                exchanges.append(Exchange(question, None, tuple(history)))
                conversation = Conversation(messages, list(conversation.answers), exchanges).bounded(keep)
                sources = render_sources(None, self.documents) if retrieved else gr.skip()
                yield gr.skip(), conversation.messages, sources, render_status(self.service.status(), last), \
                    conversation
                return
            else:
                messages.append(gr.ChatMessage(role="assistant", content=render_answer(event)))
                exchanges.append(Exchange(question, event, tuple(history)))
                conversation = Conversation(messages, [*conversation.answers, event], exchanges).bounded(keep)
                yield (
                    gr.skip(),
                    conversation.messages,
                    render_sources(event, self.documents),
                    render_status(self.service.status(), event),
                    conversation,
                )
                return

    @staticmethod
    def pick_example(selected: gr.SelectData) -> str:
        value = selected.value
        return value.get("text", "") if isinstance(value, dict) else str(value)

    def clear(self) -> tuple[Any, ...]:
        """A fresh conversation: empty chat, empty sources, empty question box."""
        return "", [], render_sources(None, self.documents), render_status(self.service.status()), Conversation()

    # --- feedback and export ----------------------------------------------------------------------

    def _rating_refused(self, request: gr.Request | None) -> str | None:
        verdict = self.rating_limiter.check(client_key(request, self.settings.web))
        if verdict.allowed:
            return None
        return (f"Too many ratings: at most {self.rating_limiter.per_minute} per minute. Try again in "
                f"{verdict.retry_after_s:.0f} s. · Trop d'avis : {self.rating_limiter.per_minute} par minute au plus ; "
                f"réessayez dans {verdict.retry_after_s:.0f} s.")

    def rate(self, conversation: Conversation, selected: gr.LikeData,
             request: gr.Request | None = None) -> tuple[Any, Any, FeedbackRecord | None]:
        """A thumbs up or down on a bubble: saved at once with the question, history, answer and settings; the
        comment box opens for an optional comment. Returns (note, comment box, the record a comment amends).
        At most settings.ratings_per_minute per client address (300 in 31 s were each a record)."""
        index = selected.index if isinstance(selected.index, int) else selected.index[0]
        exchange = conversation.exchanges[index] if 0 <= index < len(conversation.exchanges) else None
        if exchange is None or exchange.answer is None:
            return _note(both("not_rated")), gr.update(visible=False), None
        if selected.liked not in (True, False):  # a thumb clicked off again: nothing to record
            return gr.update(visible=False), gr.update(visible=False), None
        if (refused := self._rating_refused(request)) is not None:
            return _note(refused, failed=True), gr.update(visible=False), None
        answer = exchange.answer
        snapshot = settings_snapshot(self.settings, model=self.service.status().model)
        record = make_record(answer, exchange.history, "up" if selected.liked else "down", settings=snapshot)
        try:
            self.feedback.save(record)
        except FeedbackError as exc:
            return _note(str(exc), failed=True), gr.update(visible=False), None
        return _note(ui_text(answer.language).rating_saved), gr.update(visible=True, value=""), record

    def comment(self, text: str, pending: FeedbackRecord | None,
                request: gr.Request | None = None) -> tuple[Any, Any, FeedbackRecord | None]:
        """The optional comment on the last rating: saved as the same record with its comment."""
        text = (text or "").strip()
        if pending is None or not text:
            return gr.skip(), gr.skip(), pending
        if (refused := self._rating_refused(request)) is not None:
            return _note(refused, failed=True), gr.skip(), pending
        record = with_comment(pending, text)
        try:
            self.feedback.save(record)
        except FeedbackError as exc:
            return _note(str(exc), failed=True), gr.skip(), pending
        lang = record.answer.get("language", "fr")
        return _note(ui_text(lang if lang in ("fr", "en") else "fr").comment_saved), gr.update(value="", visible=False), \
            record

    @staticmethod
    def reset_feedback() -> tuple[Any, Any, None]:
        return gr.update(value="", visible=False), gr.update(value="", visible=False), None

    def export_markdown(self, conversation: Conversation) -> str:
        """The conversation as Markdown: each question, its answer and its formal citations ("A/RES/75/158, par. 27")."""
        symbols = ", ".join(d.symbol for d in self.documents)
        exchanges = [(e.question, e.answer) for e in conversation.asked()]
        # Raw HTML from a question or a quoted text (<img onerror=...>, <script>) would run in a Markdown viewer that
        # renders HTML: every "<" is written as an entity, which shows the same and runs nothing.
        return conversation_markdown(exchanges, title=f"{TITLE} · {symbols}").replace("<", "&lt;").replace(">", "&gt;")

    def search(self, query: str, request: gr.Request | None = None) -> tuple[str, str]:
        """Filter the Resolution tab to the units containing every word of `query` (accents ignored).

        A public endpoint (/search) whose cost grew with the query's words ("a " * 30000 took 116 s of CPU): only the
        first settings.search_max_words distinct words are looked for, and a client address may search
        settings.searches_per_minute times a minute."""
        verdict = self.search_limiter.check(client_key(request, self.settings.web))
        if not verdict.allowed:
            raise gr.Error(f"Too many searches: at most {self.search_limiter.per_minute} per minute. Try again in "
                           f"{verdict.retry_after_s:.0f} s.", print_exception=False)
        words = list(dict.fromkeys((query or "")[: 40 * self.settings.web.search_max_words].split()))
        query = " ".join(words[: self.settings.web.search_max_words])
        html = "".join(render_document(d, query) for d in self.documents)
        count = search_summary(self.documents, query)
        return html, count

    def ask(
        self, question: str, docs: list[str] | None = None, request: gr.Request | None = None
    ) -> dict[str, Any]:
        """One question, no history: the final answer as JSON (text, language, citations, timings...).

        `docs`: symbols of the indexed resolutions to answer from (none: all of them).
        """
        question = (question or "").strip()
        try:
            scope = self.filter_of(docs)
        except ValueError as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        refused = self.refusal(question, request) if question else None
        if refused is not None:
            raise gr.Error(refused, print_exception=False)
        answer: Answer | None = None
        for event in self.service.stream(question, (), scope):
            if isinstance(event, Failure):
                raise gr.Error(event.message, print_exception=False)
            if isinstance(event, Answer):
                answer = event
        if answer is None:
            raise gr.Error("no answer was produced; see the server log", print_exception=False)
        return answer.record()

    def status_html(self) -> str:
        return render_status(self.service.status())


# --- layout ------------------------------------------------------------------------------------


def theme() -> gr.themes.Base:
    """The default theme with system fonts: Gradio's default fonts come from Google Fonts (offline breaks)."""
    return gr.themes.Soft(
        primary_hue="blue",
        neutral_hue="slate",
        font=["system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif"],
        font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"],
    )


def head_html() -> str:
    script = (STATIC / "app.js").read_text(encoding="utf-8")
    return f'<meta name="viewport" content="width=device-width, initial-scale=1">\n<script>\n{script}\n</script>'


def css() -> str:
    return (STATIC / "app.css").read_text(encoding="utf-8")


@dataclass
class _ChatTab:
    chatbot: gr.Chatbot
    question: gr.Textbox
    clear: gr.Button
    sources: gr.HTML
    export: gr.Button
    markdown: gr.Textbox  # hidden: the exported Markdown, handed to the page script that downloads it
    note: gr.HTML  # "thanks, saved" after a rating
    comment: gr.Textbox  # the optional comment on a rating
    scope: gr.Dropdown | None = None  # the document filter, with 2+ documents


#: Saves the exported Markdown as a file in the browser (no file is written on the server).
DOWNLOAD_JS = """(markdown) => {
  const blob = new Blob([markdown], {type: "text/markdown;charset=utf-8"});
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = "resolution-qa-conversation.md";
  document.body.appendChild(link);
  link.click();
  setTimeout(() => { URL.revokeObjectURL(link.href); link.remove(); }, 1000);
  return [];
}"""


@dataclass
class _ResolutionTab:
    search: gr.Textbox
    count: gr.HTML
    resolution: gr.HTML


def document_choices(documents: Sequence[Document]) -> list[tuple[str, str]]:
    """The document menu's entries: every resolution, then each one."""
    choices = [(both("all_resolutions"), ALL_DOCUMENTS)]
    return choices + [(f"{d.symbol} — {d.title}" if d.title else d.symbol, d.symbol) for d in documents]


def _document_filter(documents: Sequence[Document], always: bool = False) -> gr.Dropdown | None:
    """The document menu, with 2+ documents; `always` (the app takes uploads): made hidden with fewer."""
    if len(documents) < 2 and not always:
        return None
    return gr.Dropdown(
        choices=document_choices(documents), value=ALL_DOCUMENTS, label="Résolution · Resolution", elem_id="scope",
        interactive=True, visible=len(documents) >= 2,
    )


def _chat_tab(documents: Sequence[Document], menu: bool = False) -> _ChatTab:
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=320):
            scope = _document_filter(documents, always=menu)
            chatbot = gr.Chatbot(
                elem_id="chat",
                show_label=False,
                height="62vh",
                min_height=320,
                placeholder=PLACEHOLDER,
                examples=[{"text": q} for q in EXAMPLES],  # shown in the empty chat; one click asks
                feedback_options=("Like", "Dislike"),  # thumbs up/down under each answer (Handlers.rate)
                latex_delimiters=[],
                buttons=[],  # per-message copy would copy our HTML; the sources panel copies citations
                sanitize_html=True,
                autoscroll=True,
            )
            question = gr.Textbox(
                elem_id="question",
                show_label=False,
                placeholder="Votre question · Your question (Entrée · Enter)",
                lines=1,
                max_lines=5,
                submit_btn=ui_text("fr").send,
                autofocus=True,
            )
            note = gr.HTML("", elem_id="feedback-note", visible=False)
            comment = gr.Textbox(
                elem_id="feedback-comment",
                show_label=False,
                placeholder=both("comment_placeholder"),
                lines=1,
                max_lines=4,
                max_length=2000,
                submit_btn=ui_text("fr").send,
                visible=False,
            )
            with gr.Row():
                clear = gr.Button(both("new_conversation"), elem_id="clear", size="sm")
                export = gr.Button(both("export_markdown"), elem_id="export", size="sm")
            markdown = gr.Textbox(visible="hidden", elem_id="export-markdown", show_label=False)
        with gr.Column(scale=2, min_width=300):
            sources = gr.HTML(render_sources(None, documents), elem_id="sources")
    return _ChatTab(chatbot, question, clear, sources, export, markdown, note, comment, scope)


def _resolution_tab(documents: Sequence[Document]) -> _ResolutionTab:
    search = gr.Textbox(
        elem_id="search",
        show_label=False,
        placeholder="Rechercher dans le texte (mots, « par. 27 », « note 17 »)… / Search the text…",
        lines=1,
    )
    count = gr.HTML("", elem_id="search-count")
    resolution = gr.HTML("".join(render_document(d) for d in documents), elem_id="resolution")
    return _ResolutionTab(search, count, resolution)


def build_app(service: ChatService, documents: Sequence[Document], settings: Settings) -> gr.Blocks:
    """Lay out the page and wire the events. `service` is shared by every session."""
    handlers = Handlers(service, documents, settings)
    # "Add a resolution" (web/upload.py): only with a login, or on loopback, and an index to add to (an engine with a
    # retriever); launch() turns it off for a share link.
    takes = uploads_allowed(settings.web) and getattr(service.retriever(), "index", None) is not None
    uploader = Uploader(settings, service.retriever) if takes else None
    symbols = ", ".join(d.symbol for d in documents)
    titles = "; ".join(d.title for d in documents if d.title)
    with gr.Blocks(title=f"{TITLE} · {symbols}", analytics_enabled=False) as demo:
        # Kept server-side per session; dropped an hour (session_ttl_s) after its last change, and when
        # the browser tab closes.
        conversation = gr.State(Conversation(), time_to_live=settings.web.session_ttl_s)
        gr.HTML(
            f"<h1>{escape(symbols)} — {escape(titles)}</h1>"
            "<p>Questions en français ou en anglais, réponses citées · Ask in French or English, get cited answers</p>",
            elem_id="app-title",
        )
        status = gr.HTML(handlers.status_html(), elem_id="status")
        with gr.Tabs(selected="chat", elem_id="tabs"):
            with gr.Tab("Chat", id="chat", elem_id="tab-chat"):
                chat = _chat_tab(documents, menu=uploader is not None)
            with gr.Tab("Résolution · Resolution", id="resolution", elem_id="tab-resolution", render_children=True):
                text = _resolution_tab(documents)
        if uploader is not None:
            upload_control(uploader, handlers, chat.scope, text.resolution, document_choices)
            refresh_on_load(demo, handlers, chat.scope, text.resolution, document_choices)
            demo.rqa_uploader = uploader  # type: ignore[attr-defined]  # launch() knows about a share link

        chat_outputs = [chat.question, chat.chatbot, chat.sources, status, conversation]
        chat_inputs = [chat.question, conversation, *([chat.scope] if chat.scope is not None else [])]
        # Every event that answers shares one pool of `answer_concurrency` slots: retrieval runs in parallel
        # on the one shared embedding model, while the assistant's lock lets one LLM generation run at a time.
        answering = {
            "concurrency_id": "answer", "concurrency_limit": settings.web.answer_concurrency, "show_progress": "hidden"
        }
        chat.question.submit(
            handlers.respond, inputs=chat_inputs, outputs=chat_outputs, api_name="chat", **answering
        )
        # One click on an example asks it: it goes into the question box, then is answered as if typed.
        chat.chatbot.example_select(
            handlers.pick_example, outputs=[chat.question], api_visibility="private", show_progress="hidden"
        ).then(
            handlers.respond, inputs=chat_inputs, outputs=chat_outputs, api_visibility="private",
            **answering,
        )
        pending = gr.State(None, time_to_live=settings.web.session_ttl_s)  # the last rating, which a comment amends
        feedback_outputs = [chat.note, chat.comment, pending]
        chat.clear.click(handlers.clear, outputs=chat_outputs, api_name="clear", show_progress="hidden").then(
            handlers.reset_feedback, outputs=feedback_outputs, api_visibility="private", show_progress="hidden"
        )
        # The chatbot's own trash icon must forget the history too, not only the bubbles.
        chat.chatbot.clear(handlers.clear, outputs=chat_outputs, api_visibility="private", show_progress="hidden").then(
            handlers.reset_feedback, outputs=feedback_outputs, api_visibility="private", show_progress="hidden"
        )
        # Thumbs up/down: saved locally (feedback.jsonl in the data folder) with an optional comment.
        chat.chatbot.like(handlers.rate, inputs=[conversation], outputs=feedback_outputs, api_visibility="private",
                          show_progress="hidden")
        chat.comment.submit(handlers.comment, inputs=[chat.comment, pending], outputs=feedback_outputs,
                            api_visibility="private", show_progress="hidden")
        # The conversation as a Markdown file, made on the server and saved by the browser.
        chat.export.click(handlers.export_markdown, inputs=[conversation], outputs=[chat.markdown],
                          api_visibility="private", show_progress="hidden").then(
            None, inputs=[chat.markdown], js=DOWNLOAD_JS, api_visibility="private", show_progress="hidden"
        )
        text.search.change(
            handlers.search,
            inputs=[text.search],
            outputs=[text.resolution, text.count],
            api_name="search",
            trigger_mode="always_last",
            show_progress="hidden",
        )
        gr.api(handlers.ask, api_name="ask", concurrency_id="answer", concurrency_limit=settings.web.answer_concurrency)
    return demo


# --- launching ---------------------------------------------------------------------------------


def load_documents(settings: Settings, service: ChatService | None = None) -> list[Document]:
    """The documents the app answers about: the engine's, else the configured files, else the bundled text."""
    if service is not None and (documents := service.documents()):
        return documents
    return [parse_file(p) for p in settings.documents] or [parse_file()]


def create_app(settings: Settings, factory: EngineFactory | None = None) -> tuple[gr.Blocks, ChatService]:
    """Build the shared service (loading models once) and the page. Raises only for unreadable documents."""
    service = ChatService(settings, factory) if factory is not None else ChatService(settings)
    service.start()
    return build_app(service, load_documents(settings, service), settings), service


def private_paths(settings: Settings) -> list[str]:
    """Folders and files the app must never serve: the index, the models, the source documents, uploaded ones."""
    paths = [settings.index_dir, settings.models_dir, *settings.documents, feedback_path(settings),
             uploads_folder(settings)]
    return [str(p.expanduser().resolve()) for p in paths]


class AppLaunchError(ResolutionQAError):
    """The chat app could not start its web server (port taken, address not available)."""


def launch(demo: gr.Blocks, settings: Settings, *, share: bool = False, block: bool = True, quiet: bool = False) -> None:
    """Serve on settings.web.host:settings.web.port (loopback by default); a share link only when asked.

    Returns once the server listens when `block` is False; otherwise serves until interrupted.
    Raises AppConfigError for a half-set login, or a public host or share link without one.
    """
    login = login_of(settings.web, share=share)
    quiet_client_loggers()
    uploader: Uploader | None = getattr(demo, "rqa_uploader", None)
    if uploader is not None:
        uploader.share = share  # a public link without a login turns uploads off
    # The upload route's body is a file: it alone gets the file limit (plus the request cap, for the multipart framing).
    upload_bytes = MAX_UPLOAD_BYTES if uploader is not None and uploader.enabled else None
    routes = {UPLOAD_ROUTE: upload_bytes + settings.web.max_request_bytes} if upload_bytes else None
    # Past queue_max_size waiting questions a user is told the queue is full (HTTP 503) instead of waiting.
    demo.queue(default_concurrency_limit=settings.web.answer_concurrency, max_size=settings.web.queue_max_size)
    try:
        demo.launch(
            server_name=settings.web.host,
            server_port=settings.web.port,
            share=share,
            prevent_thread_lock=True,
            show_error=False,
            quiet=True,
            footer_links=["api"],
            run_history=False,
            theme=theme(),
            css=css(),
            head=head_html(),
            ssr_mode=False,
            pwa=False,
            mcp_server=False,
            auth=login,
            auth_message="resolution-qa: sign in · connectez-vous" if login else None,
            # Nothing on disk is served: no extra folders, and the index, models and documents are blocked
            # even if a later change allows a parent folder.
            allowed_paths=[],
            blocked_paths=private_paths(settings),
            # The upload route takes resolutions only when uploads are on; otherwise it is bounded like a request.
            max_file_size=upload_bytes or settings.web.max_request_bytes,
            # The body-size cap, then the login guard (failed logins throttled per address and user name).
            app_kwargs={"middleware": guard_middleware(settings.web, routes)},
        )
    except OSError as exc:
        raise AppLaunchError(
            f"cannot listen on {settings.web.host}:{settings.web.port} (in use, or not an address of this machine); "
            "pick another port with --port or RESOLUTION_QA_PORT"
        ) from exc
    if not quiet:
        print(f"chat app on {demo.local_url}  (Ctrl+C to stop)", flush=True)
        if share and demo.share_url:
            print(f"public link: {demo.share_url}", flush=True)
    if block:
        demo.block_thread()
