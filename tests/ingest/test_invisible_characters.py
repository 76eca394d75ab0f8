"""Issue 20, case 10: bidi overrides, zero-width and other invisible formatting characters in an indexed document.

Was: indexed and quoted as they were (U+202E shows the rest of a quote reversed), with no warning, while questions
already had them removed. Now: removed at ingest, each unit that held one named in one warning.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from resolution_qa.core.settings import Settings
from resolution_qa.ingest import BUNDLED_PATH, parse_text
from resolution_qa.ingest.parser import clean
from resolution_qa.vectorstore.index import UnitIndex
from tests.fakes import BagOfWordsEmbeddings

TEXT = BUNDLED_PATH.read_text(encoding="utf-8")
INVISIBLE = "\u202e\u202a\u202d\u2066\u2067\u2068\u2069\u200b\u200c\u200d\u200e\u200f\u2060\ufeff\u00ad\u061c"


def _hostile() -> str:
    text = TEXT.replace("27. ", "27. \u202eseérusnoc\u202c ", 1)  # RIGHT-TO-LEFT OVERRIDE ... POP
    text = text.replace("28. ", "28. Pri\u200bvi\u2060légie ", 1)  # zero-width space, word joiner
    text = text.replace("L'Assemblée générale,", "L'Assemblée\u200d générale,", 1)  # header
    first_pp = text.split("L'Assemblée\u200d générale,")[1].strip().split("\n")[0]
    return text.replace(first_pp, "\u2067" + first_pp + "\u2069", 1)  # isolates around PP1


def test_invisible_characters_are_removed_and_each_unit_is_named_once() -> None:
    document = parse_text(_hostile(), name="hostile.txt")
    for unit in document.units:
        assert not set(unit.text + unit.raw) & set(INVISIBLE), unit.id
    assert document.get("OP27").text.startswith("seérusnoc Engage instamment")
    assert document.get("OP28").text.startswith("Privilégie Invite")
    warned = [w for w in document.warnings if "invisible formatting characters" in w]
    assert warned == [
        "hostile.txt: header held invisible formatting characters (U+200D ZERO WIDTH JOINER); removed",
        "hostile.txt: PP1 held invisible formatting characters (U+2067 RIGHT-TO-LEFT ISOLATE, U+2069 POP "
        "DIRECTIONAL ISOLATE); removed",
        "hostile.txt: OP27 held invisible formatting characters (U+202C POP DIRECTIONAL FORMATTING, U+202E "
        "RIGHT-TO-LEFT OVERRIDE); removed",
        "hostile.txt: OP28 held invisible formatting characters (U+200B ZERO WIDTH SPACE, U+2060 WORD JOINER); "
        "removed",
    ]
    clean_document = parse_text(TEXT, name="clean.txt")  # the other units are those of the clean text
    assert [(u.id, u.text) for u in document.units if u.id not in ("OP27", "OP28")] == [
        (u.id, u.text) for u in clean_document.units if u.id not in ("OP27", "OP28")]


@pytest.mark.parametrize("char", list(INVISIBLE), ids=[f"U+{ord(c):04X}" for c in INVISIBLE])
def test_clean_removes_each_invisible_character(char: str) -> None:
    assert clean(f"par{char}agraphe 27") == "paragraphe 27"


def test_ingest_warns_and_indexes_the_visible_text(cli_main: Callable[..., tuple[int, str, str]], model_loads: list,
                                                   tmp_path) -> None:  # noqa: ANN001
    path = tmp_path / "hostile.txt"
    path.write_text(_hostile(), encoding="utf-8")
    code, _, err = cli_main("ingest", str(path))
    assert code == 0, err
    assert f"warning: {path}: OP27 held invisible formatting characters (U+202C" in err
    settings = Settings()
    index = UnitIndex(settings.store, settings.embedding, BagOfWordsEmbeddings.small())
    texts = [u.text + u.raw for d in index.documents() for u in d.units]
    assert len(texts) > 100 and not any(set(t) & set(INVISIBLE) for t in texts)
