"""`resolution-qa feedback export`: ratings saved by the chat app come back as a loadable evaluation question set."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from resolution_qa.assistant.types import Answer
from resolution_qa.eval.dataset import load_dataset
from resolution_qa.ingest import Document
from resolution_qa.web.feedback import FeedbackStore, make_record, with_comment
from tests.fakes import cite_unit

SNAPSHOT = {"backend": "extractive", "k": 5}


def _answer(document: Document, question: str, text: str, *ids: str, lang: str = "fr", refused: bool = False) -> Answer:
    cited = tuple(cite_unit(document, uid, lang) for uid in ids)  # type: ignore[arg-type]
    return Answer(question=question, text=text, language=lang, refused=refused, backend="extractive",
                  citations=() if refused else cited, suggestions=cited if refused else ())


def test_ratings_round_trip_into_the_evaluation_format(document: Document, tmp_path: Path,
                                                       cli_main: Callable[..., tuple[int, str, str]]) -> None:
    store = FeedbackStore(tmp_path / "data" / "feedback.jsonl")
    first = _answer(document, "Que dit le paragraphe 27 ?",
                    "Selon le par. 27, les États doivent veiller à ce que les victimes ne soient pas poursuivies.", "OP27")
    follow = _answer(document, "What does it ask of States?", "Under para. 28, States should strengthen their "
                     "cooperation against trafficking.", "OP28", lang="en")
    refusal = _answer(document, "Quelle est la capitale du Pérou ?", "La résolution n'en parle pas.", "OP12",
                      refused=True)
    wrong = _answer(document, "Qui présente le rapport ?", "Le par. 3 en parle.", "OP3")
    also = _answer(document, "Que dit le texte sur la demande ?", "Le par. 33 du préambule en parle.", "PP33")
    silent = _answer(document, "Et les enfants ?", "Le par. 5 en parle.", "OP5")
    off_topic = _answer(document, "Que dit le texte sur le climat ?", "Le par. 9 en parle.", "OP9")
    vague = _answer(document, "Et le financement ?", "Le par. 40 en parle.", "OP40")

    up_first = make_record(first, [], "up", settings=SNAPSHOT)
    store.save(up_first)
    store.save(make_record(follow, [first], "up", settings=SNAPSHOT))
    store.save(make_record(refusal, [], "up", settings=SNAPSHOT))
    down = make_record(wrong, [], "down", settings=SNAPSHOT)
    store.save(down)
    store.save(with_comment(down, "Non : c'est le paragraphe 52 qui demande un rapport."))  # the same rating, amended
    store.save(make_record(also, [], "down", settings=SNAPSHOT, comment="Il faut citer aussi le par. 34 du préambule"))
    store.save(make_record(silent, [], "down", settings=SNAPSHOT))
    store.save(make_record(off_topic, [], "down", settings=SNAPSHOT, comment="Not in the resolution at all."))
    store.save(make_record(vague, [], "down", settings=SNAPSHOT, comment="Trop vague."))
    assert len(store.read()) == 8  # the amended rating is one record, its last version

    out = tmp_path / "from-users.jsonl"
    code, stdout, stderr = cli_main("feedback", "export", "--from", str(store.path), "--out", str(out))
    assert code == 0, stderr
    assert "6 item(s) from 8 rating(s)" in stderr
    skipped = [line for line in stderr.splitlines() if line.startswith("skipped")]
    assert len(skipped) == 2 and "without a comment" in skipped[0] and "names no paragraph" in skipped[1]

    items = {item.id: item for item in load_dataset(out, document=document).items}  # the eval loader accepts it
    kept = items[up_first.id]
    assert (kept.turns, kept.gold, kept.answerable, kept.type, kept.lang) == (
        ("Que dit le paragraphe 27 ?",), ("OP27",), True, "paragraph_ref", "fr")
    assert len(kept.must) == 1 and kept.must[0][0] in first.text.casefold()
    assert kept.must[0][0] in document.get("OP27").text.casefold()
    conversational = next(i for i in items.values() if i.type == "conversational")
    assert conversational.turns == ("Que dit le paragraphe 27 ?", "What does it ask of States?")
    assert conversational.gold == ("OP28",) and conversational.lang == "en"
    unanswerable = [i for i in items.values() if not i.answerable]
    assert sorted(i.turns[-1] for i in unanswerable) == ["Que dit le texte sur le climat ?",
                                                         "Quelle est la capitale du Pérou ?"]
    to_fix = items[down.id]
    assert to_fix.gold == ("OP52",) and to_fix.must == () and "paragraphe 52" in to_fix.note
    assert next(i for i in items.values() if i.turns == ("Que dit le texte sur la demande ?",)).gold == ("PP33", "PP34")


def test_export_to_stdout_and_filters(document: Document, tmp_path: Path,
                                      cli_main: Callable[..., tuple[int, str, str]]) -> None:
    store = FeedbackStore(tmp_path / "feedback.jsonl")
    answer = _answer(document, "What does paragraph 10 say?", "Paragraph 10 proclaims the World Day against "
                     "Trafficking in Persons.", "OP10", lang="en")
    store.save(make_record(answer, [], "up", settings=SNAPSHOT))
    code, stdout, _ = cli_main("feedback", "export", "--from", str(store.path))
    assert code == 0 and json.loads(stdout)["gold"] == ["OP10"]
    code, stdout, stderr = cli_main("feedback", "export", "--from", str(store.path), "--rating", "down")
    assert code == 0 and stdout == "" and "0 item(s) from 0 rating(s)" in stderr
    code, _, stderr = cli_main("feedback", "export", "--from", str(tmp_path / "none.jsonl"))
    assert code == 2 and "no feedback file" in stderr


def test_the_default_feedback_file_is_in_the_data_folder_and_private(tmp_path: Path,
                                                                      cli_main: Callable[..., tuple[int, str, str]],
                                                                      document: Document, monkeypatch) -> None:  # noqa: ANN001
    from resolution_qa.core.settings import Settings
    from resolution_qa.web.feedback import feedback_path

    settings = Settings(_env_file=None)
    assert feedback_path(settings) == settings.index_dir.parent / "feedback.jsonl"  # beside the index
    store = FeedbackStore(feedback_path(settings))
    store.save(make_record(_answer(document, "Que dit le par. 1 ?", "Le par. 1 en parle.", "OP1"), [], "up",
                           settings=SNAPSHOT))
    assert store.path.stat().st_mode & 0o777 == 0o600
    code, stdout, _ = cli_main("feedback", "export")
    assert code == 0 and json.loads(stdout)["gold"] == ["OP1"]
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"id": "x"}\n', encoding="utf-8")
    code, _, stderr = cli_main("feedback", "export", "--from", str(broken))
    assert code == 2 and f"{broken}:1: not a feedback record" in stderr
