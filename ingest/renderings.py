"""Unofficial translations of a resolution's units, made once (`resolution-qa translate`) and put on the units.

A rendering is kept as one JSON line per unit ({"key", "hash", "text", "status", ...}), keyed by the content hash of
the unit it was made from: a unit whose text changed has no rendering until it is translated again. The bundled
resolution's renderings ship in ingest/data/; other resolutions' are kept beside the index. Only the reading side is
here (the ingest layer): translate/ makes them.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from pathlib import Path

from resolution_qa.core.refs import Lang

from .units import Document, Unit

#: Where the bundled resolution's renderings are (made by `resolution-qa translate A/RES/75/158`).
BUNDLED_DIR = Path(__file__).resolve().parent / "data"
#: The other language of a resolution with one official language.
OTHER: dict[Lang, Lang] = {"fr": "en", "en": "fr"}


def content_hash(unit: Unit) -> str:
    """What a rendering is made from: the unit's language and clean text (and a footnote's resolved source)."""
    return hashlib.sha256(f"{unit.lang}\x00{unit.text}\x00{unit.source or ''}".encode()).hexdigest()


def file_name(symbol: str, lang: Lang) -> str:
    """"A/RES/75/158", "en" -> "A_RES_75_158.en.jsonl"."""
    return re.sub(r"[^A-Za-z0-9.-]+", "_", symbol) + f".{lang}.jsonl"


_CACHE: dict[Path, tuple[int, dict[str, tuple[str, str]]]] = {}


def read_renderings(path: Path) -> dict[str, tuple[str, str]]:
    """key -> (hash, text) of a renderings file (the last line of a key wins; torn or bad lines are skipped); read
    again only when the file changed."""
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        return {}
    held = _CACHE.get(path)
    if held is not None and held[0] == mtime:
        return held[1]
    found: dict[str, tuple[str, str]] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        lines = []
    for line in lines:
        try:
            record = json.loads(line)
            key, digest, text = record["key"], record["hash"], record["text"]
        except (ValueError, KeyError, TypeError):
            continue  # a line torn by a killed run: that unit is translated again next time
        if isinstance(key, str) and isinstance(digest, str) and isinstance(text, str) and text.strip():
            found[key] = (digest, text)
    _CACHE[path] = (mtime, found)
    return found


def with_renderings(documents: Sequence[Document], folders: Sequence[Path]) -> list[Document]:
    """The documents, each unit carrying its kept rendering in the other language (when its source is unchanged and
    no official version in that language is indexed)."""
    out: list[Document] = []
    for document in documents:
        lang = OTHER[document.lang]
        records: dict[str, tuple[str, str]] = {}
        for folder in reversed(folders):  # the first folder wins
            records.update(read_renderings(Path(folder) / file_name(document.symbol, lang)))
        if not records:
            out.append(document)
            continue
        units = []
        for unit in document.units:
            held = records.get(unit.key)
            official = any(version == lang for version, _ in unit.versions)
            if held is None or official or held[0] != content_hash(unit):
                units.append(unit)
            else:
                units.append(unit.model_copy(update={"rendered": ((lang, held[1]),)}))
        # A new Document, not model_copy: a copy would keep the old one's cached id table (Document.get).
        fields = {name: getattr(document, name) for name in type(document).model_fields}
        out.append(type(document)(**{**fields, "units": tuple(units)}))
    return out
