"""Language versions of one resolution (same symbol, e.g. A/RES/75/158 in French and in English) as one document.

UN resolutions are published in parallel official versions whose paragraphs and footnotes carry the same
numbers. The first version indexed is the document; the others' texts ride on its units, aligned by id, so a
citation is the same whatever the language, and the question's language picks the version that is quoted.
"""

from __future__ import annotations

from collections.abc import Sequence

from resolution_qa.core.errors import InputFileError

from .units import Document, Unit


def merge_versions(documents: Sequence[Document]) -> list[Document]:
    """One document per symbol: the first of each symbol, its units carrying the other versions' texts."""
    first: dict[str, Document] = {}
    others: dict[str, list[Document]] = {}
    for document in documents:
        if document.symbol in first:
            if any(d.lang == document.lang for d in (first[document.symbol], *others.get(document.symbol, []))):
                raise InputFileError(
                    f"two documents have the same symbol ({document.symbol}) in the same language ({document.lang}); "
                    "ingest each version of a resolution once"
                )
            others.setdefault(document.symbol, []).append(document)
        else:
            first[document.symbol] = document
    return [_merged(first[symbol], others.get(symbol, [])) for symbol in first]


def _merged(document: Document, versions: list[Document]) -> Document:
    if not versions:
        return document
    warnings = list(document.warnings)
    units: list[Unit] = []
    for unit in document.units:
        texts = tuple(
            (v.lang, found.text) for v in versions if v.lang != document.lang and (found := v.get(unit.id)) is not None
        )
        units.append(unit.model_copy(update={"versions": texts}) if texts else unit)
    for version in versions:
        missing = sorted({u.id for u in version.units} ^ {u.id for u in document.units})
        if missing:
            warnings.append(
                f"the {version.lang} version of {version.symbol} does not align with the {document.lang} one "
                f"(units only in one: {', '.join(missing[:5])}); those are quoted in {document.lang}"
            )
    return document.model_copy(update={"units": tuple(units), "warnings": tuple(warnings)})
