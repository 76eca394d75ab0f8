"""translate/store.py and translate/run.py: kept by content hash, resumable, only changed units redone."""

from __future__ import annotations

from pathlib import Path

import pytest

from resolution_qa.core.errors import InputFileError
from resolution_qa.ingest import Document
from resolution_qa.translate.render import Spec
from resolution_qa.translate.run import translate_document
from resolution_qa.translate.store import (
    RenderingStore,
    bundled_path,
    content_hash,
    file_name,
    rendering_for,
    rendering_of,
)

from .conftest import FakeGenerator

ONE = [Spec(0.0, 0)]


def _echo(source: str, n: int) -> str:
    return " " + source


def test_file_names() -> None:
    assert file_name("A/RES/75/158", "en") == "A_RES_75_158.en.jsonl"
    assert bundled_path("A/RES/75/158", "en").name == "A_RES_75_158.en.jsonl"


def test_a_run_writes_each_unit_and_a_second_run_redoes_nothing(bundled, tmp_path: Path) -> None:
    store = RenderingStore(tmp_path / "r.jsonl")
    fake = FakeGenerator(_echo)
    summary = translate_document(bundled, fake, store, ids=["OP14", "PP3", "fn9"], specs=ONE)
    assert [r.id for r in summary.done] == ["OP14", "PP3", "fn9"]
    assert len((tmp_path / "r.jsonl").read_text().splitlines()) == 3
    calls = len(fake.calls)
    again = translate_document(bundled, fake, RenderingStore(tmp_path / "r.jsonl"), ids=["OP14", "PP3", "fn9"], specs=ONE)
    assert (again.done, again.kept, len(fake.calls)) == ([], 3, calls)


def test_a_changed_unit_is_redone(bundled, tmp_path: Path) -> None:
    store = RenderingStore(tmp_path / "r.jsonl")
    translate_document(bundled, FakeGenerator(_echo), store, ids=["OP14"], specs=ONE)
    unit = bundled.get("OP14")
    changed = unit.model_copy(update={"text": unit.text.replace("Prend note", "Prend note avec satisfaction")})
    assert content_hash(changed) != content_hash(unit)
    document = Document(symbol=bundled.symbol, lang=bundled.lang, title=bundled.title,
                        units=tuple(changed if u.id == "OP14" else u for u in bundled.units))
    summary = translate_document(document, FakeGenerator(_echo), RenderingStore(tmp_path / "r.jsonl"), ids=["OP14"],
                                 specs=ONE)
    assert [r.id for r in summary.done] == ["OP14"]
    assert RenderingStore(tmp_path / "r.jsonl").get(unit.key, content_hash(changed)) is not None
    assert RenderingStore(tmp_path / "r.jsonl").get(unit.key, content_hash(unit)) is None


def test_a_torn_last_line_is_redone(bundled, tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    translate_document(bundled, FakeGenerator(_echo), RenderingStore(path), ids=["OP14", "OP15"], specs=ONE)
    lines = path.read_text().splitlines()
    path.write_text(lines[0] + "\n" + lines[1][:40])  # killed while writing OP15
    summary = translate_document(bundled, FakeGenerator(_echo), RenderingStore(path), ids=["OP14", "OP15"], specs=ONE)
    assert ([r.id for r in summary.done], summary.kept) == (["OP15"], 1)


def test_a_whole_run_rewrites_the_file_in_document_order(bundled, tmp_path: Path) -> None:
    small = Document(symbol=bundled.symbol, lang=bundled.lang, title=bundled.title,
                     units=tuple(u for u in bundled.units if u.id in ("OP2", "OP1", "fn1")))
    path = tmp_path / "r.jsonl"
    translate_document(small, FakeGenerator(_echo), RenderingStore(path), ids=["OP2"], specs=ONE)
    translate_document(small, FakeGenerator(_echo), RenderingStore(path), specs=ONE)
    assert [RenderingStore(path).records[k].id for k in RenderingStore(path).records] == [u.id for u in small.units]


def test_unknown_units_are_one_line(bundled, tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="no unit OP999"):
        translate_document(bundled, FakeGenerator(_echo), RenderingStore(tmp_path / "r.jsonl"), ids=["OP999"])


def test_rendering_of_finds_the_index_copy_by_key_and_hash(bundled, tmp_path: Path) -> None:
    unit = bundled.get("OP14")
    path = tmp_path / "translations" / file_name(bundled.symbol, "en")
    translate_document(bundled, FakeGenerator(_echo), RenderingStore(path), ids=["OP14"], specs=ONE)
    found = rendering_of(unit.key, content_hash(unit), "en", index_dir=tmp_path)
    if bundled_path(bundled.symbol, "en").is_file():  # the repository's file answers first
        assert found is not None and found.key == unit.key
    else:
        assert found is not None and found.model == "fake"
    assert rendering_of(unit.key, "0" * 64, "en", index_dir=tmp_path) is None
    assert rendering_for(unit, "en", index_dir=tmp_path) == found


def test_the_bundled_renderings_cover_every_unit(bundled) -> None:
    path = bundled_path(bundled.symbol, "en")
    if not path.is_file():
        pytest.skip("the renderings file is made by `resolution-qa translate` (not yet run)")
    store = RenderingStore(path)
    missing = [u.id for u in bundled.units if store.get(u.key, content_hash(u)) is None]
    assert missing == []
    for unit in bundled.units:
        record = store.get(unit.key, content_hash(unit))
        assert record is not None
        assert (record.status == "flagged") == bool(record.reasons)
        assert record.text.strip() or record.reasons[0].startswith("not translated")


def test_units_left_untranslated_are_flagged_with_the_reason(bundled, tmp_path: Path) -> None:
    from resolution_qa.translate.run import flag_missing

    small = Document(symbol=bundled.symbol, lang=bundled.lang, title=bundled.title,
                     units=tuple(u for u in bundled.units if u.id in ("OP1", "OP2", "fn9")))
    path = tmp_path / "r.jsonl"
    translate_document(small, FakeGenerator(_echo), RenderingStore(path), ids=["OP1"], specs=ONE)
    added = flag_missing(small, RenderingStore(path), "the run was stopped")
    assert [(r.id, r.status, r.text, r.reasons) for r in added] == [
        ("OP2", "flagged", "", ("not translated: the run was stopped",)),
        ("fn9", "ok", "Resolution 72/1.", ())]  # a bare reference is rendered by rules
    store = RenderingStore(path)
    assert [store.records[k].id for k in store.records] == ["OP1", "OP2", "fn9"]



def test_flagged_units_can_be_retried_and_the_better_kept(bundled, tmp_path: Path) -> None:
    from resolution_qa.translate.render import DEFAULT_SPECS

    path = tmp_path / "r.jsonl"
    first = translate_document(bundled, FakeGenerator(lambda s, n: " of the principles on a fair trial;"),
                               RenderingStore(path), ids=["OP14"], specs=ONE)
    assert first.flagged
    good = " of the basic principles on the right to an effective remedy for victims of trafficking in persons;"
    fake = FakeGenerator(lambda s, n: good)
    again = translate_document(bundled, fake, RenderingStore(path), ids=["OP14"], specs=DEFAULT_SPECS,
                               retry_flagged=True)
    assert [r.status for r in again.done] == ["ok"]
    assert [(t, s) for _, t, s in fake.calls] == [(0.6, 1)]  # the greedy candidate is not written again
    assert RenderingStore(path).records["A/RES/75/158#OP14"].text.endswith("effective remedy for victims of "
                                                                          "trafficking in persons;")


def test_recheck_flags_a_kept_rendering_that_todays_checks_fail(bundled, tmp_path: Path) -> None:
    from resolution_qa.translate.run import recheck

    path = tmp_path / "r.jsonl"
    translate_document(bundled, FakeGenerator(lambda s, n: " of the basic principles on the right to an effective remedy "
                                              "for victims of trafficking in persons;"),
                       RenderingStore(path), ids=["OP14"], specs=ONE)
    store = RenderingStore(path)
    key = "A/RES/75/158#OP14"
    store.append(store.records[key].model_copy(update={"text": store.records[key].text + " (2020)"}))
    changed = recheck(bundled, RenderingStore(path))
    assert [(r.id, r.status, r.reasons) for r in changed] == [("OP14", "flagged", ("whole unit: numbers added: 2020",))]
