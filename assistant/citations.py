"""Parse the model's source tags, drop invalid ones, fix invented paragraph numbers, attribute uncited sentences."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from resolution_qa.core.refs import Lang, Mention, find_mentions
from resolution_qa.core.strings import words
from resolution_qa.ingest.units import Unit

from .prompts import EXAMPLE_FACTS, SYSTEM_EXAMPLE, SYSTEM_RULES
from .types import Citation

#: Picks, among the units given to the model, the one that best supports a sentence.
Attribute = Callable[[str, Sequence[Unit]], Unit]

# --- citations -----------------------------------------------------------------------------------


def display_label(unit: Unit, lang: Lang, *, multi_doc: bool = False) -> str:
    """Label of a unit: "par. 27", or "A/RES/75/158, par. 27" when answers can cite several documents."""
    return unit.citation(lang) if multi_doc else unit.label(lang)


def cite(unit: Unit, lang: Lang, *, multi_doc: bool = False) -> Citation:
    return Citation(
        id=unit.id,
        doc=unit.doc,
        label=display_label(unit, lang, multi_doc=multi_doc),
        text=unit.text,
        footnotes=unit.footnotes,
        source=unit.source if unit.source and unit.source != unit.text else None,
    )


# --- source tags ---------------------------------------------------------------------------------

# "[S1]", "[S1, S2]", "[1]", "[s2; S3]", "(S1)": the forms small models write for "[S1]".
_TAG = re.compile(
    r"\[\s*((?:S\s?)?\d{1,2}(?:\s*[,;/]\s*(?:S\s?)?\d{1,2})*)\s*\]|\(\s*(S\s?\d{1,2}(?:\s*[,;/]\s*S\s?\d{1,2})*)\s*\)",
    re.IGNORECASE,
)
_LEADING_TAGS = re.compile(rf"^\s*(?:(?:{_TAG.pattern})\s*)+", re.IGNORECASE)


def tag_numbers(text: str) -> list[int]:
    """Source numbers named by the tags in a text, in order ("[S2][S1]" -> [2, 1])."""
    numbers: list[int] = []
    for m in _TAG.finditer(text):
        for part in re.split(r"[,;/]", m.group(1) or m.group(2)):
            numbers.append(int(re.sub(r"\D", "", part)))
    return numbers


def strip_tags(text: str) -> str:
    return _tidy(_TAG.sub(" ", text))


def _tidy(text: str) -> str:
    text = re.sub(r"[ \t]+", " ", text)
    text = re.sub(r"\s+([.,;:!?)»])", r"\1", text)
    text = re.sub(r"([(«])\s+", r"\1", text)
    return text.strip()


# --- sentences -----------------------------------------------------------------------------------

# Sentence splitters on PyPI (pysbd, sentencex) cut "par. 27" and "para. 80" in two, which is the
# one abbreviation our answers are full of; this splitter only cuts before a capital, a quote or
# a tag, and never after a known abbreviation.
_ABBREVIATIONS = frozenset(
    {"par", "para", "paras", "paragr", "al", "vol", "vols", "no", "nos", "n°", "p", "pp", "art", "arts", "ibid",
     "cf", "mr", "mrs", "ms", "dr", "st", "res", "doc", "suppl", "sess", "fig", "op", "e.g", "i.e", "mme", "mm", "m",
     "chap", "sect", "ch", "annex", "ann"}
)
_BOUNDARY = re.compile(r"(?<=[.!?…])[\"»”')\]]*\s+(?=[A-ZÀ-ÝŒ«\"“(\[])")


def split_sentences(text: str) -> list[str]:
    """Sentences of one line of text."""
    sentences: list[str] = []
    start = 0
    for m in _BOUNDARY.finditer(text):
        before = text[start : m.start()]
        word = re.search(r"(\S+)[.!?…]$", before)
        token = word.group(1).lower() if word else ""
        if token in _ABBREVIATIONS or re.fullmatch(r"(?:[a-z]\.)*[a-z]", token) or re.fullmatch(r"\d{1,2}\.", before.strip()):
            continue  # "par. 27", "U.N.", initials and list numbers ("1. ...") do not end a sentence
        sentences.append(text[start : m.start()].strip())
        start = m.end()
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return [s for s in sentences if s]


# --- validation ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dropped:
    """A sentence of the model's answer that is not shown, and why."""

    reason: str  # "leak" (repeats the prompt), "injected" (obeys an order in the data), "question" (an echo),
    # "ungrounded" (states a number no source has), "tag" (a source tag naming no given source; `text` is it)
    text: str


@dataclass
class Validated:
    """An answer after validation: display text, citations in order of first use, and what was dropped."""

    text: str
    units: list[Unit] = field(default_factory=list)
    dropped: list[Dropped] = field(default_factory=list)

    @property
    def ungrounded(self) -> bool:
        """Some sentence stated a number that no source (nor the question) contains."""
        return any(d.reason == "ungrounded" for d in self.dropped)


def _shingles(text: str, n: int = 6) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


# The example's question is part of the prompt too (its answer line is not: "the resolution does not say that" is advised).
_RULE_SHINGLES = _shingles(SYSTEM_RULES) | _shingles(re.search(r"<question>(.*?)</question>", SYSTEM_EXAMPLE).group(1))
_EXAMPLE_SHINGLES = set().union(*(_shingles(fact, 4) for fact in EXAMPLE_FACTS))


def _is_leak(sentence: str) -> bool:
    """The sentence repeats the rules, or the made-up facts of the prompt's example."""
    return bool(_shingles(sentence) & _RULE_SHINGLES or _shingles(sentence, 4) & _EXAMPLE_SHINGLES)


_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def _numbers_in(text: str) -> set[str]:
    return {re.sub(r"[.,]", "", n) for n in _NUMBER.findall(text)}


def _spelled(text: str) -> str:
    return re.sub(r"[\s-]+", " ", text.lower())


def _grounded_numbers(sources: Sequence[Unit], question: str) -> tuple[set[str], str]:
    """Numbers the answer may state: written in the sources or the question (digits, or French words)."""
    texts = [question] + [f"{u.text} {u.source or ''}" for u in sources]
    return set().union(*(_numbers_in(t) for t in texts)), _spelled(" ".join(texts))


def _invents_number(body: str, mentions: list[Mention], allowed: tuple[set[str], str]) -> bool:
    """True when the sentence states a number that no source (nor the question) contains."""
    from num2words import num2words

    digits, spelled = allowed
    text = body
    for mention in reversed(mentions):  # "par. 27" is a citation, not a claim
        text = text[: mention.start] + text[mention.end :]
    for number in _numbers_in(text):
        if number in digits:
            continue
        # "the seventy-seventh session" may come from "soixante-dix-septième session"
        if len(number) <= 3 and any(
            _spelled(num2words(int(number), lang="fr", to=to)) in spelled for to in ("cardinal", "ordinal")
        ):
            continue
        return True
    return False


def _is_content(sentence: str) -> bool:
    # Short connectors ("Yes.", "Voici :") are not claims and need no source.
    return len(re.findall(r"\w+", sentence)) >= 4 and not sentence.rstrip().endswith(":")


def _with_labels(body: str, labels: list[str]) -> str:
    if not labels:
        return body
    m = re.search(r"[.!?…]+[\"»”]?$", body)
    core, end = (body[: m.start()], m.group()) if m else (body, ".")
    return f"{core.rstrip()} ({'; '.join(labels)}){end}"


def validate(
    raw: str,
    sources: Sequence[Unit],
    lang: Lang,
    attribute: Attribute,
    *,
    question: str = "",
    multi_doc: bool = False,
    obeys: Callable[[str], bool] | None = None,
) -> Validated:
    """Turn a model answer that cites with [Sn] tags into display text whose every citation is a given unit.

    Tags naming no given source are dropped; unit numbers the model wrote in prose become the label
    of a cited unit (or "the text"); each claim left without a citation is attributed to the given
    unit that best supports it; a sentence stating a number found in no source (nor in the question)
    is dropped; a sentence for which `obeys` is true (it writes what an injected instruction asked for,
    see guard.injected_payloads) is dropped; every non-empty answer ends up citing at least one unit.
    """
    return _Validator(sources, lang, attribute, question=question, multi_doc=multi_doc, obeys=obeys).run(raw)


class _Validator:
    """validate(), phase by phase: sentences and their tags, then the checks, then citations and labels."""

    def __init__(
        self,
        sources: Sequence[Unit],
        lang: Lang,
        attribute: Attribute,
        *,
        question: str,
        multi_doc: bool,
        obeys: Callable[[str], bool] | None,
    ) -> None:
        self.sources = list(sources)
        self.lang = lang
        self.attribute = attribute
        self.multi_doc = multi_doc
        self.obeys = obeys
        self.allowed = _grounded_numbers(sources, question)
        self.by_number = {i + 1: unit for i, unit in enumerate(sources)}
        self.by_id = {unit.id: unit for unit in sources}
        self.own = {u.doc for u in sources}
        self.used: dict[str, Unit] = {}
        self.dropped: list[Dropped] = []

    def run(self, raw: str) -> Validated:
        lines_out: list[str] = []
        for line in raw.splitlines():
            if not line.strip():
                if lines_out and lines_out[-1] != "":
                    lines_out.append("")
                continue
            rendered = [self._cited(body, units) for body, units in self._claims(line)]
            kept = [r for r in rendered if r is not None]
            if kept:
                lines_out.append(" ".join(kept))
        return Validated(text=self._rests_on_something("\n".join(lines_out).strip()), units=list(self.used.values()),
                         dropped=self.dropped)

    def _claims(self, line: str) -> list[tuple[str, list[Unit]]]:
        """The line's sentences without their tags, each with the units its tags name; drops what must not show."""
        pieces: list[tuple[str, list[Unit]]] = []
        for sentence in split_sentences(line):
            lead = _LEADING_TAGS.match(sentence)
            if lead and pieces:  # "Claim. [S1]": the tag belongs to the sentence before
                pieces[-1][1].extend(self._tagged(lead.group()))
                sentence = sentence[lead.end() :]
            units = self._tagged(sentence)
            body = strip_tags(sentence)
            if not re.search(r"\w", body):
                if pieces:
                    pieces[-1][1].extend(units)
                continue
            reason = self._unshowable(body)
            if reason is not None:
                self.dropped.append(Dropped(reason, body))
                continue
            pieces.append((body, units))
        return pieces

    def _unshowable(self, body: str) -> str | None:
        if _is_leak(body):
            return "leak"
        if self.obeys is not None and self.obeys(body):
            return "injected"
        if body.rstrip("»”\"' ").endswith("?"):
            return "question"  # an answer states; a small model sometimes echoes the question
        return None

    def _cited(self, body: str, units: list[Unit]) -> str | None:
        """The sentence with its labels, or None when it states a number no source has."""
        mentions = find_mentions(body, own=self.own)
        if _invents_number(body, mentions, self.allowed):
            self.dropped.append(Dropped("ungrounded", body))
            return None
        units = units + [self.by_id[m.unit_id] for m in mentions if m.unit_id in self.by_id]
        if not units and _is_content(body) and self.sources:
            units = [self.attribute(body, self.sources)]
        units = list(dict.fromkeys(units))
        body = _fix_mentions(body, mentions, units, self.by_id, self.lang, multi_doc=self.multi_doc)
        for unit in units:
            self.used.setdefault(unit.key, unit)
        named = {m.unit_id for m in mentions}  # "Le par. 26 demande ..." already shows its citation
        labels = [display_label(u, self.lang, multi_doc=self.multi_doc) for u in units if u.id not in named]
        return _with_labels(body, labels)

    def _rests_on_something(self, text: str) -> str:
        if text and not self.used and self.sources:
            # Nothing in the answer was a claim on its own: the whole answer rests on its best source.
            unit = self.attribute(text, self.sources)
            self.used[unit.key] = unit
            text = _with_labels(text, [display_label(unit, self.lang, multi_doc=self.multi_doc)])
        return text

    def _tagged(self, text: str) -> list[Unit]:
        units: list[Unit] = []
        for number in tag_numbers(text):
            unit = self.by_number.get(number)
            if unit is None:
                self.dropped.append(Dropped("tag", f"S{number}"))
            else:
                units.append(unit)
        return units


def _fix_mentions(
    body: str,
    mentions: list[Mention],
    units: list[Unit],
    by_id: dict[str, Unit],
    lang: Lang,
    *,
    multi_doc: bool,
) -> str:
    """Write prose unit numbers as labels; one naming no given unit becomes a cited unit's label (or "the text")."""
    out: list[str] = []
    last = 0
    for mention in mentions:
        named = by_id.get(mention.unit_id)
        if named is None:
            same_kind = [u for u in units if u.kind == mention.kind]
            named = (same_kind or units or [None])[0]
        out.append(body[last : mention.start])
        out.append(display_label(named, lang, multi_doc=multi_doc) if named else words(lang).the_text)
        last = mention.end
    out.append(body[last:])
    text = _tidy("".join(out))
    return text[:1].upper() + text[1:]


class LabelStream:
    """Rewrites [Sn] tags into labels while an answer streams, holding back a tag until it is complete.

    An answer that starts with the NOT_IN_SOURCES marker is held back entirely: the assistant
    replaces it with its own refusal.
    """

    def __init__(self, sources: Sequence[Unit], lang: Lang, marker: str, *, multi_doc: bool = False) -> None:
        self._labels = {i + 1: display_label(u, lang, multi_doc=multi_doc) for i, u in enumerate(sources)}
        self._marker = marker
        self._buffer = ""
        self._decided = False
        self._muted = False

    def feed(self, piece: str) -> str:
        self._buffer += piece
        if self._muted:
            return ""
        if not self._decided:
            head = self._buffer.lstrip()
            if self._marker.startswith(head):
                return ""  # could still become the marker
            self._decided = True
            if head.startswith(self._marker):
                self._muted = True
                return ""
        open_at = self._buffer.rfind("[")
        if open_at != -1 and "]" not in self._buffer[open_at:] and len(self._buffer) - open_at < 16:
            ready, self._buffer = self._buffer[:open_at], self._buffer[open_at:]
        else:
            ready, self._buffer = self._buffer, ""
        return self._convert(ready)

    def flush(self) -> str:
        ready, self._buffer = self._buffer, ""
        return "" if self._muted or (not self._decided and self._marker.startswith(ready.strip())) else self._convert(
            ready
        )

    def _convert(self, text: str) -> str:
        def label(match: re.Match[str]) -> str:
            names = [self._labels[n] for n in tag_numbers(match.group()) if n in self._labels]
            return f"({'; '.join(dict.fromkeys(names))})" if names else ""

        return _TAG.sub(label, text)


class StreamScreen:
    """Holds streamed answer text back to whole sentences and drops those validation would drop.

    The final, validated Answer replaces the streamed text anyway; this keeps a leak of the rules, an
    obeyed injection or an invented unit number from being shown even for a moment while it streams.
    """

    def __init__(self, sources: Sequence[Unit], reject: Callable[[str], bool]) -> None:
        self._reject = reject
        self._known = {u.id for u in sources}
        self._own = {u.doc for u in sources}
        self._buffer = ""

    def _unsafe(self, sentence: str) -> bool:
        if _is_leak(sentence) or self._reject(sentence):
            return True
        mentions = find_mentions(sentence, own=self._own)
        # A unit of another document ("A/RES/75/158, par. 99" in an answer about 75/990) is never shown early.
        return len(find_mentions(sentence, others=True)) > len(mentions) or any(m.unit_id not in self._known for m in mentions)

    def _screen(self, text: str) -> str:
        shown: list[str] = []
        for line in re.split(r"(\n)", text):
            if line == "\n" or not line.strip():
                shown.append(line)
                continue
            sentences = split_sentences(line)
            kept = [s for s in sentences if not self._unsafe(s)]
            if kept:
                shown.append(" ".join(kept) + (" " if line.endswith((" ", "\t")) else ""))
        return "".join(shown)

    def feed(self, piece: str) -> str:
        """The text of the sentences completed by this piece that pass the checks ("" while one is open)."""
        self._buffer += piece
        cut = self._buffer.rfind("\n") + 1
        line = self._buffer[cut:]
        complete = split_sentences(line)
        if len(complete) > 1:
            # All but the last sentence of the open line are complete: cut before the last one starts.
            last = complete[-1]
            cut += line.rfind(last)
        ready, self._buffer = self._buffer[:cut], self._buffer[cut:]
        return self._screen(ready) if ready else ""

    def flush(self) -> str:
        ready, self._buffer = self._buffer, ""
        return self._screen(ready) if ready.strip() else ready
