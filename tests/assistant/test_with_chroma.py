"""The Assistant on the real UnitRetriever (Chroma in tmp_path, fake embedder): the two halves fit together."""

from __future__ import annotations

from resolution_qa.assistant import Assistant
from resolution_qa.core.settings import Settings


def test_reference_question_through_chroma(settings: Settings, chroma_retriever, make_model) -> None:
    model = make_model("It takes note of the report [S1]. The report is A/75/289 [S2].")
    assistant = Assistant(settings, backend="llamacpp", retriever=chroma_retriever, chat_model=model)
    answer = assistant.ask("What does paragraph 1 take note of?")
    assert answer.retrieved[:2] == ("OP1", "fn17")
    assert [c.id for c in answer.citations] == ["OP1", "fn17"]
    assert [c.label for c in answer.citations] == ["para. 1", "footnote 17"]


def test_ranked_question_cites_only_retrieved_units(settings: Settings, chroma_retriever, make_model) -> None:
    model = make_model("Les victimes ne doivent pas être poursuivies [S1]. Voir aussi [S4].")
    assistant = Assistant(settings.model_copy(update={"refusal_threshold": 0.0}), backend="llamacpp",
                          retriever=chroma_retriever, chat_model=model)
    answer = assistant.ask("victimes à l'abri de toutes poursuites pour des actes qu'elles ont été obligées de commettre")
    assert "OP27" in answer.retrieved
    assert answer.citations and {c.id for c in answer.citations} <= set(answer.retrieved)
    assert len(answer.retrieved) == 3


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
