"""`resolution-qa serve`'s request and response shapes: OpenAI's chat completion request read and checked, the
answer as a completion, its citations as records, the streamed text's tail, errors as OpenAI's JSON."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.responses import JSONResponse

from resolution_qa.assistant.types import Answer, Citation

from .render import answer_body, answer_text, citations_block

_ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})


class ApiError(Exception):
    """A request answered with an OpenAI-style error body."""

    def __init__(self, status: int, message: str, *, type: str = "invalid_request_error", param: str | None = None,
                 code: str | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.type, self.param, self.code = status, message, type, param, code
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers)


# --- the request ---------------------------------------------------------------------------------------------------


class ChatMessage(BaseModel):
    """One message of a chat completion request (text only)."""

    model_config = ConfigDict(extra="allow")

    role: str
    content: str | list[dict[str, Any]] | None = None

    def text(self, where: str) -> str:
        if self.content is None or isinstance(self.content, str):
            return self.content or ""
        parts: list[str] = []
        for part in self.content:
            if part.get("type") != "text" or not isinstance(part.get("text"), str):
                raise ApiError(400, f"{where}: only text content is supported (got a {part.get('type')!r} part)",
                               param="messages")
            parts.append(part["text"])
        return "\n".join(parts)


class ChatRequest(BaseModel):
    """The fields of OpenAI's chat completion request this server reads; others (temperature, max_tokens...) are
    accepted and ignored. `documents` (symbols) is this server's own: answer from those resolutions only."""

    model_config = ConfigDict(extra="allow")

    model: str = Field(min_length=1)
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    n: int | None = None
    documents: list[str] | None = None


def _validation_message(exc: ValidationError) -> tuple[str, str | None]:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err.get("loc", ()))
    message = err["msg"].removeprefix("Value error, ")
    if err["type"] == "missing":
        return f"missing required parameter {loc!r}", loc.split(".")[0] or None
    return (f"{loc}: {message}" if loc else message), (loc.split(".")[0] or None)


def _check_text(raw: Any) -> None:
    """ApiError(400) for a string holding a lone surrogate ("\\udcff" in JSON): it cannot be encoded to reply."""
    try:
        json.dumps(raw, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ApiError(400, f"the request holds an unpaired surrogate ({exc.object[exc.start]!r}); send text as "
                       "UTF-8") from None


def parse_request(body: bytes) -> ChatRequest:
    """The request, or ApiError(400) saying in one line what is wrong with it."""
    try:
        raw = json.loads(body or b"null")
    except RecursionError:
        raise ApiError(400, "the request body is nested too deeply; send a chat completion request") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, a number of more than 4,300 digits
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else (
            "not UTF-8" if isinstance(exc, UnicodeDecodeError) else "a number too long to read")
        raise ApiError(400, f"the request body is not valid JSON ({reason}); send a chat completion request") from None
    _check_text(raw)
    if not isinstance(raw, dict):
        raise ApiError(400, "the request body must be a JSON object with 'model' and 'messages'")
    try:
        request = ChatRequest.model_validate(raw)
    except ValidationError as exc:
        message, param = _validation_message(exc)
        raise ApiError(400, message, param=param) from None
    for number, message in enumerate(request.messages):
        if message.role not in _ROLES:
            raise ApiError(400, f"messages.{number}.role: {message.role!r} is not one of "
                           f"{', '.join(sorted(_ROLES))}", param="messages")
    if request.n not in (None, 1):
        raise ApiError(400, f"n={request.n}: this server writes one answer per request; set n to 1", param="n")
    return request


# --- the response --------------------------------------------------------------------------------------------------


def citation_record(citation: Citation) -> dict[str, Any]:
    record = {"id": citation.id, "doc": citation.doc, "label": citation.label, "formal": citation.formal,
              "text": citation.text}
    if citation.source:
        record["source"] = citation.source
    return record


def _continuation(streamed: str, text: str) -> str | None:
    """What `text` adds after what was streamed, when it starts with it (whitespace aside); else None."""
    i = 0
    for ch in streamed:
        if ch.isspace():
            continue
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text) or text[i] != ch:
            return None
        i += 1
    rest = text[i:]
    return rest.lstrip(" ") if streamed[-1:].isspace() else rest


def stream_tail(streamed: str, answer: Answer) -> str:
    """The text to send after the streamed pieces: the rest of the checked answer (or, when the checks changed what
    was streamed, the whole checked answer after a blank line), then its citations."""
    body = answer_body(answer)
    rest = _continuation(streamed, body) if streamed.strip() else body
    if rest is None:
        rest = "\n\n" + body
    block = citations_block(answer)
    return rest + (f"\n\n{block}" if block else "")


def completion(answer: Answer, model: str) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion", "created": int(time.time()), "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": answer_text(answer)},
                     "finish_reason": "stop", "logprobs": None}],
        "citations": [citation_record(c) for c in answer.citations],
        "answer": answer.record(),
    }
