"""The reading stage: the model judges the candidates, code decides, the model writes one sentence per kept
passage, every sentence is checked, and the answer shows the sentences, then the passages they rest on."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from resolution_qa.core.errors import BackendError
from resolution_qa.core.refs import Lang
from resolution_qa.core.settings import AnswerSettings
from resolution_qa.core.strings import words
from resolution_qa.ingest.units import Unit

from . import glossary
from .citations import display_label
from .compose import Composer
from .extractive import PassageScorer, Quote
from .policy import JUDGED, JUDGED_LIST, WRITTEN, Decision, asks_for_a_list, decide, takes_for_granted
from .reader import Passage, Reader, first_sentence
from .sanitise import Sanitiser
from .state import QuestionState
from .types import Answer


@dataclass(frozen=True)
class Sentence:
    """A sentence of the answer and the unit it rests on; `written` is False for a quote put in its place."""

    text: str
    unit: Unit
    written: bool


def opening(unit: Unit, lang: Lang, *, multi_doc: bool = False) -> str:
    """The words the model's sentence begins with, so that it names its paragraph and the Assembly's verb
    ("Para. 27 urges", "Le par. 27 engage instamment"): the verb is the genre's fixed vocabulary, which the small
    model translates badly on its own (glossary.py); the model only continues."""
    label = display_label(unit, lang, multi_doc=multi_doc)
    if unit.kind == "operative" and unit.phrase:
        verb = unit.phrase if unit.lang == lang else (
            glossary.english_phrase(unit.phrase) if lang == "en" else glossary.french_phrase(unit.phrase))
        if lang == "en":
            return f"{label[:1].upper()}{label[1:]} {verb.lower()}" if verb else f"According to {label},"
        return f"Le {label} {verb[:1].lower()}{verb[1:]}" if verb else f"Selon le {label},"
    if unit.kind == "footnote":
        return f"{label[:1].upper()}{label[1:]} refers to" if lang == "en" else f"La {label} renvoie à"
    if unit.kind == "header":
        return ""
    return f"According to the {label}," if lang == "en" else f"Selon le {label},"


class ReadingStage:
    """Answers a retrieved question with a Reader (an LLM backend's narrow roles)."""

    def __init__(
        self, reader: Reader, composer: Composer, scorer: PassageScorer, settings: AnswerSettings, *, timeout_s: float
    ) -> None:
        self.reader = reader
        self.composer = composer
        self.scorer = scorer
        self.settings = settings
        self.timeout_s = timeout_s  # for the whole answer: a backend past it gives the extractive answer

    def run(self, state: QuestionState) -> Iterator[str | Answer]:
        """Judge, decide, write, check, compose: pieces of text as sentences are ready, then the Answer."""
        listing = asks_for_a_list(state.asked)
        kept = self._judged(state, listing)
        if not kept:
            yield from _finish(self.composer.refusal(state))
            return
        state.context = kept
        not_said = self._premise_unsupported(state, kept[0])
        if not_said:
            yield words(state.lang).not_said + " "
        sanitiser = Sanitiser(
            state.asked, kept, state.lang, support=self._support, min_support=self.settings.min_support, typed=state.question,
            premise=takes_for_granted(state.asked),
        )
        sentences: list[Sentence] = []
        for unit in kept[:WRITTEN]:
            sentence = self._write(state, unit, sanitiser)
            if state.first_token is None:
                state.first_token = state.elapsed
            sentences.append(sentence)
            yield sentence.text + " "
        yield self.composer.from_sentences(state, sentences, kept, listing=listing, not_said=not_said)

    def _judged(self, state: QuestionState, listing: bool) -> list[Unit]:
        """The candidates the judge believes, best first ([] to decline); named paragraphs are always kept."""
        candidates, dense = self._candidates(state, listing)
        scores = self.reader.judge(state.asked, [self.passage(u, state.lang) for u in candidates])
        state.scores = dict(zip((u.key for u in candidates), scores, strict=True))
        named = self._named(state)
        if any(u.id in named for u in candidates):
            return [u for u in candidates if u.id in named]
        decision = decide(scores, dense, listing=listing, settings=self.settings)
        covered = max((d or 0.0) for d in dense) >= self.settings.refusal_threshold
        if decision.declined and covered and takes_for_granted(state.asked):
            # A false premise on a subject the text covers: say what it does say rather than decline.
            decision = Decision(decision.answerable, (max(range(len(scores)), key=lambda i: scores[i]),))
        return [candidates[i] for i in decision.kept]

    def _premise_unsupported(self, state: QuestionState, best: Unit) -> bool:
        """The question takes for granted something its best passage does not say (asked of the judge)."""
        if not takes_for_granted(state.asked) or self._named(state):
            return False
        return self.reader.judge(state.asked, [self.passage(best, state.lang)], premise=True)[0] < 0.5

    def _support(self, sentence: str, unit: Unit) -> float:
        """How close a sentence is to the closest passage of its unit (multilingual embeddings, cosine)."""
        return self.scorer.best_passage(unit, self.scorer.embed_query(sentence))[1]

    # --- candidates -------------------------------------------------------------------------------

    @staticmethod
    def _named(state: QuestionState) -> set[str]:
        assert state.result is not None
        return {h.unit.id for h in state.result.hits if h.via == "reference"}

    @staticmethod
    def _candidates(state: QuestionState, listing: bool) -> tuple[list[Unit], list[float | None]]:
        """The units to judge: named ones first, then the ranking (more of it for a list question)."""
        result = state.result
        assert result is not None
        limit = JUDGED_LIST if listing else JUDGED
        hits = [h for h in result.hits if h.via in ("reference", "ranked")]
        hits += [h for h in result.hits if h.via not in ("reference", "ranked")]
        seen: set[str] = set()
        units: list[Unit] = []
        dense: list[float | None] = []
        for hit in hits:
            if hit.unit.key in seen:
                continue
            seen.add(hit.unit.key)
            units.append(hit.unit)
            dense.append(hit.dense)
        return units[:limit], dense[:limit]

    def passage(self, unit: Unit, lang: Lang | None = None) -> Passage:
        """What the model reads of a unit: its version in `lang` when indexed (a footnote with its full source)."""
        version = unit.lang_of(lang or unit.lang)
        text = unit.text_in(version)
        if version == unit.lang and unit.kind == "footnote" and unit.source and unit.source != unit.text:
            text = f"{unit.text} [= {unit.source}]"
        key = unit.key if version == unit.lang else f"{unit.key}@{version}"
        return Passage(key=key, label=display_label(unit, "en"), text=text, lang=version)

    # --- sentences --------------------------------------------------------------------------------

    def _write(self, state: QuestionState, unit: Unit, sanitiser: Sanitiser) -> Sentence:
        """The model's sentence from this unit, checked; the unit's answering clause when it fails the check."""
        start = opening(unit, state.lang, multi_doc=self.composer.multi_doc)
        pieces = [start]
        for piece in self.reader.write(state.asked, self.passage(unit, state.lang), state.lang, start):
            if state.elapsed > self.timeout_s:
                raise BackendError(f"no complete answer within {self.timeout_s:g} s")
            pieces.append(piece)
        written = first_sentence("".join(pieces).strip())  # one sentence, whatever a backend writes after it
        verdict = sanitiser.check(written, [unit], given=start) if written else None
        if verdict is not None and verdict.text is not None:
            return Sentence(verdict.text, unit, written=True)
        state.rejected.append((written, verdict.reason if verdict else "empty"))
        return Sentence(self.clause(state, unit, written or state.asked).passage, unit, written=False)

    def clause(self, state: QuestionState, unit: Unit, near: str) -> Quote:
        """The part of a unit that answers: its passage closest to `near` (the written sentence, or the question)."""
        from .extractive import extract

        return extract(near, [unit], self.scorer, lang=state.lang)[0]


def _finish(answer: Answer) -> Iterator[str | Answer]:
    yield answer.text
    yield answer

