"""`resolution-qa serve`'s conversation memory: the answers it gave, to match the assistant messages a client sends
back to them (citations, standalone question), and a turn of their text for those it cannot match."""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Sequence

from resolution_qa.assistant.types import Answer, Citation, Turn
from resolution_qa.core.refs import formal
from resolution_qa.core.strings import STRINGS
from resolution_qa.ingest import Document

from .render import CITATION_LINE, answer_body

#: Answers remembered to match a client's assistant messages back to them (the most recent; ~5 KB each).
MEMORY_SIZE = 2048


def _squash(text: str) -> str:
    return " ".join(text.split())


class AnswerMemory:
    """The answers this server gave recently, to match the assistant messages a client sends back to them."""

    def __init__(self, size: int = MEMORY_SIZE) -> None:
        self.size = size
        self._answers: OrderedDict[str, list[Answer]] = OrderedDict()
        self._count = 0
        self._lock = threading.Lock()

    def remember(self, answer: Answer) -> None:
        key = _squash(answer.question).casefold()
        with self._lock:
            self._answers.setdefault(key, []).append(answer)
            self._answers.move_to_end(key)
            self._count += 1
            while self._count > self.size and self._answers:
                _, dropped = self._answers.popitem(last=False)
                self._count -= len(dropped)

    def recall(self, question: str, content: str) -> Answer | None:
        """The answer to `question` whose text the client's `content` holds (streamed or not), or None."""
        shown = _squash(content)
        with self._lock:
            candidates = list(self._answers.get(_squash(question).casefold(), ()))
        for answer in reversed(candidates):
            if _squash(answer_body(answer)) in shown or _squash(answer.text) in shown:
                return answer
        return None


def _headings() -> re.Pattern[str]:
    names = {t.citations + t.colon for t in STRINGS.values()} | {t.closest_title + t.colon for t in STRINGS.values()}
    return re.compile(r"^(?:" + "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)) + r")\s*$",
                      re.MULTILINE)


_HEADINGS = _headings()


def formal_index(documents: Sequence[Document]) -> dict[str, Citation]:
    """Every unit by its formal citation in either language ("A/RES/75/158, par. 27", "..., para. 27")."""
    index: dict[str, Citation] = {}
    for document in documents:
        for unit in document.units:
            for lang in ("fr", "en"):
                label = unit.label(lang)
                index[formal(document.symbol, label)] = Citation(
                    id=unit.id, doc=unit.doc, label=label, text=unit.text, footnotes=unit.footnotes, source=unit.source
                )
    return index


def turn_of(question: str, content: str, citations: dict[str, Citation]) -> Turn:
    """A turn for an assistant message this server cannot match: its text, and the units its citation lines name."""
    heading = _HEADINGS.search(content)
    text = content[: heading.start()] if heading else content
    cited = [citations[m["formal"]] for m in CITATION_LINE.finditer(content[heading.start():] if heading else "")
             if m["formal"] in citations]
    unique = tuple(dict.fromkeys(cited))
    return Turn(question=question, standalone=question, answer=text.strip(), citations=unique)
