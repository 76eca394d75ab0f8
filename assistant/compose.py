"""The last stage: an Answer from a question's state (the model's checked sentences, quotes, a refusal or an error).

It composes what the earlier stages decided (select.py chose the units, the reader's sentences were checked) and
decides nothing about which units are cited."""

from __future__ import annotations

from collections.abc import Sequence

from resolution_qa.core.refs import Lang, find_mentions, named_resolutions, resolution_symbol
from resolution_qa.core.strings import OTHER_LANGUAGE, ui_text
from resolution_qa.ingest.units import Document, Unit

from .citations import cite, display_label
from .extractive import ClauseScorer, extract, render
from .state import QuestionState, Sentence
from .types import Answer, Citation, Sources, Timings


class Composer:
    """Makes the Answers of one assistant: from checked model text, from quotes (the one fallback path), refusals."""

    def __init__(self, documents: Sequence[Document], scorer: ClauseScorer, backend: str) -> None:
        self.documents = list(documents)
        self.by_symbol = {d.symbol: d for d in documents}
        self.scorer = scorer
        self.backend = backend
        self.multi_doc = len(documents) > 1

    def compose(self, state: QuestionState) -> Answer:
        """The Answer the earlier stages call for: out of range, a refusal, the model's sentences, else quotes
        (with `state.failure`, the reason the model's answer was not used)."""
        if state.out_of_range is not None:
            return self.out_of_range(state)
        if state.footnoted:
            return self.from_footnotes(state)
        if state.refused:
            return self.refusal(state)
        if state.missing is not None:
            return self.not_given(state)
        if state.sentences and state.failure is None:
            return self.from_sentences(state)
        return self.extractive(state, failure=state.failure)

    # --- kinds of answers ---------------------------------------------------------------------------

    def from_sentences(self, state: QuestionState) -> Answer:
        """The model's checked sentences, each with its label, then the units they rest on, quoted; first,
        when the question takes for granted what the text does not say, that it does not say it."""
        lang = state.lang
        sentences, kept = state.sentences, state.kept
        said = " ".join(self._labelled(s, lang) for s in sentences)
        lines = [f"{ui_text(lang).not_said} {said}" if state.not_said else said]
        if any(s.written and s.unit.lang_of(lang) != lang for s in sentences):
            lines.append(ui_text(lang).unofficial)  # model-written words about a text in another language
        elif any(s.written and not s.unit.official_in(lang) for s in sentences):
            lines.append(ui_text(lang).from_translation)  # written from an unofficial translation of the text
        # Quoted as the extractive answer quotes: the clause that answers the question (a model's sentence may be off
        # the point), the whole paragraph when the question names it.
        quotes = [extract(state.asked, [u], self.scorer, whole=state.named, lang=lang)[0] for u in kept]
        lines.append(render(quotes, lang, multi_doc=self.multi_doc))
        text = "\n".join(lines) if state.supported else f"{OTHER_LANGUAGE}\n" + "\n".join(lines)
        return self.answer(state, text=text, units=list(kept), context=kept, backend=self.backend,
                           notice=self._language_notice(state))

    def from_footnotes(self, state: QuestionState) -> Answer:
        """A question about a named paragraph's references, answered from its footnotes (Ibid. resolved): "Para. 1
        refers to footnote 8: A/75/289." The paragraph and each footnote are cited."""
        lang = state.lang
        t = ui_text(lang)
        lines = []
        cited: list[Unit] = []  # what the lines say: each paragraph and its footnotes
        for unit in state.footnoted:
            label = display_label(unit, lang, multi_doc=self.multi_doc)
            for fid in unit.footnotes:
                note = self.by_symbol[unit.doc].get(fid)
                if note is None:
                    continue
                cited += [u for u in (unit, note) if u not in cited]
                reference = _reference(note, lang)
                note_label = display_label(note, lang, multi_doc=self.multi_doc)
                lines.append(t.refers_to.format(label=label[:1].upper() + label[1:], note=note_label,
                                                reference=reference))
        text = "\n".join(lines) if state.supported else f"{OTHER_LANGUAGE}\n" + "\n".join(lines)
        return self.answer(state, text=text, units=cited, context=cited, backend=self.backend,
                           notice=self._language_notice(state))

    def not_given(self, state: QuestionState) -> Answer:
        """The text names the subject but not the detail asked ("The resolution does not give that date. What it says
        on the subject:" and the passage): a refusal that cites what the text does say."""
        lang = state.lang
        t = ui_text(lang)
        units = (state.kept or state.quoted)[:1]
        quotes = extract(state.asked, units, self.scorer, whole=state.named, lang=lang)
        lines = [] if state.supported else [OTHER_LANGUAGE]
        lines.append(t.not_given.format(what=t.details.get(state.missing or "", t.details["number"])))
        lines.append(render(quotes, lang, multi_doc=self.multi_doc).split("\n", 1)[-1])
        return self.answer(state, text="\n".join(lines), units=units, context=units, backend=self.backend,
                           refused=True, notice=self._language_notice(state))

    def _labelled(self, sentence: Sentence, lang: Lang) -> str:
        label = display_label(sentence.unit, lang, multi_doc=self.multi_doc)
        if sentence.written:
            if sentence.unit.id in {m.unit_id for m in find_mentions(sentence.text, own={sentence.unit.doc})}:
                return sentence.text  # "Para. 27 urges ...": it names its source already
            return f"{sentence.text.rstrip('.')} ({label})."
        quote = f"« {sentence.text} »" if lang == "fr" else f"“{sentence.text}”"
        return f"{label}{ui_text(lang).colon} {quote}."

    def sources(self, state: QuestionState, limit: int = 5) -> Sources:
        """The passages retrieved for a question, best first (named ones first), to show before any answer."""
        result = state.result
        assert result is not None
        units = list(dict.fromkeys(h.unit for h in result.found))[:limit]
        return Sources(citations=self.citations(units, state.lang))

    def citations(self, units: Sequence[Unit], lang: Lang) -> tuple[Citation, ...]:
        return tuple(cite(u, lang, multi_doc=self.multi_doc) for u in units)

    def extractive(self, state: QuestionState, *, failure: str | None = None) -> Answer:
        """Quotes of the units select.py chose, with their labels: the extractive backend, and the fallback of
        every other one (`failure` says why the model's answer was not used)."""
        lang = state.lang
        quotes = extract(state.asked, state.quoted, self.scorer, whole=state.named, lang=lang)
        lines: list[str] = []
        notice = None
        if failure is not None:
            notice = ui_text(lang).fallback_notice.format(reason=failure)
            lines.append(notice)
        if not state.supported:
            notice = notice or OTHER_LANGUAGE
            lines.append(OTHER_LANGUAGE)
        lines.append(render(quotes, lang, multi_doc=self.multi_doc))
        return self.answer(state, text="\n".join(lines), units=[q.unit for q in quotes], backend="extractive",
                           notice=notice)

    def refusal(self, state: QuestionState) -> Answer:
        """The resolution does not answer this; the closest passages are offered instead."""
        lang = state.lang
        t = ui_text(lang)
        lines = [] if state.supported else [OTHER_LANGUAGE]
        scope = self._scope(state)
        lines.append(t.refusal.format(doc=scope[0]) if len(scope) == 1 else t.refusal_any.format(docs=", ".join(scope)))
        closest = state.closest
        suggestions = tuple(cite(u, lang, multi_doc=self.multi_doc) for u in closest)
        if suggestions:
            lines.append(t.closest.format(labels=", ".join(s.label for s in suggestions)))
        return self.answer(state, text=" ".join(lines), units=[], context=closest, backend=self.backend, refused=True,
                           suggestions=suggestions, notice=self._language_notice(state))

    def out_of_range(self, state: QuestionState) -> Answer:
        """The question names a paragraph the resolution does not have: say how many it has."""
        exc = state.out_of_range
        assert exc is not None
        t = ui_text(state.lang)
        kind = exc.kind if exc.kind in t.kinds else "operative"
        plural, singular = t.kinds[kind]  # type: ignore[index]
        docs = exc.docs or (self.documents[0].symbol,)
        if len(docs) == 1:
            text = t.out_of_range.format(doc=docs[0], maximum=exc.maximum, plural=plural, singular=singular,
                                         number=exc.number)
        else:
            text = t.out_of_range_any.format(docs=", ".join(docs), singular=singular, number=exc.number)
        return self.answer(state, text=text, units=[], context=[], backend=self.backend, refused=True)

    # --- the Answer -----------------------------------------------------------------------------------

    def answer(
        self,
        state: QuestionState,
        *,
        text: str,
        units: Sequence[Unit],
        backend: str,
        context: Sequence[Unit] | None = None,
        refused: bool = False,
        suggestions: tuple[Citation, ...] = (),
        notice: str | None = None,
    ) -> Answer:
        lang = state.lang
        total = state.elapsed
        return Answer(
            question=state.question,
            text=text,
            language=lang,
            refused=refused,
            citations=tuple(cite(u, lang, multi_doc=self.multi_doc) for u in units),
            retrieved=tuple(u.id for u in (state.context if context is None else context)),
            standalone=state.rewrite.standalone if state.rewrite else state.question,
            timings=Timings(
                retrieval=state.retrieval_s,
                shown=state.shown,
                first_token=state.first_token if state.first_token is not None else total,
                total=total,
            ),
            backend=backend,
            notice=notice,
            suggestions=suggestions,
            footnotes=self._footnotes(units, lang),
        )

    # --- helpers ----------------------------------------------------------------------------------------

    def _footnotes(self, units: Sequence[Unit], lang: str) -> tuple[Citation, ...]:
        """Footnotes of the cited units that are not cited themselves, to show with them."""
        cited = {u.key for u in units}
        notes: dict[str, Citation] = {}
        for unit in units:
            for fid in unit.footnotes:
                note = self.by_symbol[unit.doc].get(fid)
                if note is not None and note.key not in cited and note.key not in notes:
                    notes[note.key] = cite(note, lang, multi_doc=self.multi_doc)  # type: ignore[arg-type]
        return tuple(notes.values())

    def _scope(self, state: QuestionState) -> list[str]:
        """The symbols of the documents a question was answered from: named in it, else the filter, else all."""
        indexed = [d.symbol for d in self.documents]
        standalone = state.rewrite.standalone if state.rewrite else state.question
        named = [s for s in named_resolutions(standalone) if s in indexed]
        if named:
            return named
        if state.docs:
            return list(dict.fromkeys(resolution_symbol(d) for d in state.docs))
        return indexed

    @staticmethod
    def _language_notice(state: QuestionState) -> str | None:
        return None if state.supported else OTHER_LANGUAGE  # as for every answer to another language


def _reference(note: Unit, lang: Lang) -> str:
    """What a footnote refers to, in the answer's language when a translation says more than "Ibid.", else the
    official reference with its "Ibid." resolved."""
    text = note.text_in(lang)
    if note.lang_of(lang) != note.lang and not text.lower().startswith("ibid"):
        return text.rstrip(".")
    return (note.source or note.text).rstrip(".")
