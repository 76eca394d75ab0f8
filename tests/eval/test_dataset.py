"""The question-set loader: the bundled splits load, and a bad line is named by file and line number."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from resolution_qa.core.errors import DatasetError
from resolution_qa.eval.dataset import CALIBRATION_PATH, DATA_DIR, DEV_PATH, HELDOUT_PATH, load_dataset
from resolution_qa.ingest import Document
from tests.support import TINY_ITEMS


def test_bundled_splits_load_and_do_not_overlap(document: Document) -> None:
    dev = load_dataset(DEV_PATH, document=document)
    heldout = load_dataset(HELDOUT_PATH, document=document)
    assert (len(dev), len(heldout)) == (120, 83)
    assert not {i.id for i in dev.items} & {i.id for i in heldout.items}
    assert not {i.question for i in dev.items} & {i.question for i in heldout.items}
    unanswerable = [i for i in (*dev.items, *heldout.items) if not i.answerable]
    assert len(unanswerable) == 23  # 22 "unanswerable" + the "paragraphe 60" adversarial item (README)
    assert Counter(i.type for i in unanswerable)["unanswerable"] == 22


def test_calibration_split_loads_with_its_kinds(document: Document) -> None:
    """calibration.jsonl (README "Calibration split"): a dev split of unanswerable, false-premise and near-miss items."""
    calibration = load_dataset(CALIBRATION_PATH, document=document).items
    assert len(calibration) == 153 and all(i.id.startswith("cal-") for i in calibration)
    kinds = Counter(
        (i.type if i.type in ("unanswerable_detail", "unanswerable_outside", "false_premise") else "near_miss", i.lang)
        for i in calibration
    )
    assert kinds == {("unanswerable_detail", "en"): 25, ("unanswerable_detail", "fr"): 25,
                     ("unanswerable_outside", "en"): 12, ("unanswerable_outside", "fr"): 12,
                     ("false_premise", "en"): 25, ("false_premise", "fr"): 24,
                     ("near_miss", "en"): 15, ("near_miss", "fr"): 15}
    assert all(not i.answerable and i.corrects for i in calibration if i.type == "unanswerable_detail")
    assert all(i.answerable for i in calibration if i.type not in ("unanswerable_detail", "unanswerable_outside",
                                                                    "false_premise"))
    others = [*load_dataset(DEV_PATH).items, *load_dataset(DATA_DIR / "blind_dev.jsonl").items]
    assert not {i.id for i in calibration} & {i.id for i in others}
    assert not {i.question for i in calibration} & {i.question for i in others}


def test_tiny_dataset_loads(tiny_dataset: Path, document: Document) -> None:
    data = load_dataset(tiny_dataset, document=document)
    assert [i.id for i in data.items] == ["t-1", "t-2", "t-3", "t-4"]
    assert data.items[3].question == "Et son objectif ?" and data.items[3].history == ("Parle-moi de la Journée mondiale.",)
    assert len(data.sha256) == 64


def _with_line(tmp_path: Path, bad: str, at: int = 3) -> Path:
    lines = [json.dumps(raw, ensure_ascii=False) for raw in TINY_ITEMS]
    lines.insert(at - 1, bad)
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _item(**changes: object) -> str:
    raw = {**TINY_ITEMS[0], "id": "x-1", **changes}
    return json.dumps({k: v for k, v in raw.items() if v is not None})


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        (_item(extra="x"), "unknown field 'extra'"),
        (_item(note=None), "missing field 'note'"),
        (_item(lang="de"), "field 'lang'"),
        (_item(type="trivia"), "field 'type'"),
        (_item(gold=["OP27", "par27"]), "'par27' is not a unit id"),
        (_item(gold=["OP99"]), "gold id 'OP99' is not a unit of A/RES/75/158"),
        (_item(answerable=False), "unanswerable item must have empty 'gold' and 'must'"),
        (_item(gold=[]), "needs at least one 'gold'"),
        (_item(turns=[]), "field 'turns'"),
        (_item(must=[[]]), "non-empty list"),
        (_item(id="t-1"), "id 't-1' already used on line 1"),
        (_item(type="unanswerable_detail"), "type 'unanswerable_detail' needs answerable: false"),
        (_item(corrects=["OP10"]), "'corrects' is for answerable: false items"),
        (_item(answerable=False, gold=[], must=[], corrects=["OP99"]), "corrects id 'OP99' is not a unit of"),
        (_item(answerable=False, gold=[], must=[], corrects=["par10"]), "'par10' is not a unit id"),
    ],
)
def test_bad_line_is_reported_with_its_number(tmp_path: Path, document: Document, line: str, expected: str) -> None:
    path = _with_line(tmp_path, line, at=3)
    with pytest.raises(DatasetError) as caught:
        load_dataset(path, document=document)
    message = str(caught.value)
    assert message.startswith(f"{path}:3: ") and expected in message
    assert "\n" not in message


def test_several_bad_lines_are_counted(tmp_path: Path) -> None:
    path = tmp_path / "two.jsonl"
    path.write_text("{oops\n\n" + _item(lang="xx") + "\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"two.jsonl:1: not valid JSON.*and 1 more bad line"):
        load_dataset(path)


def test_missing_empty_and_non_utf8_files(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="dataset file not found"):
        load_dataset(tmp_path / "nope.jsonl")
    (tmp_path / "empty.jsonl").write_text("\n\n")
    with pytest.raises(DatasetError, match="no items"):
        load_dataset(tmp_path / "empty.jsonl")
    (tmp_path / "latin.jsonl").write_bytes(_item(note="deja").replace("deja", "d\u00e9j\u00e0").encode("latin-1"))
    with pytest.raises(DatasetError, match="not valid UTF-8"):
        load_dataset(tmp_path / "latin.jsonl")
