"""The assistant over a corpus (real Chroma, bag-of-words embedder): symbols in citations and prompts, filters, refusals."""

from __future__ import annotations

import pytest

from resolution_qa.assistant import Assistant
from resolution_qa.assistant.types import Answer
from resolution_qa.core.errors import UnknownDocumentError
from resolution_qa.ingest import BUNDLED_PATH, parse_file
from resolution_qa.vectorstore import open_retriever
from tests.fakes import BagOfWordsEmbeddings
from tests.support import CORPUS


@pytest.fixture(scope="module")
def corpus_retriever(tmp_path_factory: pytest.TempPathFactory, bow_embeddings: BagOfWordsEmbeddings):
    from resolution_qa.core.settings import Settings

    settings = Settings(_env_file=None, index_dir=tmp_path_factory.mktemp("corpus-index"), backend="extractive")
    documents = [parse_file(BUNDLED_PATH), *(parse_file(p) for p in sorted(CORPUS.glob("*.txt")))]
    return open_retriever(settings, bow_embeddings, documents=documents)


@pytest.fixture
def build(settings, corpus_retriever, make_model):
    def make(*replies: str, **update: object) -> Assistant:
        s = settings.model_copy(update={"refusal_threshold": 0.05, **update})
        if not replies:
            return Assistant(s, backend="extractive", retriever=corpus_retriever)
        return Assistant(s, backend="llamacpp", retriever=corpus_retriever, chat_model=make_model(*replies))

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
    assert isinstance(final, Answer) and items[0] == final.text
    assert [c.formal for c in final.citations] == ["A/RES/75/902, par. 2", "A/RES/75/902, note 3"]
    with pytest.raises(UnknownDocumentError, match=r"A/RES/1/1 is not in the index \(indexed: A/RES/75/158, "):
        build().ask("par. 2", docs=["A/RES/1/1"])


def test_a_bare_reference_without_filter_shows_each_resolutions_paragraph(build) -> None:
    answer = build().ask("Que dit le par. 2 ?")
    paragraphs = [c.formal for c in answer.citations if c.id == "OP2"]
    assert paragraphs == ["A/RES/75/158, par. 2", "A/RES/75/901, par. 2", "A/RES/75/902, par. 2"]
    assert answer.text.startswith("Passages pertinents des résolutions (textes originaux, cités) :")


def test_the_prompt_says_which_resolution_each_source_comes_from(build) -> None:
    assistant = build("It asks States to reduce pollution [S1].")
    answer = assistant.ask("What does paragraph 1 of resolution 75/901 say?")
    human = assistant.chat_model.prompts[0][-1].content
    assert '<source tag="S1" resolution="A/RES/75/901" title="Protection of coral reefs' in human
    assert 'label="A/RES/75/901, para. 1"' in human
    assert answer.text == "It asks States to reduce pollution (A/RES/75/901, para. 1)."


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
