"""Renderings kept as JSON lines, one per unit, keyed by the unit's content hash: only changed units are redone.

The bundled resolution's file is in the repository (ingest/data/A_RES_75_158.en.jsonl), so setup does not spend
the translation's time; other resolutions' files are kept beside the index (settings.index_dir/translations).
A run appends each unit as it finishes (an interrupted run loses at most the unit in progress) and rewrites the
file in document order at the end.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from resolution_qa.core.refs import Lang
from resolution_qa.ingest.renderings import BUNDLED_DIR, content_hash, file_name
from resolution_qa.ingest.units import Unit

Status = Literal["ok", "flagged"]


class Rendering(BaseModel):
    """A unit's text in another language, made by the model (or by rules) and checked against the source."""

    model_config = ConfigDict(frozen=True)

    id: str  # PPn, OPn, fnN, header
    key: str  # "A/RES/75/158#OP27"
    hash: str  # content_hash(unit) of the source it was made from
    lang: Lang  # the rendering's language
    source_lang: Lang
    text: str
    status: Status
    reasons: tuple[str, ...] = ()  # why it is flagged (a check its best candidate still fails)
    model: str  # the model that wrote it, or "rules"
    candidates: int  # the most candidates written for one of its pieces (0: made by rules)
    seconds: float = 0.0

    @property
    def official(self) -> bool:
        return False  # a rendering is always an unofficial translation; official versions ride on the unit


def bundled_path(symbol: str, lang: Lang) -> Path:
    """Where the repository keeps a bundled resolution's renderings (beside its text, in ingest/data/, which the
    answer engine reads: ingest/renderings.py)."""
    return BUNDLED_DIR / file_name(symbol, lang)


def index_path(index_dir: Path, symbol: str, lang: Lang) -> Path:
    return Path(index_dir) / "translations" / file_name(symbol, lang)


def store_path(symbol: str, lang: Lang, index_dir: Path) -> Path:
    """Where a resolution's renderings are kept: the repository's file when there is one, else beside the index."""
    bundled = bundled_path(symbol, lang)
    return bundled if bundled.is_file() else index_path(index_dir, symbol, lang)


class RenderingStore:
    """The renderings of one file, the last line of each key winning (a resumed run appends)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.records: dict[str, Rendering] = {}
        if self.path.is_file():
            for line in self.path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    try:
                        record = Rendering.model_validate_json(line)
                    except ValueError:
                        continue  # a line torn by a killed run: that unit is done again
                    self.records[record.key] = record

    def get(self, key: str, content: str) -> Rendering | None:
        """The rendering of unit `key` made from the source with hash `content`, or None."""
        record = self.records.get(key)
        return record if record is not None and record.hash == content else None

    def append(self, record: Rendering) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as f:
            f.write(record.model_dump_json() + "\n")
            f.flush()
            os.fsync(f.fileno())
        self.records[record.key] = record

    def rewrite(self, order: Iterable[str]) -> None:
        """Keep only the keys of `order`, in that order (atomic replace)."""
        keep = [self.records[k] for k in order if k in self.records]
        partial = self.path.with_suffix(".partial")
        partial.write_text("".join(json.dumps(r.model_dump(mode="json"), ensure_ascii=False) + "\n" for r in keep),
                           encoding="utf-8")
        partial.replace(self.path)
        self.records = {r.key: r for r in keep}


def rendering_of(key: str, content: str, lang: Lang = "en", index_dir: Path | None = None) -> Rendering | None:
    """The kept rendering in `lang` of unit `key` ("A/RES/75/158#OP27") made from the source whose content_hash is
    `content`; None when there is none or the unit changed since. Looks in the repository's file, then beside the
    index."""
    symbol = key.split("#", 1)[0]
    paths = [bundled_path(symbol, lang)] + ([index_path(index_dir, symbol, lang)] if index_dir is not None else [])
    for path in paths:
        found = _cached(str(path), _mtime(path)).get(key, content)
        if found is not None:
            return found
    return None


def rendering_for(unit: Unit, lang: Lang = "en", index_dir: Path | None = None) -> Rendering | None:
    """The kept rendering of a unit in `lang`, if its source is unchanged."""
    return rendering_of(unit.key, content_hash(unit), lang, index_dir)


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


_CACHE: dict[str, tuple[int, RenderingStore]] = {}


def _cached(path: str, mtime: int) -> RenderingStore:
    """A file is read again only when it changed (the chat app asks for renderings at every answer)."""
    held = _CACHE.get(path)
    if held is None or held[0] != mtime:
        held = (mtime, RenderingStore(Path(path)))
        _CACHE[path] = held
    return held[1]
