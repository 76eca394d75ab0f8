"""The fakes (tests/fakes.py) cannot drift: each subclasses what it stands in for, is an instance of it, and its
methods have the same signatures as the real interface's; every fake there is listed here."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel

import tests.fakes
from resolution_qa.assistant.assistant import Assistant, Retriever
from resolution_qa.assistant.reader import Reader
from resolution_qa.assistant.types import Answerer
from resolution_qa.core.errors import UnknownDocumentError
from resolution_qa.core.settings import Settings
from resolution_qa.eval.baselines import RetrievalSystem
from resolution_qa.eval.runner import Components
from resolution_qa.ingest import Document
from tests.fakes import (
    BagOfWordsEmbeddings,
    CannedRetriever,
    EchoEngine,
    FakeComponents,
    FakeRetriever,
    JudgingChatModel,
    ObedientChatModel,
    ObedientReader,
    RecordingAssistant,
    ScriptedAssistant,
    ScriptedChatModel,
    ScriptedEngine,
    ScriptedReader,
    ScriptedSystem,
    SlowEngine,
    StreamingRecordingAssistant,
)

#: (fake, what it stands in for)
FAKES: list[tuple[type, type]] = [
    (BagOfWordsEmbeddings, Embeddings),
    (ScriptedChatModel, BaseChatModel),
    (ObedientChatModel, BaseChatModel),
    (JudgingChatModel, BaseChatModel),
    (FakeRetriever, Retriever),
    (CannedRetriever, Retriever),
    (ScriptedReader, Reader),
    (ObedientReader, Reader),
    (ScriptedSystem, RetrievalSystem),
    (FakeComponents, Components),
    (ScriptedAssistant, Answerer),
    (RecordingAssistant, Answerer),
    (StreamingRecordingAssistant, Answerer),
    (ScriptedEngine, Answerer),
    (EchoEngine, Answerer),
    (SlowEngine, Answerer),
]
#: Fakes that also stand in for the concrete Assistant (what `resolution-qa ask` builds): the methods named are compared.
CONCRETE: list[tuple[type, type, tuple[str, ...]]] = [
    (RecordingAssistant, Assistant, ("ask",)),
    (StreamingRecordingAssistant, Assistant, ("ask", "stream")),
]
#: Classes of tests/fakes.py that stand in for no interface of the product: servers on 127.0.0.1.
NOT_FAKES = frozenset({"_Server", "FakeLLMServer", "JudgingLLMServer", "FakePackageIndex"})


def _instance(fake: type, document: Document) -> Any:
    if fake is BagOfWordsEmbeddings:
        return fake()
    if fake in (ScriptedChatModel, ObedientChatModel, JudgingChatModel):
        return fake(replies=[], prompts=[])
    if fake is ScriptedReader:
        return fake()
    if fake is ObedientReader:
        return fake("faithful")
    if fake is ScriptedSystem:
        return fake("ours", {})
    if fake is ScriptedAssistant:
        return fake()
    if fake is FakeComponents:
        return fake({}, {})
    if fake in (RecordingAssistant, StreamingRecordingAssistant):
        return fake(Settings(_env_file=None))
    return fake(document)


def _interface(real: type) -> set[str]:
    """The methods a fake must provide: a protocol's own methods, or an abstract base class's abstract ones."""
    if getattr(real, "_is_protocol", False):
        return {name for name, value in vars(real).items() if callable(value) and not name.startswith("__")}
    return set(getattr(real, "__abstractmethods__", ()))


def _annotation(value: Any) -> str:
    return value if isinstance(value, str) else inspect.formatannotation(value)


def _shape(function: Any) -> tuple:
    """A signature as comparable data: each parameter's name, kind, default and annotation, and the return."""
    signature = inspect.signature(function)
    return (
        tuple((p.name, p.kind, p.default, _annotation(p.annotation)) for p in signature.parameters.values()),
        _annotation(signature.return_annotation),
    )


def _compared(fake: type, real: type) -> set[str]:
    """The interface, and every other method the fake defines that the real class also has."""
    own = {name for name, value in vars(fake).items() if callable(value) and not name.startswith("__")}
    return _interface(real) | {name for name in own if callable(getattr(real, name, None))}


@pytest.mark.parametrize(("fake", "real"), FAKES, ids=lambda t: t.__name__)
def test_each_fake_subclasses_and_is_an_instance_of_what_it_stands_in_for(fake: type, real: type,
                                                                          document: Document) -> None:
    assert real in fake.__mro__
    assert isinstance(_instance(fake, document), real)  # protocols are runtime_checkable: members are checked too


@pytest.mark.parametrize(("fake", "real"), FAKES, ids=lambda t: t.__name__)
def test_each_fake_has_the_signatures_of_what_it_stands_in_for(fake: type, real: type) -> None:
    names = _compared(fake, real)
    assert names, f"nothing to compare between {fake.__name__} and {real.__name__}"
    for name in sorted(names):
        fake_method = inspect.getattr_static(fake, name)
        real_method = inspect.getattr_static(real, name)
        if isinstance(real_method, property):
            assert isinstance(fake_method, property), (fake.__name__, name)
            continue
        assert _shape(getattr(fake, name)) == _shape(getattr(real, name)), f"{fake.__name__}.{name} has drifted"


@pytest.mark.parametrize(("fake", "real", "names"), CONCRETE, ids=lambda t: getattr(t, "__name__", ""))
def test_a_fake_of_a_concrete_class_has_its_signatures(fake: type, real: type, names: tuple[str, ...]) -> None:
    for name in names:
        assert _shape(getattr(fake, name)) == _shape(getattr(real, name)), f"{fake.__name__}.{name} has drifted"


def test_every_fake_is_checked() -> None:
    defined = {name: value for name, value in vars(tests.fakes).items()
               if isinstance(value, type) and value.__module__ == tests.fakes.__name__}
    checked = {fake.__name__ for fake, _ in FAKES}
    assert set(defined) - NOT_FAKES - checked == set(), "a fake missing from FAKES"


def test_the_assistant_is_the_answerer_the_edges_use() -> None:
    assert issubclass(Assistant, Answerer)
    for name in ("ask", "stream"):
        assert _shape(getattr(Assistant, name)) == _shape(getattr(Answerer, name)), name


def test_the_fake_retriever_reads_a_document_filter_as_the_real_one(document: Document, chroma_retriever) -> None:
    fake = FakeRetriever(document)
    for docs in (["A/RES/75/158"], ["75/158"], ["a/res/75/158"]):
        assert fake.search("Que dit le paragraphe 27 ?", docs=docs) == fake.search("Que dit le paragraphe 27 ?")
    with pytest.raises(UnknownDocumentError) as real:
        chroma_retriever.search("par. 2", docs=["A/RES/1/1"])
    with pytest.raises(UnknownDocumentError) as faked:
        fake.search("par. 2", docs=["A/RES/1/1"])
    assert str(faked.value) == str(real.value)


def test_the_fake_embedder_is_deterministic_and_counts(document: Document) -> None:
    fake = BagOfWordsEmbeddings(size=64)
    texts = [u.text for u in document.units[:5]]
    assert fake.embed_documents(texts) == BagOfWordsEmbeddings(size=64).embed_documents(texts)
    assert fake.documents_embedded == 5 and fake.document_calls == [texts]
    assert fake.embed_query("?") == [1.0] + [0.0] * 63  # no word: the first unit vector, never a zero vector
    failing = BagOfWordsEmbeddings(fail_after_calls=1)
    failing.embed_documents(["a text"])
    with pytest.raises(RuntimeError, match="embedding crashed"):
        failing.embed_documents(["another text"])
