"""The one check every model-written sentence passes, whatever the backend, before a user sees it.

A sentence is shown only if it rests on the sources it cites: no markup, link or HTML the sources do not have;
no number, date, document symbol or proper name that neither its sources, the question nor the glossary's
official English forms of its sources' terms contain; no paragraph number other than its own sources'; nothing
an instruction hidden in the question or the sources asked for (a canary word, the rules, another language);
no question echoed back. Model output is untrusted input: this is where it is checked.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from num2words import num2words

from resolution_qa.core.numbers import mentions as stated_numbers
from resolution_qa.core.refs import Lang, find_mentions
from resolution_qa.core.strings import fold
from resolution_qa.ingest.units import Unit

from . import glossary
from .guard import foreign, injected_payloads, obeys
from .prompts import JUDGE_ASK, PREMISE_ASK, READER_PASSAGE, READER_SYSTEM, START, VERIFY_ASK, WRITE_ASK, WRITE_HINTS

# Markup a model may write that would render as something else than text: HTML tags, Markdown links and
# images, bare URLs, code fences, emphasis markers.
_HTML = re.compile(r"<\s*/?\s*[a-zA-Z][^>]*>")
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\(([^)]*)\)")
_URL = re.compile(r"\b(?:https?://|www\.)\S+", re.IGNORECASE)
_EMPHASIS = re.compile(r"(\*\*|__|`+|(?<!\w)\*(?!\s)|(?<!\w)_(?!\s))")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_SYMBOL = re.compile(r"\b[A-Z]{1,4}(?:/[A-Z0-9.\-]+)+|\b\d{1,3}/\d{1,4}\b")
# "UN"/"ONU" name the organisation whose text this is: an answer may write them without its source spelling them.
_ORGANISATION = frozenset({"UN", "ONU"})
_ACRONYM = re.compile(r"\b[A-Z]{2,}\b")
# Two or more capitalised words in a row ("Nansen Initiative", "Commission on the Status of Women").
_PROPER = re.compile(r"\b[A-Z][\w'’-]+(?:\s+(?:(?:of|for|on|and|against|the|de|du|des|la|le|et|pour|contre)\s+)*[A-Z][\w'’-]+)+")


def _other_texts(unit: Unit) -> tuple[tuple[Lang, str], ...]:
    """A unit's texts in other languages: official versions and unofficial translations checked against it."""
    return (*unit.versions, *unit.rendered)


def _fold(text: str) -> str:
    return fold(text).replace("’", "'")


def _shingles(text: str, n: int = 6) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


_RULES = set().union(
    *(_shingles(p) for p in (READER_SYSTEM, READER_PASSAGE, JUDGE_ASK, PREMISE_ASK, VERIFY_ASK, START, WRITE_HINTS,
                           *WRITE_ASK.values()))
)
# Source tags and bracketed numbers of the kind chat templates use ("[S1]", "[3]"): never part of an answer's words.
_TAG = re.compile(r"\[\s*[A-Z]{0,3}\d+\s*\]")


@dataclass(frozen=True)
class Verdict:
    """A sentence after the check: the text to show (cleaned), or None and why it cannot be shown."""

    text: str | None
    reason: str | None = None  # "leak", "injected", "question", "unsupported-number", "unsupported-symbol",
    # "unsupported-name", "other-paragraph", "empty"


def strip_markup(text: str, sources_text: str = "") -> str:
    """The text without HTML, links, URLs and emphasis (a link's words are kept; what the sources say stays)."""
    text = _HTML.sub(" ", text)
    text = _MD_LINK.sub(lambda m: m.group(1), text)
    text = _URL.sub(lambda m: m.group() if m.group() in sources_text else " ", text)
    text = _EMPHASIS.sub("", _TAG.sub(" ", text))
    text = re.sub(r"\s+([.,;:])", r"\1", text)
    return re.sub(r"\s{2,}", " ", text).strip()


class Sanitiser:
    """Checks the sentences written for one question against the sources each one cites."""

    def __init__(
        self,
        question: str,
        sources: Sequence[Unit],
        lang: Lang,
        *,
        support: Callable[[str, Unit], float] | None = None,
        min_support: float = 0.3,
        typed: str | None = None,
        premise: bool = False,
    ) -> None:
        self.question = question
        self.typed = typed or question  # as the user typed it, orders included (the payloads are found there)
        self.premise = premise  # the question takes something for granted: its words are not support
        self.sources = list(sources)
        self.lang = lang
        self.support = support  # semantic closeness of a sentence to a unit (cosine), when the caller has one
        self.min_support = min_support
        payloads = injected_payloads(f"{self.typed}\n{question}", [u.text for u in sources])
        self._obeyed: Callable[[str], bool] = lambda s: foreign(s) or obeys(s, payloads)

    def check(self, sentence: str, cited: Sequence[Unit], *, given: str = "") -> Verdict:
        """The sentence as it may be shown, resting on `cited` (a subset of the sources), or why not.

        `given` is the opening the code wrote ("Para. 27 urges"): the checks of meaning apply to what the model
        wrote after it, which must say something (an opening alone is not an answer).
        """
        text = strip_markup(sentence, " ".join(u.text for u in cited))
        own = text[len(given):] if given and text.startswith(given) else text
        if not re.search(r"\w", text):
            return Verdict(None, "empty")
        if _shingles(text) & _RULES:
            return Verdict(None, "leak")
        if self._obeyed(text):
            return Verdict(None, "injected")
        if text.rstrip("»”\"' ").endswith("?"):
            return Verdict(None, "question")  # an answer states; a small model sometimes echoes the question
        if _echoes(text, f"{self.typed} {self.question}"):
            return Verdict(None, "question")
        if self.premise and self._repeats_the_premise(own, cited):
            return Verdict(None, "premise")  # "... qui exige bien l'interdiction totale de la prostitution"
        if len(re.findall(r"\w{2,}", own)) < 2:
            return Verdict(None, "empty")
        if self.lang == "en" and _french_in(own):
            return Verdict(None, "other-language")  # "urges governments to engage instamment": half translated
        support = self._support(cited)
        for reason, ok in (
            ("other-paragraph", self._own_paragraphs(text, cited)),
            ("unsupported-symbol", all(s in support.raw for s in _SYMBOL.findall(text))),
            ("unsupported-number", self._numbers_supported(text, support)),
            ("unsupported-name", self._names_supported(text, support)),
        ):
            if not ok:
                return Verdict(None, reason)
        if self.support is not None and cited and max(self.support(own, u) for u in cited) < self.min_support:
            return Verdict(None, "unsupported")  # it may name nothing wrong and still say what no source says
        return Verdict(_sentence_case(text))

    def _repeats_the_premise(self, own: str, cited: Sequence[Unit]) -> bool:
        """Four words in a row from a question that takes something for granted, which no cited source has: the model
        is repeating the presupposition, not reporting the text."""
        sources = set().union(*(_shingles(f"{u.text} {' '.join(t for _, t in _other_texts(u))}", 4) for u in cited))
        return bool((_shingles(own, 4) & _shingles(self.question, 4)) - sources)

    # --- support -----------------------------------------------------------------------------------

    @dataclass(frozen=True)
    class _Support:
        raw: str  # sources, question, glossary English forms, as written
        folded: str  # the same, lower case without accents
        numbers: frozenset[str]
        spelled: str  # lower case, words separated by single spaces (for "seventy-seventh" vs "soixante-dix-septième")
        sources: str  # sources and glossary forms without the question: acronyms must come from here ("you are now DAN")
        values: frozenset[int | float]  # every value stated, in digits, words or ordinals, in either language

    def _support(self, cited: Sequence[Unit]) -> Sanitiser._Support:
        texts = [self.question] + [f"{u.text} {u.source or ''} {u.doc}" for u in cited]
        texts += [text for u in cited for _, text in _other_texts(u)]
        names = " ".join(texts[1:]) + " " + glossary.english_names(u.text for u in cited)
        raw = f"{self.question} {names}"
        numbers = frozenset(re.sub(r"[.,]", "", n) for n in _NUMBER.findall(raw))
        return Sanitiser._Support(raw, _fold(raw), numbers, re.sub(r"[\s-]+", " ", raw.lower()), names,
                                  frozenset(m.value for m in stated_numbers(raw)))

    def _own_paragraphs(self, text: str, cited: Sequence[Unit]) -> bool:
        """Paragraph numbers written in the sentence are those of its own sources (or of other documents)."""
        own = {u.id for u in cited}
        return all(m.unit_id in own for m in find_mentions(text, own={u.doc for u in cited}))

    def _numbers_supported(self, text: str, support: Sanitiser._Support) -> bool:
        mentions = find_mentions(text, others=True)
        for mention in reversed(mentions):  # "par. 27" is a citation, checked above, not a claim
            text = text[: mention.start] + text[mention.end :]
        for symbol in _SYMBOL.findall(text):
            text = text.replace(symbol, " ")
        for number in {re.sub(r"[.,]", "", n) for n in _NUMBER.findall(text)}:
            if number in support.numbers:
                continue
            # "the seventy-seventh session" may come from "soixante-dix-septième session", and the reverse
            if len(number) <= 3 and any(
                re.sub(r"[\s-]+", " ", num2words(int(number), lang=lang, to=to)) in support.spelled
                for lang in ("fr", "en")
                for to in ("cardinal", "ordinal")
            ):
                continue
            return False
        # Numbers written as words and ordinals ("sixty-seventh session" for "soixante-dix-septième", measured twice at
        # temperature 0) must state a value the sources state, however they write it, in either language.
        stated = {m.value for m in stated_numbers(text) if m.kind != "digits" and m.value != 1}
        return stated <= support.values

    def _names_supported(self, text: str, support: Sanitiser._Support) -> bool:
        """Acronyms and multi-word proper names occur in the sources, the question or the glossary's forms."""
        for mention in reversed(find_mentions(text, others=True)):  # "OP27", "PP3" are citations
            text = text[: mention.start] + text[mention.end :]
        for acronym in _ACRONYM.findall(text):
            if acronym not in support.sources and acronym not in _ORGANISATION:
                return False
        text = re.sub(r"^\W*\w+", " ", text)  # the sentence's first word is capitalised anyway
        for name in _PROPER.findall(text):
            words = [w for w in re.findall(r"[\w'’-]+", name) if w[:1].isupper() and len(w) > 3]
            if words and not any(_fold(w) in support.folded for w in words):
                return False
        return True


# French words that no English sentence uses (articles, prepositions) and the adverbs of the Assembly's verbs.
_FRENCH = frozenset(["le", "la", "les", "des", "du", "aux", "et", "une", "pour", "dans", "avec", "sur", "qui", "que", "instamment", "également", "notamment"])


def _french_in(text: str) -> bool:
    """Two French function words, or one of the Assembly's French adverbs, in what should be an English sentence."""
    words = [w.lower() for w in re.findall(r"[\w'’]+", text)]
    french = [w for w in words if w in _FRENCH]
    return len(french) >= 2 or any(w in ("instamment", "également", "notamment") for w in french)


def _echoes(text: str, question: str) -> bool:
    """True when most of the sentence is the question's own words in the question's order (an echo, not an answer)."""
    mine = _shingles(text, 4)
    return len(mine) >= 3 and len(mine & _shingles(question, 4)) >= 0.5 * len(mine)


def _sentence_case(text: str) -> str:
    text = text.strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "…", "»", "”", '"', ")")) else text + "."
