"""Which retrieved units an answer may cite and quote, and when it declines: the one place that decides, for every
backend (select, before reading) and for the judge's verdict (decide, after it).

Declining rests on more than one signal (issue 18): what the question asks for and whether the units hold a value of
that kind, names the whole resolution never uses, the judge's probability (LLM backends), retrieval scores; a
footnote alone is evidence only for a question about references.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from resolution_qa.core.settings import AnswerSettings
from resolution_qa.core.strings import fold
from resolution_qa.ingest.units import Document, Unit
from resolution_qa.vectorstore.links import related
from resolution_qa.vectorstore.types import Hit, RetrievalResult

from . import evidence
from .glossary import ACRONYM_FORMS
from .policy import JUDGED, JUDGED_LIST, Decision
from .policy import decide as judge_decision
from .state import QuestionState

#: Units an extractive answer may rest on and quote (more buries the answer among quotes).
CITED_UNITS = 3
#: Footnotes of an explicitly named paragraph quoted with it.
CITED_FOOTNOTES = 3
#: How close to the best ranked unit (dense cosine) another must be to be quoted by an extractive answer.
QUOTED_MARGIN = 0.05
#: Units offered with a refusal.
SUGGESTIONS = 3
#: The details whose absence from the units makes the answer "the text does not give it" (not the paragraph list
#: or the reference kinds, which any unit or footnote can answer).
DETAILS = frozenset(evidence.KINDS) - {evidence.PARAGRAPHS, evidence.REFERENCE}
#: A question naming things the resolution never mentions is declined unless the judge is at least this sure that a
#: passage answers it (foreign_terms flags 5 of 90 answerable French dev questions, on synonyms the text does not use).
FOREIGN_TRUST = 0.9
#: Foreign words a question must hold to be declined for them; one name (a capital letter, a year) is enough.
FOREIGN_TERMS = 2
#: Most units an extractive list answer quotes.
LISTED_QUOTED = 8
#: Most units a list question's judge reads: the ranking's and every unit whose words cover the topic's.
LISTED = 24


def select(
    state: QuestionState,
    documents: Sequence[Document],
    settings: AnswerSettings,
    *,
    judged: bool,
    vocabulary: evidence.Vocabulary | None = None,
) -> None:
    """Fill what the answer may rest on: the extractive choice (every backend's fallback), the judge's candidates
    (`judged`: an LLM backend reads them), the units offered with a refusal; without a judge, decline here."""
    result = state.result
    assert result is not None
    _understood(state, vocabulary)
    if not state.named and evidence.asks_about_the_resolution_itself(state.asked, own=[d.symbol for d in documents]):
        result = state.result = _header_named(result, documents, state)
        state.named = frozenset(h.unit.id for h in result.named)
    state.context = _context(result, documents, footnotes=state.about_references)
    state.quoted = _quoted(result, state.context, footnotes=state.about_references)
    state.closest = [h.unit for h in result.found][:SUGGESTIONS]
    by_symbol = {d.symbol: d for d in documents}
    if state.about_references:
        # "Which report does par. 1 cite?": the named paragraph's footnotes answer it (Ibid. resolved), for every backend.
        state.footnoted = [h.unit for h in result.named if h.unit.footnotes and h.unit.kind != "footnote"]
    if state.footnoted:
        linked = [by_symbol[u.doc].get(f) for u in state.footnoted for f in u.footnotes]
        state.kept = list(dict.fromkeys([*state.footnoted, *(n for n in linked if n is not None)]))
        return
    if judged:
        limit = JUDGED_LIST if state.listing else JUDGED
        state.candidates, state.candidate_dense = _candidates(result, limit, footnotes=state.about_references)
        if state.listing:
            _add_topic_units(state, documents)
        return
    state.refused = _not_addressed(result, settings.refusal_threshold) or _foreign(state)
    if state.listing and not state.refused:
        # Without a judge, a list is the units whose words cover the topic's, over the whole resolution.
        covering = _topic_units(state, documents, have=set())
        if covering:
            state.quoted = covering[:LISTED_QUOTED]
            state.context = list(state.quoted)
    if not state.refused:
        state.missing = _missing(state, state.quoted[:1])


def decide(state: QuestionState, scores: Sequence[float], settings: AnswerSettings) -> None:
    """The judge's verdict on the candidates: keep those it believes, best first, or decline (named paragraphs are
    always kept; a false premise on a subject the text covers keeps the best one, to say what the text does say)."""
    candidates, dense = state.candidates, state.candidate_dense
    state.scores = dict(zip((u.key for u in candidates), scores, strict=True))
    if any(u.id in state.named for u in candidates):
        state.kept = [u for u in candidates if u.id in state.named]
        state.missing = _missing(state, state.kept)
        return
    decision = judge_decision(list(scores), dense, listing=state.listing, settings=settings)
    covered = max((d or 0.0 for d in dense), default=0.0) >= settings.refusal_threshold
    if decision.declined and covered and state.presupposes:
        decision = Decision(decision.answerable, (0,))  # what the text says instead: see `correcting`
    if _foreign(state) and not state.listing and max(scores, default=0.0) < FOREIGN_TRUST:
        decision = Decision(decision.answerable, ())  # it asks about something the text never names
    state.kept = [candidates[i] for i in decision.kept]
    state.refused = not state.kept
    if state.refused or state.listing:
        return
    best = state.kept[0]
    if state.about_references and best.kind != "footnote" and best.footnotes:
        # "Où trouver la résolution 25/1 de la Commission ?": the paragraph that names it gives its source in a
        # footnote; the answer is that footnote, not a sentence about the paragraph (dev-006 described PP31).
        state.footnoted = [best]
        return
    state.missing = _missing(state, state.kept[:1])


def _header_named(result: RetrievalResult, documents: Sequence[Document], state: QuestionState) -> RetrievalResult:
    """The result with the header of the resolution asked about first, as if the question named it (its title,
    date, session, agenda item and committee are there only): the resolution in scope, else the best ranked one's."""
    scope = [d for d in documents if d.symbol in state.docs] if state.docs else list(documents)
    if len(scope) > 1:
        best = next((h.unit.doc for h in result.found), None)
        scope = [d for d in scope if d.symbol == best]
    header = scope[0].get("header") if scope else None
    if header is None:
        return result
    hits = [Hit(unit=header, score=1.0, via="reference"), *(h for h in result.hits if h.unit.key != header.key)]
    return result.model_copy(update={"hits": tuple(hits)})


def correcting(state: QuestionState) -> None:
    """The question's premise is not what the text says: the answer corrects it with the passage retrieval ranks
    first, not the judge's best (the judge asks "does it answer?", and nothing answers a false premise: on the dev
    split's four corrected premises, retrieval's first was a gold paragraph three times, the judge's best never)."""
    if state.candidates:
        state.kept = state.candidates[:1]


# --- what the question says -----------------------------------------------------------------------------------


def _understood(state: QuestionState, vocabulary: evidence.Vocabulary | None) -> None:
    asked = state.asked
    state.listing = evidence.asks_for_a_list(asked)
    state.about_references = evidence.asks_about_references(asked)
    state.presupposes = evidence.presupposes(asked)
    state.asks = frozenset(evidence.asked_for(asked) & DETAILS)
    if vocabulary is not None and not state.named and state.supported:  # words of another language say nothing
        state.foreign = tuple(t for t in evidence.foreign_terms(asked, vocabulary) if t not in ACRONYM_FORMS)


def _foreign(state: QuestionState) -> bool:
    """The question names things the resolution never mentions: a name or a year ("Brésil", "2022"), or two words
    or more (one word alone is too often a synonym: "réseaux" declined an answerable dev question). A question that
    takes something false for granted uses words the text lacks because its premise is false ("l'expulsion
    immédiate des victimes en situation irrégulière"): only a name declines it; its premise is corrected instead."""
    if state.named:
        return False
    names = [t for t in state.foreign if t[:1].isupper() or t.isdigit()]
    return bool(names) or (len(state.foreign) >= FOREIGN_TERMS and not state.presupposes)


def _missing(state: QuestionState, units: Sequence[Unit]) -> str | None:
    """The detail the question asks for that none of these units gives (their text in either language)."""
    if not state.asks or not units or state.listing:
        return None
    for kind in sorted(state.asks):
        if not any(evidence.holds(_all_texts(u), kind) for u in units):
            return kind
    return None


def _all_texts(unit: Unit) -> str:
    return " ".join([unit.text, unit.source or "", *(t for _, t in (*unit.versions, *unit.rendered))])


# --- the units ------------------------------------------------------------------------------------------------


def _not_addressed(result: RetrievalResult, threshold: float) -> bool:
    """Without a judge: the question is too far from every passage (dense similarity below the threshold)."""
    if result.references:
        return False  # a paragraph the user named always exists by now (else: out of range)
    if not result.hits:
        return True
    return result.best_dense is not None and result.best_dense < threshold


def _context(result: RetrievalResult, documents: Sequence[Document], *, footnotes: bool) -> list[Unit]:
    """What an extractive answer rests on, best first: the named units (+ their links), else the top ranked (a bare
    footnote only when the question is about references)."""
    named = [h.unit for h in result.named][:CITED_UNITS]
    if named:
        # A named unit's links answer questions about it ("which report does paragraph 1 note?"):
        # a paragraph's footnotes, a footnote's paragraph and the source of its "Ibid.".
        by_symbol = {d.symbol: d for d in documents}
        linked = [u for unit in named for u in related(unit, by_symbol[unit.doc]) if u not in named]
        return named + list(dict.fromkeys(linked))[:CITED_FOOTNOTES]
    ranked = [h.unit for h in result.ranked or result.hits]
    return ([u for u in ranked if footnotes or u.kind != "footnote"] or ranked)[:CITED_UNITS]


def _quoted(result: RetrievalResult, context: list[Unit], *, footnotes: bool) -> list[Unit]:
    """What an extractive answer quotes: the named units with their links (whole), else the top ranked units
    close to the best one (a bare footnote only when the question is about references)."""
    if result.named:
        return list(context)
    ranked = [h for h in result.ranked or result.hits if footnotes or h.unit.kind != "footnote"] or list(result.hits)
    if not ranked:
        return []
    best = ranked[0].dense if ranked[0].dense is not None else ranked[0].score
    return [
        h.unit for h in ranked[:CITED_UNITS] if (h.dense if h.dense is not None else h.score) >= best - QUOTED_MARGIN
    ]


def _candidates(result: RetrievalResult, limit: int, *, footnotes: bool) -> tuple[list[Unit], list[float | None]]:
    """The units the judge reads: named ones first, then the ranking, then the links (each unit once); a footnote
    only when named or when the question is about references ("Résolution 64/293." was judged relevant to almost
    anything)."""
    seen: set[str] = set()
    units: list[Unit] = []
    dense: list[float | None] = []
    named = {h.unit.key for h in result.named}
    for hit in (*result.found, *result.linked):
        unit = hit.unit
        if unit.key in seen or (unit.kind == "footnote" and not (footnotes or named)):
            continue
        seen.add(unit.key)
        units.append(unit)
        dense.append(hit.dense)
    return units[:limit], dense[:limit]


_TOPIC_STOP = frozenset(
    fold(w)
    for w in (  # noqa: SIM905  (a word list reads better as text)
        "which what where paragraphs paragraph paras provisions parts clauses sections places passages "
        "articles mention mentions mentioned talk talks refer refers deal deals address addresses discuss "
        "speak cover list all every the of in on to and or a an does do is are resolution text document it "
        "its about how many times quels quelles paragraphes alineas alinéas dispositions passages endroits "
        "parties articles mentionne mentionnent parle parlent traite traitent evoque évoque aborde cite liste "
        "énumère enumere tous toutes les la le des de du d l dans où ou est sont que qui quoi résolution "
        "resolution texte document combien fois il elle with for from by that this these those any has have "
        "been be was were en au aux sur pour par avec ses son sa leur leurs ce cette ces a y preamble "
        "préambule operative dispositif alinea alinéa "
    ).split()
)


def _topic(question: str) -> list[str]:
    """The content words of a list question ("Which paragraphs mention men and boys?" -> men, boys)."""
    words = [re.sub(r"-t-(?:elle|il|on)$|-(?:elle|il|on)$", "", fold(w)) for w in re.findall(r"[\w'’-]+", question)]
    return [w for w in (re.sub(r"^[ldjmnst]['’]", "", w) for w in words) if len(w) > 2 and w not in _TOPIC_STOP]


def _covers(unit: Unit, topic: list[str]) -> bool:
    text = fold(_all_texts(unit))
    return all(re.search(rf"\b{re.escape(w[:6])}", text) for w in topic)


def _topic_units(state: QuestionState, documents: Sequence[Document], *, have: set[str]) -> list[Unit]:
    """Every unit of the resolution (125 units: cheap) whose words, in either language, cover the list question's."""
    topic = _topic(state.asked)
    if not topic:
        return []
    scope = [d for d in documents if not state.docs or d.symbol in state.docs]
    return [u for d in scope for u in d.units if u.kind != "footnote" and u.key not in have and _covers(u, topic)]


def _add_topic_units(state: QuestionState, documents: Sequence[Document]) -> None:
    """A list question's judge reads the units that cover its topic too, not only the ranking's top."""
    extra = _topic_units(state, documents, have={u.key for u in state.candidates})
    room = max(0, LISTED - len(state.candidates))
    state.candidates += extra[:room]
    state.candidate_dense += [None] * len(extra[:room])
