"""translate/render.py: pieces, prompts, the choice among candidates, footnotes by rules, flags."""

from __future__ import annotations

import re

from resolution_qa.translate.render import (
    MAX_PIECE,
    Piece,
    Spec,
    by_rules,
    choose,
    messages,
    render_unit,
    split,
    tidy,
    unit_pieces,
)
from resolution_qa.translate.terms import glossary

from .conftest import FakeGenerator


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def test_pieces_rebuild_the_text_and_stay_short(bundled) -> None:
    for unit in bundled.units:
        pieces = split(unit.text)
        assert _squash("".join(p.text + p.sep for p in pieces)) == _squash(unit.text), unit.id
        # a piece longer than MAX_PIECE only where the sentence offers no cut (measured: a few long names)
        assert sum(len(p.text) > 2 * MAX_PIECE for p in pieces) == 0, unit.id


def test_no_cut_inside_a_glossary_name(bundled) -> None:
    g = glossary()
    names = {e.fr for u in bundled.units for e in g.entries_in(u.text) if "," in e.fr}
    for unit in bundled.units:
        for piece in split(unit.text):
            for name in names:
                head = name.split(",")[0]
                if piece.text.rstrip(",; ").endswith(head):
                    raise AssertionError(f"{unit.id} cut inside {name!r}")


def test_long_paragraphs_are_cut_at_clauses(bundled) -> None:
    op16 = bundled.get("OP16")
    assert len(split(op16.text)) >= 3
    assert all(p.fragment for p in split(op16.text))
    assert not split("Une phrase courte.")[0].fragment


def test_the_first_piece_carries_the_opening_in_english(bundled) -> None:
    pieces = unit_pieces(bundled.get("OP27"))
    assert pieces[0].opening == "Urges"
    assert all(not p.opening for p in pieces[1:])
    assert unit_pieces(bundled.get("OP2"))[0].opening == "Also takes note with appreciation"


def test_prompt_gives_the_glossary_and_begins_the_reply() -> None:
    piece = Piece("Engage instamment les États Membres à respecter le droit à un recours effectif ;", opening="Urges")
    chat = messages(piece, Spec(0.0, 0), glossary())
    assert chat[0]["role"] == "system"
    assert "- États Membres = Member States" in chat[1]["content"]
    assert "- droit à un recours effectif = right to an effective remedy" in chat[1]["content"]
    assert chat[-1] == {"role": "assistant", "content": "Urges"}
    substituted = messages(piece, Spec(0.0, 0, substitute=True), glossary())[1]["content"]
    assert substituted.endswith("Engage instamment les Member States à respecter le right to an effective remedy ;")


def test_tidy_keeps_the_source_punctuation_and_case() -> None:
    piece = Piece("et à intensifier la coopération internationale ;")
    assert tidy("Translation: And to intensify international cooperation.", piece) == (
        "and to intensify international cooperation;")
    assert tidy('"Recalling all conventions."\nNote: literal', Piece("Rappelant toutes les conventions,")) == (
        "Recalling all conventions,")


def test_choose_prefers_passing_candidates_then_similarity() -> None:
    source = "à sa soixante-dix-septième session"
    texts = ["at its seventy-fifth session", "at its seventy-seventh session", "at its 77th session"]
    best, verdict = choose(source, texts, lambda s, cands: [0.1 if "77th" in c else 0.9 for c in cands], glossary())
    assert (best, verdict.ok) == ("at its seventy-seventh session", True)
    best, _ = choose(source, texts, lambda s, cands: [0.9 if "77th" in c else 0.1 for c in cands], glossary())
    assert best == "at its 77th session"


def test_render_unit_picks_the_right_candidate_and_writes_the_opening(bundled) -> None:
    unit = bundled.get("OP14")  # Prend note des principes fondamentaux concernant le droit à un recours effectif ...
    answers = [
        " of the basic principles on the right to a fair trial for victims of trafficking in persons;",
        " of the basic principles on the right to an effective remedy for victims of trafficking in persons;",
        " of the fundamental principles of the right to an effective remedy of victims;",
    ]
    fake = FakeGenerator(lambda source, n: answers[n % 3])
    record = render_unit(unit, fake)
    assert record.text == ("Takes note of the basic principles on the right to an effective remedy for victims of "
                           "trafficking in persons;")
    assert (record.status, record.reasons, record.candidates, record.model) == ("ok", (), 3, "fake")
    assert [t for _, t, _ in fake.calls] == [0.0, 0.6, 0.0]


def test_a_unit_whose_candidates_all_fail_is_flagged_with_the_reason(bundled) -> None:
    unit = bundled.get("OP52")  # à sa soixante-dix-septième session
    fake = FakeGenerator(lambda source, n: " " + re.sub(r"\S+", "word", source).replace("soixante-dix-septième", "x"))
    record = render_unit(unit, fake, specs=[Spec(0.0, 0)])
    assert record.status == "flagged"
    assert any("numbers missing: 77" in r for r in record.reasons)
    assert any("glossary terms not used" in r for r in record.reasons)


def test_bare_reference_footnotes_need_no_model(bundled) -> None:
    expected = {
        "Nations Unies, Recueil des Traités, vol. 2225, n° 39574.": "United Nations, Treaty Series, vol. 2225, No. 39574.",
        "Ibid., vol. 2237, n° 39574.": "Ibid., vol. 2237, No. 39574.",
        "Résolution 64/293.": "Resolution 64/293.",
        "Résolution 70/174, annexe.": "Resolution 70/174, annex.",
        "A/75/169 et A/HRC/44/45.": "A/75/169 and A/HRC/44/45.",
        "Voir résolution 2200 A (XXI), annexe.": "See resolution 2200 A (XXI), annex.",
    }
    for source, english in expected.items():
        assert by_rules(source) == english
    fake = FakeGenerator(lambda source, n: "unused")
    rules = [render_unit(u, fake) for u in bundled.of_kind("footnote")]
    assert sum(r.model == "rules" for r in rules) >= 30
    assert all(r.status == "ok" for r in rules if r.model == "rules")
    assert by_rules("Tels que le Processus de Bali et des initiatives prises par les gouvernements, y compris la mise en "
                    "œuvre de programmes de lutte contre toutes les formes de traite") is None


def test_american_spellings_become_the_uns() -> None:
    from resolution_qa.translate.render import un_spelling

    assert un_spelling("Forced labor programs and Labor offenses") == "Forced labour programmes and Labour offences"
    assert un_spelling("laboratory") == "laboratory"
