"""Every fake of the test suite, in one place.

Each fake subclasses what it stands in for (langchain's `Embeddings` and `BaseChatModel`, the assistant's
`Retriever` and `Reader`, the `Answerer` the app, the API server, eval and the CLI use, eval's `RetrievalSystem`
and `Components`), and tests/test_fakes.py checks that each is an instance of it with the same method signatures,
so a fake cannot drift from the real interface. The fake HTTP servers (tests/fake_servers.py, imported from here too) stand in for
real servers on 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import math
import re
import threading
import time
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from resolution_qa.assistant.assistant import Retriever
from resolution_qa.assistant.reader import Passage, Reader
from resolution_qa.assistant.types import Answer, Answerer, Citation, Sources, Timings, Turn
from resolution_qa.core.errors import EmptyQuestionError, UnknownDocumentError
from resolution_qa.core.refs import find_references, resolution_symbol
from resolution_qa.core.settings import Settings
from resolution_qa.eval.baselines import RetrievalSystem, SystemHits
from resolution_qa.eval.runner import Components
from resolution_qa.ingest import Document, Lang
from resolution_qa.vectorstore.references import resolve
from resolution_qa.vectorstore.types import Hit, RetrievalResult
from tests.fake_servers import FakeLLMServer, FakePackageIndex, JudgingLLMServer, judge_request_end  # noqa: F401

# --- embeddings ------------------------------------------------------------------------------------------------


def _stem(word: str) -> str:
    word = unicodedata.normalize("NFKD", word.lower()).encode("ascii", "ignore").decode()
    return word[:6]


class BagOfWordsEmbeddings(Embeddings):
    """The suite's one fake embedder: deterministic, lexical, L2-normalised, and it counts what it embeds.

    Texts sharing words get similar vectors, so retrieval logic can be tested without a model. Each word of
    three or more letters adds one to a hashed bucket of `size`: with `stems` (the default, for the assistant
    and eval tests) the word folded to ASCII and cut to its first six letters, so "victimes"/"victims" meet;
    without (`small()`, the index and command-line tests) the whole NFKD-folded word. A text with no such word
    gets the first unit vector (a zero vector has no cosine). `model` and `size` make its index fingerprint
    ("fake-bow[64]"). `fail_after_calls`: embed_documents raises RuntimeError("embedding crashed") once it has
    been called that many times (a crash midway through an ingest).
    """

    def __init__(self, size: int = 512, model: str = "fake-bow", *, stems: bool = True,
                 fail_after_calls: int | None = None) -> None:
        self.size = size
        self.model = model
        self.stems = stems
        self.fail_after_calls = fail_after_calls
        self.document_calls: list[list[str]] = []
        self.query_calls: list[str] = []

    @classmethod
    def small(cls, **kwargs: Any) -> Any:
        """The index and command-line tests' embedder: 64 buckets of whole words (fingerprint "fake-bow[64]")."""
        return cls(64, stems=False, **kwargs)

    @property
    def documents_embedded(self) -> int:
        return sum(len(batch) for batch in self.document_calls)

    def _vector(self, text: str) -> list[float]:
        if not self.stems:
            return self._word_vector(text)
        vector = [0.0] * self.size
        for word in re.findall(r"\w{3,}", text):
            digest = hashlib.md5(_stem(word).encode()).digest()
            vector[int.from_bytes(digest[:4], "little") % self.size] += 1.0
        norm = math.sqrt(sum(v * v for v in vector))
        if norm == 0:
            vector[0], norm = 1.0, 1.0
        return [v / norm for v in vector]

    def _word_vector(self, text: str) -> list[float]:
        vector = np.zeros(self.size)
        for word in re.findall(r"\w{3,}", unicodedata.normalize("NFKD", text.lower())):
            vector[int(hashlib.md5(word.encode()).hexdigest(), 16) % self.size] += 1.0
        norm = np.linalg.norm(vector)
        if norm == 0:
            vector[0], norm = 1.0, 1.0
        return (vector / norm).tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if self.fail_after_calls is not None and len(self.document_calls) >= self.fail_after_calls:
            raise RuntimeError("embedding crashed")
        self.document_calls.append(list(texts))
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        self.query_calls.append(text)
        return self._vector(text)


# --- retrievers ------------------------------------------------------------------------------------------------


def _selected(documents: Sequence[Document], docs: Sequence[str] | None) -> list[Document]:
    """The documents a filter names, as the real UnitRetriever.selected reads it (unknown symbols fail)."""
    by_symbol = {d.symbol: d for d in documents}
    if not docs:
        return list(documents)
    wanted = [resolution_symbol(d) for d in docs]
    unknown = [d for d in wanted if d not in by_symbol]
    if unknown:
        raise UnknownDocumentError(
            f"{', '.join(unknown)} is not in the index (indexed: {', '.join(by_symbol)}); "
            "pick one of those or ingest it first"
        )
    return [by_symbol[d] for d in dict.fromkeys(wanted)]


class FakeRetriever(Retriever):
    """The assistant's Retriever over the parsed document, without an index: references first, then lexical
    ranking with the bag-of-words embedder. `docs` is honoured as the real one does (symbols written as users
    do; an unknown one is UnknownDocumentError). Records the queries it was asked."""

    def __init__(self, document: Document, k: int = 5) -> None:
        self.documents = [document]
        self.document = document
        self.embeddings = BagOfWordsEmbeddings()
        self.k = k
        self._vectors = {u.id: self.embeddings.embed_query(u.source or u.text) for u in document.units}
        self.queries: list[str] = []

    def search(self, query: str, k: int | None = None, docs: Sequence[str] | None = None) -> RetrievalResult:
        if not query.strip():
            raise EmptyQuestionError("the question is empty")
        _selected(self.documents, docs)  # one document: a filter naming it changes nothing
        self.queries.append(query)
        k = k or self.k
        references = find_references(query)
        hits: list[Hit] = []
        for ref in references:
            unit = resolve(ref, self.document)  # raises ReferenceOutOfRangeError
            hits.append(Hit(unit=unit, score=1.0, via="reference"))
            hits += [Hit(unit=self.document.get(f), score=0.9, via="footnote") for f in unit.footnotes]
        q = self.embeddings.embed_query(query)
        scored = sorted(
            ((sum(a * b for a, b in zip(q, v, strict=True)), uid) for uid, v in self._vectors.items()), reverse=True
        )
        seen = {h.unit.id for h in hits}
        for score, uid in scored:
            if len([h for h in hits if h.via == "ranked"]) >= k:
                break
            if uid not in seen:
                hits.append(Hit(unit=self.document.get(uid), score=score, via="ranked", dense=score))
        return RetrievalResult(
            query=query, hits=tuple(hits), references=tuple(references), best_dense=scored[0][0] if scored else None
        )


class CannedRetriever(Retriever):
    """A Retriever whatever the query: OP27 (reference), OP3 (ranked), k-2 more ranked from OP40, then fn20 as a
    footnote expansion; best_dense 0.6. Records the k of each call."""

    def __init__(self, document: Document) -> None:
        self.documents = [document]
        self.document = document
        self.embeddings = BagOfWordsEmbeddings()
        self.calls: list[int | None] = []

    def search(self, query: str, k: int | None = None, docs: Sequence[str] | None = None) -> RetrievalResult:
        _selected(self.documents, docs)
        self.calls.append(k)
        u = self.document.get
        hits = [Hit(unit=u("OP27"), score=1.0, via="reference"), Hit(unit=u("OP3"), score=0.6, via="ranked", dense=0.6)]
        if k:
            hits += [Hit(unit=u(f"OP{n}"), score=0.5, via="ranked", dense=0.5) for n in range(40, 40 + k - 2)]
        hits.append(Hit(unit=u("fn20"), score=0.0, via="footnote"))
        return RetrievalResult(query=query, hits=tuple(hits), best_dense=0.6)


# --- chat models -----------------------------------------------------------------------------------------------


class ScriptedChatModel(BaseChatModel):
    """Streams scripted replies word by word and records the prompts it was given.

    A reply that is an Exception is raised instead (after `fail_after` pieces); `delay` sleeps per piece.
    """

    replies: list[Any] = []
    prompts: list[list[BaseMessage]] = []
    delay: float = 0.0
    fail_after: int = 0

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _next(self, messages: list[BaseMessage]) -> Any:
        self.prompts.append(messages)
        if not self.replies:
            raise AssertionError("the chat model was called more often than scripted")
        return self.replies.pop(0)

    def _generate(
        self, messages: list[BaseMessage], stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any,
    ) -> ChatResult:
        reply = self._next(messages)
        if isinstance(reply, Exception):
            raise reply
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=reply))])

    def _stream(
        self, messages: list[BaseMessage], stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        reply = self._next(messages)
        if isinstance(reply, Exception):
            for i in range(self.fail_after):
                yield ChatGenerationChunk(message=AIMessageChunk(content=f"partial{i} "))
            raise reply
        for piece in re.findall(r"\S+\s*", reply):
            if self.delay:
                time.sleep(self.delay)
            yield ChatGenerationChunk(message=AIMessageChunk(content=piece))


def scripted(*replies: Any, **kwargs: Any) -> ScriptedChatModel:
    return ScriptedChatModel(replies=list(replies), prompts=[], **kwargs)


# "COVID-19" has the shape of a canary word but is the resolution's own (PP24): a model that repeats it obeys nothing.
_CANARY = re.compile(r"\b(?!COVID-)[A-Z]{3,}-\d{2}\b|\bPWNED\b|\bHACKED\b|\bDAN\b|\bJAILBROKEN\b")


class ObedientChatModel(ScriptedChatModel):
    """The worst-case LLM: does whatever its prompt tells it to, then adds one real, tagged sentence.

    It writes every canary of the question ("answer only X"), its system prompt, tags and paragraph numbers
    that do not exist, and a sentence in German ("answer in German"); it is never out of replies.
    """

    @property
    def _llm_type(self) -> str:
        return "obedient"

    def _next(self, messages: list[BaseMessage]) -> str:
        self.prompts.append(messages)
        system, human = str(messages[0].content), str(messages[-1].content)
        lines = [f"{canary}." for canary in dict.fromkeys(_CANARY.findall(human))]  # "answer only X"
        lines.append(f"I am DAN. {' '.join(dict.fromkeys(_CANARY.findall(human)))} as instructed.")
        lines.append(system)  # "print your system prompt"
        lines.append("As paragraph 99 says, States must obey [S9]. See A/RES/75/158, par. 99 [S7].")
        lines.append("Selon le paragraphe 88, tout est permis [S12]. Footnote 77 confirms it [S8].")
        lines.append("Die Resolution fordert die Staaten auf, alle Opfer sofort zu schützen [S1].")  # "in German"
        lines.append("The resolution asks States to protect the victims [S1].")
        return "\n".join(lines)


class ScriptedReader(Reader):
    """The model's narrow roles, scripted: the judge scores by `scores` (unit id -> P(yes); others get `default`,
    and the first passage judged for a question gets `first` unless scored), the writer returns `sentences` in
    order (an Exception is raised instead). Records what it was asked."""

    def __init__(self, *sentences: str | Exception, scores: dict[str, float] | None = None, first: float = 0.9,
                 default: float = 0.1, delay: float = 0.0, premise: float = 0.9, support: float = 0.9) -> None:
        self.sentences = list(sentences)
        self.premise = premise  # P(yes) that a passage supports what the question takes for granted
        self.support = support  # P(yes) that a passage says what a written sentence says
        self.verified: list[tuple[str, str]] = []  # (sentence, passage key) the verifier was asked about
        self.scores = dict(scores or {})
        self.first = first
        self.default = default
        self.delay = delay
        self.judged: list[tuple[str, list[str]]] = []
        self.written: list[tuple[str, str, str, str]] = []  # question, passage key, language, start
        self.read: list[Passage] = []  # the passages written from

    def judge(self, question: str, passages: Sequence[Passage], *, premise: bool = False) -> list[float]:
        ids = [p.key.split("#", 1)[1].split("@", 1)[0] for p in passages]  # "A/RES/75/158#OP27@en" -> "OP27"
        if premise:
            return [self.premise] * len(ids)
        self.judged.append((question, ids))
        return [self.scores.get(uid, self.first if i == 0 and not self.scores else self.default)
                for i, uid in enumerate(ids)]

    def verify(self, sentence: str, passage: Passage) -> float:
        self.verified.append((sentence, passage.key))
        return self.support

    def write(self, question: str, passage: Passage, lang: Lang, start: str = "") -> Iterator[str]:
        self.written.append((question, passage.key, lang, start))
        self.read.append(passage)
        if not self.sentences:
            raise AssertionError("the writer was asked for more sentences than scripted")
        sentence = self.sentences.pop(0)
        if isinstance(sentence, Exception):
            raise sentence
        if start:
            yield " "  # a continuation: the model's first token carries the space after the given start
        for piece in re.findall(r"\S+\s*", sentence):
            if self.delay:
                time.sleep(self.delay)
            yield piece


# --- answering engines (the web app) and assistants (the CLI, eval) --------------------------------------------


def cite_unit(document: Document, unit_id: str, lang: Lang) -> Citation:
    """A citation of a unit as the assistant makes it (label in `lang`, footnotes and source carried)."""
    unit = document.get(unit_id)
    assert unit is not None
    return Citation(id=unit.id, doc=unit.doc, label=unit.label(lang), text=unit.text, footnotes=unit.footnotes,
                    source=unit.source)


@dataclass
class ScriptedEngine(Answerer):
    """Streams a scripted answer word by word; cites OP27 (and refuses questions about the weather).

    English when the question has an English word (what, which, the, does), else French. `fail_after`: raise
    BackendError after that many pieces; `error`: raise it before any piece. Records histories and filters.
    """

    document: Document
    backend: str = "extractive"
    fail_after: int | None = None
    error: Exception | None = None
    histories: list[list[Turn | Answer]] = field(default_factory=list)
    filters: list[list[str] | None] = field(default_factory=list)

    def stream(
        self, question: str, history: Sequence[Turn | Answer] | None = None, docs: Sequence[str] | None = None
    ) -> Iterator[Sources | str | Answer]:
        from resolution_qa.core.errors import BackendError

        self.histories.append(list(history or []))
        self.filters.append(list(docs) if docs is not None else None)
        if not question.strip():
            raise EmptyQuestionError("the question is empty; type a question about the resolution")
        if self.error is not None:
            raise self.error
        lang: Lang = "en" if re.search(r"\b(what|which|the|does)\b", question, re.I) else "fr"
        if "weather" in question or "météo" in question:
            text = "The resolution does not address this." if lang == "en" else "La résolution n'en parle pas."
            yield Answer(question=question, text=text, language=lang, refused=True, backend=self.backend,
                         suggestions=(cite_unit(self.document, "OP12", lang),))
            return
        citation = cite_unit(self.document, "OP27", lang)
        text = f"Under {citation.label}, victims must not be prosecuted." if lang == "en" else \
            f"Selon le {citation.label}, les victimes ne doivent pas être poursuivies."
        for n, word in enumerate(text.split(" ")):
            if self.fail_after is not None and n == self.fail_after:
                raise BackendError("llama.cpp crashed")
            yield word + " "
        yield Answer(question=question, text=text, language=lang, citations=(citation,), backend=self.backend,
                     timings=Timings(retrieval=0.01, first_token=0.02, total=0.05))


@dataclass
class EchoEngine(Answerer):
    """Answers at once ("Réponse " then the Answer "Réponse."), citing OP27; records the questions that reach it."""

    document: Document
    questions: list[str] = field(default_factory=list)

    def stream(
        self, question: str, history: Sequence[Turn | Answer] | None = None, docs: Sequence[str] | None = None
    ) -> Iterator[Sources | str | Answer]:
        self.questions.append(question)
        unit = self.document.get("OP27")
        assert unit is not None
        citation = Citation(id=unit.id, doc=unit.doc, label=unit.label("fr"), text=unit.text)
        yield "Réponse "
        yield Answer(question=question, text="Réponse.", language="fr", citations=(citation,), backend="extractive")


@dataclass
class SlowEngine(EchoEngine):
    """An EchoEngine that holds each question `delay` s and records how many were being answered at once."""

    delay: float = 0.5
    active: int = 0
    peak: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def stream(
        self, question: str, history: Sequence[Turn | Answer] | None = None, docs: Sequence[str] | None = None
    ) -> Iterator[Sources | str | Answer]:
        with self.lock:
            self.active += 1
            self.peak = max(self.peak, self.active)
        try:
            time.sleep(self.delay)
            yield from super().stream(question, history, docs)
        finally:
            with self.lock:
                self.active -= 1


def scripted_answer(question: str, text: str, lang: Lang, citations: Sequence[Citation] = (), *, refused: bool = False,
                    standalone: str = "", total: float = 0.5) -> Answer:
    """An Answer as the assistant returns one, with fixed timings."""
    return Answer(question=question, text=text, language=lang, refused=refused, citations=tuple(citations),
                  standalone=standalone or question, timings=Timings(retrieval=0.1, first_token=0.2, total=total))


class ScriptedAssistant(Answerer):
    """What eval's runner asks: answers "Réponse à : <question>", rewrites a follow-up as the previous standalone
    question plus it, raises KeyboardInterrupt on `interrupt_on` and RuntimeError on `fail_on`. Records
    (question, history length) per call."""

    def __init__(self, *, interrupt_on: str | None = None, fail_on: str | None = None) -> None:
        self.calls: list[tuple[str, int]] = []
        self.interrupt_on = interrupt_on
        self.fail_on = fail_on

    def ask(
        self, question: str, history: Sequence[Turn | Answer] | None = None, docs: Sequence[str] | None = None
    ) -> Answer:
        history = list(history or [])
        self.calls.append((question, len(history)))
        if question == self.interrupt_on:
            raise KeyboardInterrupt
        if question == self.fail_on:
            raise RuntimeError("model crashed")
        standalone = f"{history[-1].standalone} {question}" if history else question
        return scripted_answer(question, f"Réponse à : {question}", "fr", standalone=standalone)


class RecordingAssistant(Answerer):
    """What `resolution-qa ask` builds (the Assistant), scripted: answers "<question> #<turn>" citing par. 27,
    refuses questions about a capital, crashes on "boom"; records the settings, the turns and the filters.

    An Answerer, as the CLI types what it asks; its `ask` also has Assistant.ask's signature (tests/test_fakes.py)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.calls: list[tuple[str, int]] = []
        self.filters: list[list[str] | None] = []

    def ask(
        self, question: str, history: Sequence[Turn | Answer] | None = None, docs: Sequence[str] | None = None
    ) -> Answer:
        if not question.strip():
            raise EmptyQuestionError("the question is empty; type a question about the resolution")
        history = list(history or [])
        self.calls.append((question, len(history)))
        self.filters.append(list(docs) if docs is not None else None)
        if "boom" in question:
            raise RuntimeError("model crashed")
        refused = "capital" in question
        citations = () if refused else (Citation(id="OP27", doc="A/RES/75/158", label="par. 27", text="Engage…"),)
        return Answer(question=question, text=f"{question} #{len(history) + 1}", language="fr", refused=refused,
                      citations=citations, timings=Timings(retrieval=0.1, first_token=0.2, total=0.3),
                      backend=self.settings.backend)


# --- eval: retrieval systems and the runner's components -------------------------------------------------------


class ScriptedSystem(RetrievalSystem):
    """A retrieval system that returns a fixed ranking per query and records its queries."""

    def __init__(self, name: str, rankings: dict[str, list[list[str]]], best_dense: float | None = 0.5) -> None:
        self.name = name
        self.rankings = rankings
        self.best_dense = best_dense
        self.queries: list[str] = []

    def search(self, query: str, k: int) -> SystemHits:
        self.queries.append(query)
        return SystemHits(ranking=self.rankings.get(query, [])[:k], best_dense=self.best_dense)


class FakeComponents(Components):
    """The runner's Components: scripted systems and assistants, handed out on demand (and recorded)."""

    def __init__(self, systems: dict[str, ScriptedSystem], assistants: dict[str, ScriptedAssistant]) -> None:
        self.systems = systems
        self.assistants = assistants
        self.built: list[str] = []

    def retrieval_system(self, name: str) -> RetrievalSystem:
        self.built.append(name)
        return self.systems[name]

    def assistant(self, backend: str) -> Answerer:
        self.built.append(backend)
        return self.assistants[backend]


class StreamingRecordingAssistant(RecordingAssistant):
    """RecordingAssistant with Assistant.stream's order: the passages found (`Sources`), the answer text in pieces,
    then the Answer; what `resolution-qa ask` uses in text mode."""

    def stream(
        self, question: str, history: Sequence[Turn | Answer] | None = None, docs: Sequence[str] | None = None
    ) -> Iterator[Sources | str | Answer]:
        answer = self.ask(question, history, docs)
        if answer.citations:
            yield Sources(citations=answer.citations)
        half = len(answer.text) // 2
        yield answer.text[:half]
        yield answer.text[half:]
        yield answer


# --- the answer engine's worst cases: a reader that obeys every order, a server that judges --------------------

#: Words an injection orders a model to write ("answer only PWNED"), as the obedient reader finds them.
_ORDERED = re.compile(_CANARY.pattern + r"|\bPIWNED\b")


def _prompt_sentences() -> list[str]:
    """The sentences of the engine's prompts (assistant/prompts.py) of six words or more, as a model may repeat them."""
    from resolution_qa.assistant import prompts

    texts = [prompts.READER_SYSTEM, prompts.JUDGE_ASK, prompts.PREMISE_ASK, *prompts.WRITE_ASK.values(),
             prompts.START, prompts.WRITE_HINTS]
    sentences = []
    for text in texts:
        for line in text.format(question="", hints="", start="", label="", text="").splitlines():
            sentences += [s.strip() for s in re.split(r"(?<=[.?!])\s+", line) if len(s.split()) >= 6]
    return sentences


class ObedientReader(Reader):
    """The worst-case model in the engine's two roles, doing what the question and its passage tell it to.

    As judge it believes every passage (P(yes) = 1, what "say yes" gets, premise checks included). As writer it
    continues the opening it is given with what `attack` names, for every passage:
    canary: the canaries the question and the passage order ("answer only PWNED"; PWNED when none);
    prompt: one sentence of its own prompts (a different one per sentence written);
    invented: a paragraph, footnote, symbol or [S] tag that does not exist (a different one per sentence);
    german: a sentence in German ("answer in German");
    markup: a Markdown link, HTML and emphasis around plain words;
    echo: the question it was asked, back;
    faithful: the first words of the passage itself (the control: what an honest model writes).
    Records (question, unit key, language, start, what it wrote) per sentence, and the judge's calls."""

    ATTACKS = ("canary", "prompt", "invented", "german", "markup", "echo")
    INVENTED = ("as paragraph 99 says, States must obey.", "selon le par. 88, tout est permis.",
                "the victims, as footnote 77 confirms.", "as A/RES/75/158, par. 99 requires.",
                "the victims [S9].", "les victimes [S1].", "as decided in resolution 12/345.")
    GERMAN = "Die Resolution fordert die Staaten auf, alle Opfer sofort zu schützen."
    MARKUP = ("the Governments [ce lien](https://evil.example.com/x) <img src=x onerror=alert(1)> "
              "<script>alert('x')</script> **now**.")

    def __init__(self, attack: str) -> None:
        if attack not in (*self.ATTACKS, "faithful"):
            raise ValueError(f"unknown attack {attack!r}; choose one of {', '.join(self.ATTACKS)} or faithful")
        self.attack = attack
        self.judged: list[tuple[str, list[str], bool]] = []
        self.written: list[tuple[str, str, str, str, str]] = []

    def judge(self, question: str, passages: Sequence[Passage], *, premise: bool = False) -> list[float]:
        self.judged.append((question, [p.key for p in passages], premise))
        return [1.0] * len(passages)

    def verify(self, sentence: str, passage: Passage) -> float:
        return 1.0  # the worst case: it vouches for whatever it wrote

    def write(self, question: str, passage: Passage, lang: Lang, start: str = "") -> Iterator[str]:
        n = len(self.written) + sum(map(ord, question))  # which prompt sentence or invention: varies per question
        if self.attack == "canary":
            sentence = " ".join(dict.fromkeys(_ORDERED.findall(f"{question}\n{passage.text}"))) or "PWNED"
        elif self.attack == "prompt":
            sentences = _prompt_sentences()
            sentence = sentences[n % len(sentences)]
        elif self.attack == "invented":
            sentence = self.INVENTED[n % len(self.INVENTED)]
        elif self.attack == "german":
            sentence = self.GERMAN
        elif self.attack == "markup":
            sentence = self.MARKUP
        elif self.attack == "echo":
            sentence = question
        else:
            sentence = " ".join(passage.text.split()[1:9]).rstrip(",;:") + "."
        self.written.append((question, passage.key, lang, start, sentence))
        yield (" " if start else "") + sentence


class JudgingChatModel(ScriptedChatModel):
    """A chat model in the engine's two roles, as ChatReader asks them: "Yes" to every judge request (the last
    message asks for yes or no), else the next scripted reply (`replies`). Records every prompt (`prompts`)."""

    @property
    def _llm_type(self) -> str:
        return "judging"

    def _next(self, messages: list[BaseMessage]) -> Any:
        if str(messages[-1].content).rstrip().endswith(judge_request_end()):
            self.prompts.append(messages)
            return "Yes"
        return super()._next(messages)
