"""Unofficial translations put on the units: by content hash, never over an official version, torn lines skipped."""

from __future__ import annotations

import json
from pathlib import Path

from resolution_qa.ingest import Document
from resolution_qa.ingest.renderings import BUNDLED_DIR, content_hash, file_name, with_renderings


def _write(folder: Path, document: Document, texts: dict[str, str], *, stale: str | None = None) -> Path:
    path = folder / file_name(document.symbol, "en")
    lines = []
    for unit in document.units:
        if unit.id in texts:
            digest = "0" * 64 if unit.id == stale else content_hash(unit)
            lines.append(json.dumps({"key": unit.key, "hash": digest, "text": texts[unit.id], "status": "ok"}))
    path.write_text("\n".join(lines) + '\n{"key": "torn', encoding="utf-8")
    return path


def test_a_rendering_rides_on_its_unit_as_an_unofficial_text(tmp_path: Path, document: Document) -> None:
    _write(tmp_path, document, {"OP27": "Urges Governments to protect victims", "OP1": "Takes note", "PP1": "x"},
           stale="PP1")
    [with_en] = with_renderings([document], [tmp_path])
    op27 = with_en.get("OP27")
    assert op27 is not None and op27.text_in("en") == "Urges Governments to protect victims"
    assert op27.lang_of("en") == "en" and not op27.official_in("en") and op27.official_in("fr")
    assert op27.text_in("fr") == document.get("OP27").text  # the French stays the text
    stale = with_en.get("PP1")
    assert stale is not None and stale.rendered == ()  # made from another text: not used
    assert with_en.get("OP2").lang_of("en") == "fr"  # no rendering: the French is what there is


def test_an_official_version_wins_over_a_rendering(tmp_path: Path, document: Document) -> None:
    _write(tmp_path, document, {"OP27": "unofficial words"})
    official = document.model_copy(update={"units": tuple(
        u.model_copy(update={"versions": (("en", "Official English text"),)}) if u.id == "OP27" else u
        for u in document.units)})
    [merged] = with_renderings([official], [tmp_path])
    op27 = merged.get("OP27")
    assert op27.text_in("en") == "Official English text" and op27.official_in("en") and op27.rendered == ()


def test_the_first_folder_wins_and_a_missing_file_changes_nothing(tmp_path: Path, document: Document) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    _write(first, document, {"OP27": "from the first"})
    _write(second, document, {"OP27": "from the second", "OP28": "only in the second"})
    [merged] = with_renderings([document], [first, second])
    assert merged.get("OP27").text_in("en") == "from the first"
    assert merged.get("OP28").text_in("en") == "only in the second"
    assert with_renderings([document], [tmp_path / "nowhere"]) == [document]


def test_the_bundled_renderings_cover_the_bundled_resolution(document: Document) -> None:
    # Shipped with the repository (`resolution-qa translate A/RES/75/158` remakes them): every unit has a rendering
    # made from its current text, or a record saying why not (a flag, listed in reports/translation.md).
    path = BUNDLED_DIR / file_name(document.symbol, "en")
    records = {r["key"]: r for r in map(json.loads, path.read_text(encoding="utf-8").splitlines())}
    [rendered] = with_renderings([document], [BUNDLED_DIR])
    missing = [u.id for u in rendered.units if not u.rendered and u.key not in records]
    assert not missing, f"units with neither a rendering nor a flag: {missing[:10]}"
    stale = [u.id for u in document.units if u.key in records and records[u.key]["hash"] != content_hash(u)]
    assert not stale, f"renderings made from another text: {stale[:10]}"
    assert sum(1 for u in rendered.units if u.rendered) >= 0.8 * len(document.units)
