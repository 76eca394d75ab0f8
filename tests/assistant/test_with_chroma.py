"""The Assistant on the real UnitRetriever (Chroma in tmp_path, fake embedder): the two halves fit together."""

from __future__ import annotations

from resolution_qa.assistant import Assistant
from resolution_qa.core.settings import Settings
from tests.fakes import ScriptedReader


def reading(settings: Settings, retriever, reader: ScriptedReader) -> Assistant:
    s = settings.model_copy(update={"min_support": -1.0})  # the fake embedder's closeness means nothing
    return Assistant(s, backend="llamacpp", retriever=retriever, reader=reader)


def test_reference_question_through_chroma(settings: Settings, chroma_retriever) -> None:
    reader = ScriptedReader("the report of the Secretary-General.")
    answer = reading(settings, chroma_retriever, reader).ask("What does paragraph 1 take note of?")
    assert answer.backend == "llamacpp" and not answer.refused
    assert answer.retrieved == ("OP1",)  # the named paragraph is the one kept (its footnote goes with it)
    assert [c.id for c in answer.citations] == ["OP1"] and [c.label for c in answer.citations] == ["para. 1"]
    assert [(n.id, n.label) for n in answer.footnotes] == [("fn17", "footnote 17")]
    assert [w[1] for w in reader.written] == ["A/RES/75/158#OP1@en"]  # written from its English rendering
    assert answer.text.split("\n")[0] == f"{reader.written[0][3]} the report of the Secretary-General."
    judged = reader.judged[0][1]
    assert judged[0] == "OP1" and "fn17" in judged  # the named paragraph first, its footnote among the candidates


def test_ranked_question_cites_only_retrieved_units(settings: Settings, chroma_retriever) -> None:
    reader = ScriptedReader("les victimes ne doivent pas être poursuivies.", "les États à agir.", scores={"OP27": 0.95})
    assistant = reading(settings.model_copy(update={"refusal_threshold": 0.0}), chroma_retriever, reader)
    answer = assistant.ask("victimes à l'abri de toutes poursuites pour des actes qu'elles ont été obligées de commettre")
    assert answer.backend == "llamacpp" and not answer.refused
    judged = reader.judged[0][1]
    assert "OP27" in judged and 1 < len(judged) <= 6  # the ranking, judged
    assert [c.id for c in answer.citations] == ["OP27"]  # the one passage the judge believes
    assert set(answer.retrieved) == {"OP27"} and {c.id for c in answer.citations} <= set(judged)


def test_out_of_range_through_chroma(settings: Settings, chroma_retriever) -> None:
    answer = Assistant(settings, retriever=chroma_retriever).ask("What does the 40th preambular paragraph say?")
    assert answer.refused and "38 preambular paragraphs" in answer.text


def test_follow_up_through_chroma(settings: Settings, chroma_retriever) -> None:
    assistant = Assistant(settings, retriever=chroma_retriever)
    first = assistant.ask("Que dit la note 33 ?")
    second = assistant.ask("Et la note suivante ?", [first])
    assert second.standalone == "Que dit la note 34 ?"
    assert second.citations[0].id == "fn34"
    assert second.language == "fr" and second.citations[0].label == "note 34"
