"""Typed units of a resolution (header, preambular, operative, footnote) and their display labels."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cached_property

from pydantic import BaseModel, ConfigDict

from resolution_qa.core.refs import PREFIX, Kind, Lang, formal, unit_label


class Unit(BaseModel):
    """One citable unit of a resolution, with the metadata a citation needs."""

    model_config = ConfigDict(frozen=True)

    doc: str  # document symbol, e.g. "A/RES/75/158"
    id: str  # PPn, OPn, fnN or header
    kind: Kind
    number: int | None
    text: str  # clean text: markup and footnote markers removed, page-break pieces joined
    raw: str  # the unit as written in the file (pieces joined by a blank line)
    footnotes: tuple[str, ...] = ()  # ids of the footnotes this unit refers to, in order
    source: str | None = None  # footnotes only: the full reference, "Ibid." resolved
    phrase: str | None = None  # the italic opening phrase ("Engage instamment")
    lang: Lang = "fr"
    versions: tuple[tuple[Lang, str], ...] = ()  # the official text in other languages (same unit, same number)
    # Unofficial translations made once and checked (resolution-qa translate), used where no official version is
    # indexed; never stored in the index (an official version, when one is added, replaces them everywhere).
    rendered: tuple[tuple[Lang, str], ...] = ()

    def text_in(self, lang: Lang) -> str:
        """The unit's text in `lang`: the official version when indexed, else its unofficial translation when one was
        made, else the text in its own language."""
        for texts in (self.versions, self.rendered):
            found = next((text for version, text in texts if version == lang), None)
            if found is not None:
                return found
        return self.text

    def lang_of(self, lang: Lang) -> Lang:
        """The language `text_in(lang)` is in."""
        return lang if any(version == lang for version, _ in (*self.versions, *self.rendered)) else self.lang

    def official_in(self, lang: Lang) -> bool:
        """Whether `text_in(lang)` is an official text (its own, or an indexed official version)."""
        return self.lang_of(lang) == self.lang or any(version == lang for version, _ in self.versions)

    @property
    def key(self) -> str:
        """Stable id across a corpus: document symbol + unit id."""
        return f"{self.doc}#{self.id}"

    def label(self, lang: Lang) -> str:
        return unit_label(self.kind, self.number, lang)

    def citation(self, lang: Lang) -> str:
        """The formal citation a user can paste: "A/RES/75/158, par. 27"."""
        return formal(self.doc, self.label(lang))


class Document(BaseModel):
    """A parsed resolution: its symbol, language, title and units in document order."""

    model_config = ConfigDict(frozen=True)

    symbol: str
    lang: Lang
    title: str
    units: tuple[Unit, ...]
    warnings: tuple[str, ...] = ()

    def __iter__(self) -> Iterator[Unit]:  # type: ignore[override]  # its units, not BaseModel's (field, value) pairs
        return iter(self.units)

    def __len__(self) -> int:
        return len(self.units)

    def get(self, unit_id: str) -> Unit | None:
        return self._by_id.get(unit_id)

    @cached_property
    def _by_id(self) -> dict[str, Unit]:
        return {u.id: u for u in self.units}

    def of_kind(self, kind: Kind) -> list[Unit]:
        return [u for u in self.units if u.kind == kind]

    def count(self, kind: Kind) -> int:
        return sum(1 for u in self.units if u.kind == kind)

    def referring_to(self, footnote_id: str) -> list[Unit]:
        """Units whose text carries the marker of this footnote."""
        return [u for u in self.units if footnote_id in u.footnotes]

    def neighbour(self, unit_id: str, step: int) -> Unit | None:
        """The unit of the same kind `step` places after (or before) this one."""
        unit = self.get(unit_id)
        if unit is None or unit.number is None:
            return None
        return self.get(f"{PREFIX[unit.kind]}{unit.number + step}")
