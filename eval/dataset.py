"""The evaluation question set: typed items and a JSONL loader that names the bad line."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from resolution_qa.core.errors import DatasetError
from resolution_qa.core.inputs import InputKind, decode, json_line, read_bytes
from resolution_qa.ingest.units import Document, Lang

ItemType = Literal[
    "lookup",
    "crosslingual",
    "paragraph_ref",
    "footnote",
    "metadata",
    "list",
    "conversational",
    "split_paragraph",
    "adversarial",
    "unanswerable",
    "unanswerable_detail",  # calibration.jsonl: the text names the thing without the asked detail
    "unanswerable_outside",  # calibration.jsonl: the question is about something outside the text
    "false_premise",  # calibration.jsonl: the question takes for granted something the text contradicts
]
ITEM_TYPES: tuple[str, ...] = ItemType.__args__  # type: ignore[attr-defined]
#: Types whose items the text does not answer (answerable: false).
UNANSWERABLE_TYPES: tuple[str, ...] = ("unanswerable", "unanswerable_detail", "unanswerable_outside")

DATA_DIR = Path(__file__).parent / "data"
DEV_PATH = DATA_DIR / "dev.jsonl"
CALIBRATION_PATH = DATA_DIR / "calibration.jsonl"  # a dev split: for fitting the decline decision only
HELDOUT_PATH = DATA_DIR / "heldout.jsonl"

_UNIT_ID = re.compile(r"^(header|PP[1-9]\d*|OP[1-9]\d*|fn[1-9]\d*)$")


class EvalItem(BaseModel):
    """One graded question (the last of `turns`) with its gold units and required answer strings."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1)
    lang: Lang
    turns: tuple[str, ...] = Field(min_length=1)
    answerable: bool
    gold: tuple[str, ...]
    must: tuple[tuple[str, ...], ...]
    type: ItemType
    note: str
    # Optional, for answerable: false items: the units that say what the text DOES say (the thing named without
    # the asked detail, or what contradicts the premise); a good decline cites them.
    corrects: tuple[str, ...] = ()

    @field_validator("turns")
    @classmethod
    def _turns_not_blank(cls, turns: tuple[str, ...]) -> tuple[str, ...]:
        if any(not t.strip() for t in turns):
            raise ValueError("a turn is empty")
        return turns

    @field_validator("gold", "corrects")
    @classmethod
    def _gold_ids(cls, gold: tuple[str, ...]) -> tuple[str, ...]:
        bad = [g for g in gold if not _UNIT_ID.match(g)]
        if bad:
            raise ValueError(f"{bad[0]!r} is not a unit id (header, PPn, OPn or fnN)")
        if len(set(gold)) != len(gold):
            raise ValueError("an id is repeated")
        return gold

    @field_validator("must")
    @classmethod
    def _groups(cls, must: tuple[tuple[str, ...], ...]) -> tuple[tuple[str, ...], ...]:
        for group in must:
            if not group or any(not s.strip() for s in group):
                raise ValueError("each group must be a non-empty list of non-empty strings")
        return must

    @model_validator(mode="after")
    def _consistent(self) -> EvalItem:
        if not self.answerable and (self.gold or self.must):
            raise ValueError("an unanswerable item must have empty 'gold' and 'must'")
        if self.answerable and not self.gold:
            raise ValueError("an answerable item needs at least one 'gold' unit id")
        if self.type in UNANSWERABLE_TYPES and self.answerable:
            raise ValueError(f"type {self.type!r} needs answerable: false")
        if self.answerable and self.corrects:
            raise ValueError("'corrects' is for answerable: false items; an answerable item cites its 'gold'")
        return self

    @property
    def question(self) -> str:
        """The graded question: the last turn."""
        return self.turns[-1]

    @property
    def history(self) -> tuple[str, ...]:
        """The turns asked before the graded one, in the same conversation."""
        return self.turns[:-1]


class Dataset(BaseModel):
    """A loaded question set: its file, a digest of its bytes (to match a resumed run) and its items."""

    model_config = ConfigDict(frozen=True)

    path: Path
    sha256: str
    items: tuple[EvalItem, ...]

    def __len__(self) -> int:
        return len(self.items)


def _describe(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"])
    if err["type"] == "extra_forbidden":
        return f"unknown field {where!r} (allowed: {', '.join(EvalItem.model_fields)})"
    if err["type"] == "missing":
        return f"missing field {where!r}"
    message = err["msg"].removeprefix("Value error, ")
    return f"field {where!r}: {message}" if where else message


def parse_lines(lines: list[str], *, name: str, document: Document | None = None) -> tuple[EvalItem, ...]:
    """Validate JSONL lines; every problem is reported as "NAME:LINE: what is wrong"."""
    problems: list[str] = []
    items: list[EvalItem] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            raw = json_line(line)  # a line nested 100,000 deep is a bad line, not a RecursionError
        except ValueError as exc:
            problems.append(f"{name}:{number}: {exc}")
            continue
        if not isinstance(raw, dict):
            problems.append(f"{name}:{number}: expected a JSON object, got {type(raw).__name__}")
            continue
        try:
            item = EvalItem.model_validate(raw)
        except ValidationError as exc:
            problems.append(f"{name}:{number}: {_describe(exc)}")
            continue
        if item.id in seen:
            problems.append(f"{name}:{number}: id {item.id!r} already used on line {seen[item.id]}")
            continue
        if document is not None:
            unknown = [(f, g) for f in ("gold", "corrects") for g in getattr(item, f) if document.get(g) is None]
            if unknown:
                field, unit_id = unknown[0]
                problems.append(f"{name}:{number}: {field} id {unit_id!r} is not a unit of {document.symbol}")
                continue
        seen[item.id] = number
        items.append(item)
    if problems:
        more = f" (and {len(problems) - 1} more bad line(s))" if len(problems) > 1 else ""
        raise DatasetError(f"{problems[0]}{more}; each line must be one item as described in eval/data/README.md")
    if not items:
        raise DatasetError(f"{name}: no items; give a JSONL file with one question item per line")
    return tuple(items)


def load_dataset(path: Path, *, document: Document | None = None) -> Dataset:
    """Load and validate a JSONL question set; raises DatasetError naming the file and line."""
    path = Path(path)
    kind = InputKind(  # the one reading path for user files (core/inputs.py): type, size, encoding checked there
        one="a question set", fix="give a UTF-8 JSONL file", too_large="split it", error=DatasetError,
        missing=f"dataset file not found; pass --dataset with a JSONL file (e.g. {DEV_PATH})",
        empty="no items; give a JSONL file with one question item per line",
    )
    data = read_bytes(path, kind)
    items = parse_lines(decode(data, path, kind).splitlines(), name=str(path), document=document)
    return Dataset(path=path, sha256=hashlib.sha256(data).hexdigest(), items=items)
