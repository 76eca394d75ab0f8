"""Fakes of the translation model (subclasses of the real protocol) and the bundled document's units."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest

from resolution_qa.ingest import Document, parse_file
from resolution_qa.translate.model import Generator, Message


class FakeGenerator(Generator):
    """Answers from a function of (French source, spec number); records every call. A begun reply (the opening
    phrase) is continued, as the real model does."""

    name = "fake"

    def __init__(self, answer: Callable[[str, int], str]) -> None:
        self.answer = answer
        self.calls: list[tuple[list[Message], float, int]] = []

    def generate(self, messages: Sequence[Message], *, temperature: float, seed: int, max_tokens: int) -> str:
        self.calls.append((list(messages), temperature, seed))
        user = next(m["content"] for m in messages if m["role"] == "user")
        source = user.rsplit(":\n", 1)[-1]
        prefill = messages[-1]["content"] if messages[-1]["role"] == "assistant" else ""
        return prefill + self.answer(source, len(self.calls) - 1)


@pytest.fixture(scope="session")
def bundled() -> Document:
    return parse_file(None)
