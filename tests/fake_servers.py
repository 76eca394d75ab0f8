"""The fake HTTP servers of the test suite, on 127.0.0.1: an OpenAI/Ollama-compatible LLM server (and one that
judges as the answer engine asks), a package index. They stand in for real servers, not for an interface of the
product, so tests/test_fakes.py has no signature to compare them with."""

from __future__ import annotations

import functools
import http.server
import json
import math
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# --- fake servers on 127.0.0.1 ---------------------------------------------------------------------------------


class _Server:
    """A threading HTTP server on a free loopback port; `stop()` shuts it down."""

    def _serve(self, handler: type[http.server.BaseHTTPRequestHandler] | Any) -> None:
        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self):  # noqa: ANN204
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class FakeLLMServer(_Server):
    """An OpenAI-compatible (/v1/chat/completions, SSE or JSON) and Ollama-compatible (/api/chat, NDJSON) server.

    `mode`: ok (the reply, word by word), sleep (wait `sleep` s, then answer), trickle (wait `sleep` s before each
    word), status (answer `status` with an error body whose message is `error_message`; so does any `status`
    other than 200), invalid_json, empty (no content). An unknown OpenAI path gets 404. Records each request body with its path (`requests`: {"path": ..., **body}) and its headers.
    Start it with `start()`, or use it as a context manager.
    """

    mode: str = "ok"
    reply: str = "Victims must not be punished for acts they were forced to commit [S1]."
    status: int = 200
    sleep: float = 0.0
    error_message: str = "server exploded"
    requests: list[dict] = field(default_factory=list)
    headers: list[dict] = field(default_factory=list)
    port: int = 0
    url: str = ""

    def start(self) -> FakeLLMServer:
        self._serve(_llm_handler(self))
        return self

    @property
    def authorizations(self) -> list[str]:
        """The Authorization header of each request ("" when absent)."""
        return [next((v for k, v in h.items() if k.lower() == "authorization"), "") for h in self.headers]


def _llm_handler(state: FakeLLMServer) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def log_message(self, *args: object) -> None:  # keep pytest output clean
            pass

        def do_GET(self) -> None:  # ollama clients may probe /api/version or /api/tags
            self._json(200, {"version": "0.0.0", "models": []})

        def _json(self, status: int, payload: object) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            state.requests.append({"path": self.path, **body})
            state.headers.append(dict(self.headers))
            ollama = self.path.startswith("/api/")
            if state.mode == "sleep":
                time.sleep(state.sleep)
            if state.mode == "status" or state.status != 200 or (not ollama and self.path != "/v1/chat/completions"):
                status = state.status if state.status != 200 else 404
                self._json(status, {"error": {"message": state.error_message, "type": "server_error"}})
                return
            model = body.get("model", "")
            if not ollama and not body.get("stream"):
                if state.mode == "invalid_json":
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(b"{not json at all")
                    return
                content = "" if state.mode == "empty" else state.reply
                self._json(200, {"id": "chatcmpl-1", "object": "chat.completion", "created": int(time.time()),
                                 "model": model, "choices": [{"index": 0, "finish_reason": "stop",
                                                              "message": {"role": "assistant", "content": content}}],
                                 "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/x-ndjson" if ollama else "text/event-stream")
            self.end_headers()
            if state.mode == "invalid_json":
                self.wfile.write(b"{not json at all\n" if ollama else b"data: {not json at all\n\n")
                return
            words = [] if state.mode == "empty" else [w + " " for w in state.reply.split(" ")]
            base = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": int(time.time()), "model": model}
            try:
                for word in words:
                    if state.mode == "trickle":
                        time.sleep(state.sleep)
                    if ollama:
                        line = {"model": model, "created_at": "2026-01-01T00:00:00Z",
                                "message": {"role": "assistant", "content": word}, "done": False}
                        self.wfile.write((json.dumps(line) + "\n").encode())
                    else:
                        chunk = {**base, "choices": [{"index": 0, "delta": {"content": word}, "finish_reason": None}]}
                        self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                if ollama:
                    end = {"model": model, "created_at": "2026-01-01T00:00:00Z",
                           "message": {"role": "assistant", "content": ""}, "done": True, "done_reason": "stop"}
                    self.wfile.write((json.dumps(end) + "\n").encode())
                else:
                    end = {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
                    self.wfile.write(f"data: {json.dumps(end)}\n\ndata: [DONE]\n\n".encode())
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout): that is the point of those tests

    return Handler


@dataclass
class FakePackageIndex(_Server):
    """A PEP 503 'simple' package index: serves the files under `root` and records every path requested."""

    root: Path
    requests: list[str] = field(default_factory=list)
    port: int = 0
    url: str = ""

    def start(self) -> FakePackageIndex:
        requests = self.requests

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                requests.append(self.path)

        self._serve(functools.partial(Handler, directory=str(self.root)))
        self.url += "/"
        return self


def judge_request_end() -> str:
    """How the judge's request ends ("Answer yes or no."): its last sentence in assistant/prompts.py."""
    from resolution_qa.assistant.prompts import JUDGE_ASK

    return JUDGE_ASK.rstrip().rsplit("?", 1)[-1].strip()


@dataclass
class JudgingLLMServer(FakeLLMServer):
    """A FakeLLMServer that tells the judge's requests from the writer's, as a real model answers them both.

    A judge request (its last message asks for "yes or no", assistant/prompts.py) gets "Yes" when its passage
    contains one of `believed` (every passage when `believed` is None), else "No"; with `logprobs`, the first
    token's top log-probabilities come with it (OpenAI: choices[0].logprobs.content; Ollama: "logprobs"), and
    `judge_text`, when set, replaces the word written (so a test can tell the probabilities from the text).
    Every other request gets FakeLLMServer's answer (`reply`, `mode`, ...). `judged` counts the judge requests.
    """

    believed: tuple[str, ...] | None = None
    logprobs: bool = False
    judge_text: str | None = None
    judged: int = 0

    def start(self) -> JudgingLLMServer:
        import io

        base = _llm_handler(self)
        server = self

        class Handler(base):  # type: ignore[misc, valid-type]
            def do_POST(self) -> None:
                data = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                body = json.loads(data or b"{}")
                messages = body.get("messages") or [{}]
                last = str(messages[-1].get("content", ""))
                if server.mode != "ok" or server.status != 200 or not last.rstrip().endswith(judge_request_end()):
                    self.rfile = io.BytesIO(data)
                    super().do_POST()
                    return
                server.requests.append({"path": self.path, **body})
                server.headers.append(dict(self.headers))
                server.judged += 1
                yes = server.believed is None or any(b in last for b in server.believed)
                self._verdict(body, yes)

            def _verdict(self, body: dict, yes: bool) -> None:
                word = "Yes" if yes else "No"
                p_yes, p_no = (math.log(0.97), math.log(0.03)) if yes else (math.log(0.03), math.log(0.97))
                top = [{"token": "Yes", "logprob": p_yes, "bytes": None}, {"token": "No", "logprob": p_no, "bytes": None}]
                first = {"token": word, "logprob": max(p_yes, p_no), "bytes": None, "top_logprobs": top}
                content = server.judge_text if server.judge_text is not None else word
                model = body.get("model", "")
                if self.path.startswith("/api/"):  # Ollama: one NDJSON line, then the end
                    line: dict[str, Any] = {"model": model, "created_at": "2026-01-01T00:00:00Z",
                                            "message": {"role": "assistant", "content": content}, "done": False}
                    if server.logprobs:
                        line["logprobs"] = [first]
                    end = {"model": model, "created_at": "2026-01-01T00:00:00Z",
                           "message": {"role": "assistant", "content": ""}, "done": True, "done_reason": "stop"}
                    payload = (json.dumps(line) + "\n" + json.dumps(end) + "\n").encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/x-ndjson")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                choice: dict[str, Any] = {"index": 0, "finish_reason": "length",
                                          "message": {"role": "assistant", "content": content}}
                if server.logprobs:
                    choice["logprobs"] = {"content": [first]}
                if body.get("stream"):
                    chunk = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": int(time.time()),
                             "model": model, "choices": [{**choice, "delta": {"content": content}}]}
                    chunk["choices"][0].pop("message")
                    self.send_response(200)
                    self.send_header("Content-Type", "text/event-stream")
                    self.end_headers()
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\ndata: [DONE]\n\n".encode())
                    return
                self._json(200, {"id": "chatcmpl-1", "object": "chat.completion", "created": int(time.time()),
                                 "model": model, "choices": [choice],
                                 "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})

        self._serve(Handler)
        return self
