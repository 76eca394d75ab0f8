"""`resolution-qa serve`: the assistant behind an OpenAI-compatible chat API, for the clients people already use.

Routes (README "Serving many users"):

- `POST /v1/chat/completions`: JSON, or server-sent events with `"stream": true`. The last message is the question;
  the earlier user/assistant messages are the conversation's history. An assistant message this server wrote is
  matched back to the Answer it came from (its citations, its standalone question), so "and the next paragraph?"
  works as in the chat app; one it cannot match (another server's, or edited) becomes a turn of its text and of the
  citations its "- [A/RES/75/158, par. 27]" lines name. System messages are ignored: the assistant's instructions
  are its own. The answer's text carries its citations as `resolution-qa ask` prints them; the structured ones
  travel in extra fields ordinary clients ignore: `citations` (id, doc, label, formal, text, source) and `answer`
  (the full `Answer.record()`) on the response, and on the last chunk of a stream, which may be preceded by a chunk
  with `sources` (the passages retrieved, before any text).
- `GET /v1/models`: `resolution-qa-<backend>` for the configured backend and `extractive` (same index, no LLM),
  and with several indexed resolutions `resolution-qa-<backend>:<symbol>` for each (answers from it alone).
- `GET /health`: {"status": "ok" | "degraded" | "down"} without a login, for load balancers.

The chat app's login and limits: the same user and password (`Authorization: Bearer <password>`, what an OpenAI
client sends as its api_key, or HTTP basic auth), the same body-size cap, per-client-address question rate limit,
answering slots and queue. Errors are OpenAI's JSON: {"error": {"message": one line, "type", "param", "code"}}.
"""

from __future__ import annotations

# The server is written by concern, one module each; this module keeps the one import path (cli/serve_cmd.py).
from .api_memory import MEMORY_SIZE, AnswerMemory, formal_index, turn_of
from .api_routes import ApiServer, ServeError, build_api, create_api, sse_events
from .api_schema import ApiError, ChatMessage, ChatRequest, citation_record, completion, parse_request, stream_tail
from .api_service import MODEL_PREFIX, Model, OpenAIService, SharedIndexFactory, Slots, model_id

__all__ = [
    "MEMORY_SIZE",
    "MODEL_PREFIX",
    "AnswerMemory",
    "ApiError",
    "ApiServer",
    "ChatMessage",
    "ChatRequest",
    "Model",
    "OpenAIService",
    "ServeError",
    "SharedIndexFactory",
    "Slots",
    "build_api",
    "citation_record",
    "completion",
    "create_api",
    "formal_index",
    "model_id",
    "parse_request",
    "sse_events",
    "stream_tail",
    "turn_of",
]
