"""The assistant over a corpus (real Chroma, bag-of-words embedder): symbols in citations and prompts, filters, refusals."""

from __future__ import annotations

import pytest

from resolution_qa.assistant import Assistant
from resolution_qa.assistant.types import Answer
from resolution_qa.core.errors import UnknownDocumentError
from resolution_qa.ingest import BUNDLED_PATH, parse_file
from resolution_qa.vectorstore import open_retriever
from tests.fakes import BagOfWordsEmbeddings, JudgingChatModel, ScriptedReader
from tests.support import CORPUS


@pytest.fixture(scope="module")
def corpus_retriever(tmp_path_factory: pytest.TempPathFactory, bow_embeddings: BagOfWordsEmbeddings):
    from resolution_qa.core.settings import Settings

    settings = Settings(_env_file=None, index_dir=tmp_path_factory.mktemp("corpus-index"), backend="extractive")
    documents = [parse_file(BUNDLED_PATH), *(parse_file(p) for p in sorted(CORPUS.glob("*.txt")))]
    return open_retriever(settings, bow_embeddings, documents=documents)


@pytest.fixture
def build(settings, corpus_retriever):
    """build() is extractive; build("sentence", ...) reads with a ScriptedReader (the judge believes the first
    passage, the writer says the sentences in order); build(chat_model=...) reads through ChatReader."""

    def make(*sentences: str, chat_model=None, **update: object) -> Assistant:  # noqa: ANN001
        s = settings.model_copy(update={"refusal_threshold": 0.05, "min_support": -1.0, **update})
        if chat_model is not None:
            return Assistant(s, backend="llamacpp", retriever=corpus_retriever, chat_model=chat_model)
        if not sentences:
            return Assistant(s, backend="extractive", retriever=corpus_retriever)
        return Assistant(s, backend="llamacpp", retriever=corpus_retriever, reader=ScriptedReader(*sentences))

    return make


def test_a_named_paragraph_is_cited_with_its_symbol(build) -> None:
    answer = build().ask("Que dit le par. 2 de la résolution 75/902 ?")
    assert [(c.doc, c.id, c.label) for c in answer.citations] == [
        ("A/RES/75/902", "OP2", "A/RES/75/902, par. 2"), ("A/RES/75/902", "fn3", "A/RES/75/902, note 3")  # + its footnote
    ]
    assert "(A/RES/75/902, par. 2)" in answer.text
    assert answer.text.startswith("Passages pertinents de la résolution :")  # the quoted text is French
    english = build().ask("What does paragraph 3 of resolution 75/901 say?")
    assert [c.formal for c in english.citations] == ["A/RES/75/901, para. 3"]
    assert english.text.startswith("Relevant passages of the resolution:")  # English text: no "French text" note


def test_the_filter_limits_answers_to_its_documents(build) -> None:
    question = "What does the resolution ask about protecting victims and coastlines?"
    for docs in (["A/RES/75/901"], ["75/158"]):
        answer = build().ask(question, docs=docs)
        expected = "A/RES/75/901" if "901" in docs[0] else "A/RES/75/158"
        assert answer.citations and {c.doc for c in answer.citations} == {expected}
    items = list(build().stream("Que dit le par. 2 ?", None, docs=["A/RES/75/902"]))
    final = items[-1]
    assert isinstance(final, Answer) and items[1] == final.text
    assert {c.doc for c in items[0].citations} == {"A/RES/75/902"}  # the passages shown first, filtered too
    assert [c.formal for c in final.citations] == ["A/RES/75/902, par. 2", "A/RES/75/902, note 3"]
    with pytest.raises(UnknownDocumentError, match=r"A/RES/1/1 is not in the index \(indexed: A/RES/75/158, "):
        build().ask("par. 2", docs=["A/RES/1/1"])


def test_a_bare_reference_without_filter_shows_each_resolutions_paragraph(build) -> None:
    answer = build().ask("Que dit le par. 2 ?")
    paragraphs = [c.formal for c in answer.citations if c.id == "OP2"]
    assert paragraphs == ["A/RES/75/158, par. 2", "A/RES/75/901, par. 2", "A/RES/75/902, par. 2"]
    assert answer.text.startswith("Passages pertinents des résolutions (textes originaux, cités) :")


def test_the_writer_is_told_which_resolution_its_passage_comes_from(build) -> None:
    """In a corpus the sentence begins with the symbol and label code gives it (the model only continues), the
    passage it reads is that resolution's paragraph, and the answer cites it with its symbol."""
    model = JudgingChatModel(replies=["it asks States to reduce pollution."], prompts=[])
    answer = build(chat_model=model).ask("What does paragraph 1 of resolution 75/901 say?")
    assert answer.backend == "llamacpp" and [c.formal for c in answer.citations] == ["A/RES/75/901, para. 1"]
    write = [str(m[-1].content) for m in model.prompts if "Begin the sentence with" in str(m[-1].content)]
    assert len(write) == 1
    op1 = parse_file(sorted(CORPUS.glob("*.txt"))[0]).get("OP1")
    assert op1 is not None and op1.doc == "A/RES/75/901"
    assert write[0].startswith(f"Passage (para. 1):\n{op1.text}")
    start = write[0].rsplit('Begin the sentence with "', 1)[1].removesuffix('".')
    assert start.startswith("A/RES/75/901, para. 1") or start.startswith("According to A/RES/75/901, para. 1")
    said = answer.text.split("\n")[0]
    assert said.startswith(start) and said.endswith("it asks States to reduce pollution.")
    assert "(A/RES/75/901, para. 1)" in answer.text  # the passage quoted under its symbol
    scripted = build("it asks States to reduce pollution.")
    scripted.ask("What does paragraph 1 of resolution 75/901 say?")
    assert scripted.reading.reader.written[0][1:3] == ("A/RES/75/901#OP1", "en")


def test_a_bare_reference_read_by_a_model_names_each_resolution(build) -> None:
    """Par. 2 of each resolution is kept (named); the model writes for the first two, each sentence begins with its
    own resolution's label, and every paragraph is quoted under its symbol."""
    assistant = build("les États à agir.", "les États à coopérer.")
    answer = assistant.ask("Que dit le par. 2 ?")
    assert answer.backend == "llamacpp" and not answer.refused
    assert [c.formal for c in answer.citations] == ["A/RES/75/158, par. 2", "A/RES/75/901, par. 2",
                                                    "A/RES/75/902, par. 2"]
    written = assistant.reading.reader.written
    assert [w[1] for w in written] == ["A/RES/75/158#OP2", "A/RES/75/901#OP2"]
    said = answer.text.split("\n")[0]
    for (_, key, _, start), sentence in zip(written, ("les États à agir.", "les États à coopérer."), strict=True):
        symbol = key.split("#")[0]
        assert f"{symbol}, par. 2" in start and f"{start} {sentence}" in said
    for citation in answer.citations:
        assert answer.text.count(f"({citation.formal})") == 1  # its quoted passage, under its symbol


def test_refusals_and_out_of_range_name_the_right_documents(build) -> None:
    refusing = build(refusal_threshold=0.99)
    everything = refusing.ask("What is the capital of France?")
    assert everything.refused and everything.text.startswith(
        "The indexed resolutions (A/RES/75/158, A/RES/75/901, A/RES/75/902) do not address this question"
    )
    one = refusing.ask("What is the capital of France?", docs=["75/901"])
    assert one.text.startswith("Resolution A/RES/75/901 does not address this question")
    named = build().ask("What does paragraph 9 of resolution 75/901 say?")
    assert named.refused and named.text == "Resolution A/RES/75/901 has 4 operative paragraphs; there is no paragraph 9."
    none = build().ask("Que dit le paragraphe 60 ?")
    assert none.text == "Aucune des résolutions A/RES/75/158, A/RES/75/901, A/RES/75/902 n'a de paragraphe 60."


def test_a_follow_up_stays_in_the_resolution_of_the_previous_answer(build) -> None:
    assistant = build()
    first = assistant.ask("Que dit le par. 2 de la résolution 75/902 ?")
    second = assistant.ask("Et le paragraphe suivant ?", [first])
    assert second.standalone == "Que dit le par. 3 de la résolution A/RES/75/902 ?"
    assert [c.formal for c in second.citations] == ["A/RES/75/902, par. 3"]
    english = assistant.ask("What does paragraph 2 of resolution 75/901 say?")
    note = assistant.ask("What does that footnote say?", [english])
    assert [c.formal for c in note.citations] == ["A/RES/75/901, footnote 3", "A/RES/75/901, para. 2"]  # + its referrer
    # A follow-up leaning on the previous question is answered from the resolution that answer cited.
    more = assistant.ask("And what does it say about its monitoring?", [english])
    assert more.citations and {c.doc for c in more.citations} == {"A/RES/75/901"}
