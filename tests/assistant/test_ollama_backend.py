"""The ollama backend against a small Ollama-compatible HTTP server (/api/chat, NDJSON) on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from resolution_qa.assistant import Assistant
from resolution_qa.core.settings import Settings

REPLY = "Le texte demande de protéger les victimes [S1]."


@pytest.fixture
def ollama() -> Iterator[tuple[str, list[dict]]]:
    requests: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            requests.append({"path": self.path, **body})
            self.send_response(200)
            self.send_header("Content-Type", "application/x-ndjson")
            self.end_headers()
            for word in REPLY.split(" "):
                line = {"model": body["model"], "created_at": "2026-01-01T00:00:00Z",
                        "message": {"role": "assistant", "content": word + " "}, "done": False}
                self.wfile.write((json.dumps(line) + "\n").encode())
            end = {"model": body["model"], "created_at": "2026-01-01T00:00:00Z",
                   "message": {"role": "assistant", "content": ""}, "done": True, "done_reason": "stop"}
            self.wfile.write((json.dumps(end) + "\n").encode())

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", requests
    httpd.shutdown()
    httpd.server_close()


def test_answer_through_an_ollama_server(settings: Settings, ollama: tuple[str, list[dict]], retriever) -> None:
    url, requests = ollama
    s = settings.model_copy(update={"backend": "ollama", "ollama_url": url, "ollama_model": "tiny:1b"})
    answer = Assistant(s, retriever=retriever).ask("Que dit le paragraphe 27 ?")
    assert answer.backend == "ollama" and not answer.notice
    assert answer.text == "Le texte demande de protéger les victimes (par. 27)."
    assert [c.id for c in answer.citations] == ["OP27"]
    chat = [r for r in requests if r["path"] == "/api/chat"]
    assert chat and chat[0]["model"] == "tiny:1b"
    assert chat[0]["options"]["temperature"] == 0.0
    assert "<question>Que dit le paragraphe 27 ?</question>" in chat[0]["messages"][-1]["content"]
