"""Fixtures of the eval tests: a tiny hand-made question set, scripted systems and assistants, a fake embedder."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest
from langchain_core.embeddings import Embeddings

from resolution_qa.assistant.types import Answer, Citation, Timings
from resolution_qa.eval.baselines import SystemHits
from resolution_qa.eval.dataset import EvalItem
from resolution_qa.eval.predictions import AnswerPrediction, RetrievalPrediction, RunConfig
from resolution_qa.ingest import Document
from resolution_qa.ingest.units import Lang

#: Four items on the bundled resolution; test_scoring.py computes their scores by hand.
TINY_ITEMS = [
    {"id": "t-1", "lang": "fr", "turns": ["Que dit la résolution sur les poursuites ?"], "answerable": True,
     "gold": ["OP27"], "must": [["poursuite", "prosecut"]], "type": "lookup", "note": "OP27"},
    {"id": "t-2", "lang": "en", "turns": ["Which paragraphs mention forced labour?"], "answerable": True,
     "gold": ["PP1", "OP5", "fn1"], "must": [["travail"], ["forcé", "forced"]], "type": "list", "note": "three"},
    {"id": "t-3", "lang": "en", "turns": ["What does the resolution say about cryptocurrencies?"], "answerable": False,
     "gold": [], "must": [], "type": "unanswerable", "note": "not in the text"},
    {"id": "t-4", "lang": "fr", "turns": ["Parle-moi de la Journée mondiale.", "Et son objectif ?"], "answerable": True,
     "gold": ["OP10"], "must": [["sensibilisation"]], "type": "conversational", "note": "OP10"},
]


@pytest.fixture
def tiny_items() -> list[EvalItem]:
    return [EvalItem.model_validate(raw) for raw in TINY_ITEMS]


@pytest.fixture
def tiny_dataset(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.jsonl"
    path.write_text("".join(json.dumps(raw, ensure_ascii=False) + "\n" for raw in TINY_ITEMS), encoding="utf-8")
    return path


def make_config(items: Sequence[EvalItem], systems: Sequence[str] = ("ours", "bm25"),
                backends: Sequence[str] = ("extractive",)) -> RunConfig:
    return RunConfig(dataset="tiny.jsonl", dataset_sha256="0" * 64, item_ids=[i.id for i in items],
                     systems=list(systems), backends=list(backends), k=5, refusal_threshold=0.4,
                     lexical_weight=0.0, embedding_model="fake")


def cite(document: Document, uid: str, lang: Lang, *, label: str | None = None) -> Citation:
    unit = document.get(uid)
    assert unit is not None
    return Citation(id=uid, doc=document.symbol, label=label or unit.label(lang), text=unit.text)


def answer(question: str, text: str, lang: Lang, citations: Sequence[Citation] = (), *, refused: bool = False,
           standalone: str = "", total: float = 0.5) -> Answer:
    return Answer(question=question, text=text, language=lang, refused=refused, citations=tuple(citations),
                  standalone=standalone or question, timings=Timings(retrieval=0.1, first_token=0.2, total=total))


def _ranked(item_id: str, system: str, ranking: list[list[str]], *, best: float | None, context: list[str] | None = None,
            error: str | None = None) -> RetrievalPrediction:
    return RetrievalPrediction(item_id=item_id, system=system, query="q", query_source="question", ranking=ranking,
                               context=context or [], best_dense=best, seconds=0.01, error=error)


@pytest.fixture
def tiny_predictions(document: Document, tiny_items: list[EvalItem]) -> list[RetrievalPrediction | AnswerPrediction]:
    t1, t2, t3, t4 = tiny_items
    return [
        # ours: t-1 gold OP27 at rank 2; t-2 gold {PP1, OP5, fn1}: OP5 at 1, fn1 at 3, PP1 at 6; t-4: nothing
        _ranked("t-1", "ours", [["OP3"], ["OP27"], ["OP28"]], best=0.62, context=["OP3", "OP27", "fn20"]),
        _ranked("t-2", "ours", [["OP5"], ["PP2"], ["fn1"], ["PP3"], ["PP4"], ["PP1"]], best=0.55,
                context=["OP5", "PP2", "fn1", "PP3", "PP4", "fn2"]),
        _ranked("t-3", "ours", [["OP1"]], best=0.30),
        _ranked("t-4", "ours", [], best=None, error="ReferenceOutOfRangeError: no paragraph 60"),
        AnswerPrediction(item_id="t-1", backend="extractive", answers=[answer(
            t1.question, "La résolution engage instamment les États à la poursuite des auteurs.", "fr",
            [cite(document, "OP27", "fr"), cite(document, "OP3", "fr")])]),
        AnswerPrediction(item_id="t-2", backend="extractive", answers=[answer(
            t2.question, "La résolution ne traite pas de cette question.", "fr", refused=True)]),
        AnswerPrediction(item_id="t-3", backend="extractive", answers=[answer(
            t3.question, "The resolution does not address cryptocurrencies.", "en", refused=True)]),
        AnswerPrediction(item_id="t-4", backend="extractive", answers=[
            answer(t4.turns[0], "La Journée mondiale est proclamée au par. 10.", "fr"),
            answer(t4.question, "Son objectif est défini dans la résolution, voir A/RES/75/158, par. 60.", "fr",
                   [cite(document, "OP10", "fr", label="para. 10")]),
        ]),
    ]


class ScriptedSystem:
    """A retrieval system that returns a fixed ranking per query and counts its calls."""

    def __init__(self, name: str, rankings: dict[str, list[list[str]]], best_dense: float | None = 0.5) -> None:
        self.name = name
        self.rankings = rankings
        self.best_dense = best_dense
        self.queries: list[str] = []

    def search(self, query: str, k: int) -> SystemHits:
        self.queries.append(query)
        return SystemHits(ranking=self.rankings.get(query, [])[:k], best_dense=self.best_dense)


class ScriptedAssistant:
    """Answers with a canned text, rewrites follow-ups, and can be told to fail on a question."""

    def __init__(self, *, interrupt_on: str | None = None, fail_on: str | None = None) -> None:
        self.calls: list[tuple[str, int]] = []
        self.interrupt_on = interrupt_on
        self.fail_on = fail_on

    def ask(self, question: str, history: list[Answer] | None = None) -> Answer:
        self.calls.append((question, len(history or [])))
        if question == self.interrupt_on:
            raise KeyboardInterrupt
        if question == self.fail_on:
            raise RuntimeError("model crashed")
        standalone = f"{history[-1].standalone} {question}" if history else question
        return answer(question, f"Réponse à : {question}", "fr", standalone=standalone)


class FakeComponents:
    """Components for the runner: scripted systems and assistants, built on demand (and counted)."""

    def __init__(self, systems: dict[str, ScriptedSystem], assistants: dict[str, ScriptedAssistant]) -> None:
        self.systems = systems
        self.assistants = assistants
        self.built: list[str] = []

    def retrieval_system(self, name: str) -> ScriptedSystem:
        self.built.append(name)
        return self.systems[name]

    def assistant(self, backend: str) -> ScriptedAssistant:
        self.built.append(backend)
        return self.assistants[backend]


class BagOfWordsEmbeddings(Embeddings):
    """A deterministic fake embedder: hashed word counts, so shared words mean similar vectors."""

    def _vector(self, text: str) -> list[float]:
        v = np.zeros(512)
        for word in re.findall(r"\w+", text.lower()):
            v[int(hashlib.md5(word.encode()).hexdigest(), 16) % 512] += 1.0
        return (v / (np.linalg.norm(v) or 1.0)).tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)


@pytest.fixture
def bow_embeddings() -> BagOfWordsEmbeddings:
    return BagOfWordsEmbeddings()


@pytest.fixture
def cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    """The real command line in a subprocess, as a user runs it."""

    def run(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "resolution_qa", *args], capture_output=True, text=True,
                              timeout=timeout)

    return run
