"""Parse the model's source tags, drop invalid ones, fix invented paragraph numbers, attribute uncited sentences."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field

from resolution_qa.ingest.units import Kind, Lang, Unit

from .prompts import EXAMPLE_FACTS, SYSTEM_EXAMPLE, SYSTEM_RULES, THE_TEXT
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


# --- unit numbers written in prose ---------------------------------------------------------------

_ORD = r"(?:er|re|e|ème|eme|st|nd|rd|th)?"
_N = r"(\d{1,3})"
_MENTIONS: tuple[tuple[Kind, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern, re.IGNORECASE))
    for kind, pattern in (
        ("preambular", rf"\b{_N}{_ORD}\s+alin[ée]as?(?:\s+du\s+préambule)?"),
        ("preambular", rf"\b{_N}{_ORD}\s+preambular\s+paragraphs?"),
        ("preambular", rf"\balin[ée]a\s+{_N}(?:\s+du\s+préambule)?"),
        ("preambular", rf"\bpreambular\s+paragraph\s+{_N}"),
        ("preambular", rf"\bparagraph[e]?\s+{_N}\s+(?:of\s+the\s+preamble|du\s+préambule)"),
        ("preambular", rf"\bPP\s?{_N}\b"),
        ("footnote", rf"\b(?:foot)?notes?(?:\s+de\s+bas\s+de\s+page)?\s+{_N}\b"),
        ("footnote", rf"\bfn\s?{_N}\b"),
        ("operative", rf"\bOP\s?{_N}\b"),
        ("operative", rf"\b(?:operative\s+)?(?:paragraphe|paragraph|paras?|par|§)\.?\s*{_N}\b(?:\s+du\s+dispositif)?"),
    )
)
# "A/75/471, par. 80" or "résolution 64/293, par. 3" name a paragraph of another document.
_OTHER_DOCUMENT = re.compile(r"(?:\b[A-Z]+(?:/[\w.()-]+)+|\b\d+/\d+)\s*,?\s*$")
_PREFIX = {"preambular": "PP", "operative": "OP", "footnote": "fn"}


@dataclass(frozen=True)
class Mention:
    """A unit named in prose ("paragraph 12 says")."""

    start: int
    end: int
    unit_id: str
    kind: Kind


def find_mentions(text: str, own: Collection[str] = (), *, others: bool = False) -> list[Mention]:
    """Units of this resolution named in a text, in order; spans of other documents are skipped (kept with `others`).

    A span after the symbol of one of the `own` documents ("A/RES/75/158, par. 99") is a mention of
    this text, the symbol included.
    """
    found: list[Mention] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in _MENTIONS:
        for m in pattern.finditer(text):
            if any(m.start() < end and start < m.end() for start, end in taken):
                continue
            taken.append((m.start(), m.end()))
            window = max(0, m.start() - 40)
            start = m.start()
            if other := _OTHER_DOCUMENT.search(text[window : m.start()]):
                named = re.sub(r"[\s,]+$", "", other.group())
                if not others and not any(named == symbol or symbol.endswith("/" + named) for symbol in own):
                    continue
                start = window + other.start()
            found.append(Mention(start, m.end(), f"{_PREFIX[kind]}{int(m.group(1))}", kind))
    return sorted(found, key=lambda mention: mention.start)


# --- validation ----------------------------------------------------------------------------------


@dataclass
class Validated:
    """An answer after validation: display text and citations in order of first use."""

    text: str
    units: list[Unit] = field(default_factory=list)
    dropped_tags: list[int] = field(default_factory=list)  # tags naming no source given to the model
    attributed: int = 0  # sentences without a valid tag, attributed by similarity
    rewritten: int = 0  # unit numbers in prose that named no cited unit and were replaced
    leaked: int = 0  # sentences dropped because they repeat the system prompt
    ungrounded: int = 0  # sentences dropped because they state a number no source contains
    questions: int = 0  # sentences dropped because they ask a question (an echo of the user's)
    injected: int = 0  # sentences dropped because they write what an injected instruction asked for


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
    allowed = _grounded_numbers(sources, question)
    by_number = {i + 1: unit for i, unit in enumerate(sources)}
    by_id = {unit.id: unit for unit in sources}
    result = Validated(text="")
    used: dict[str, Unit] = {}
    lines_out: list[str] = []
    for line in raw.splitlines():
        if not line.strip():
            if lines_out and lines_out[-1] != "":
                lines_out.append("")
            continue
        pieces: list[tuple[str, list[Unit]]] = []
        for sentence in split_sentences(line):
            lead = _LEADING_TAGS.match(sentence)
            if lead and pieces:  # "Claim. [S1]": the tag belongs to the sentence before
                pieces[-1][1].extend(_tagged(lead.group(), by_number, result))
                sentence = sentence[lead.end() :]
            units = _tagged(sentence, by_number, result)
            body = strip_tags(sentence)
            if not re.search(r"\w", body):
                if pieces:
                    pieces[-1][1].extend(units)
                continue
            if _is_leak(body):
                result.leaked += 1
                continue
            if obeys is not None and obeys(body):
                result.injected += 1
                continue
            if body.rstrip("»”\"' ").endswith("?"):
                result.questions += 1  # an answer states; a small model sometimes echoes the question
                continue
            pieces.append((body, units))
        rendered: list[str] = []
        for body, units in pieces:
            mentions = find_mentions(body, own={u.doc for u in sources})
            if _invents_number(body, mentions, allowed):
                result.ungrounded += 1
                continue
            units = units + [by_id[m.unit_id] for m in mentions if m.unit_id in by_id]
            if not units and _is_content(body) and sources:
                units = [attribute(body, sources)]
                result.attributed += 1
            units = list(dict.fromkeys(units))
            body = _fix_mentions(body, mentions, units, by_id, lang, result, multi_doc=multi_doc)
            for unit in units:
                used.setdefault(unit.key, unit)
            named = {m.unit_id for m in mentions}  # "Le par. 26 demande ..." already shows its citation
            labels = [display_label(u, lang, multi_doc=multi_doc) for u in units if u.id not in named]
            rendered.append(_with_labels(body, labels))
        if rendered:
            lines_out.append(" ".join(rendered))
    text = "\n".join(lines_out).strip()
    if text and not used and sources:
        # Nothing in the answer was a claim on its own: the whole answer rests on its best source.
        unit = attribute(text, sources)
        used[unit.key] = unit
        result.attributed += 1
        text = _with_labels(text, [display_label(unit, lang, multi_doc=multi_doc)])
    result.text = text
    result.units = list(used.values())
    return result


def _tagged(text: str, by_number: dict[int, Unit], result: Validated) -> list[Unit]:
    units: list[Unit] = []
    for number in tag_numbers(text):
        unit = by_number.get(number)
        if unit is None:
            result.dropped_tags.append(number)
        else:
            units.append(unit)
    return units


def _fix_mentions(
    body: str,
    mentions: list[Mention],
    units: list[Unit],
    by_id: dict[str, Unit],
    lang: Lang,
    result: Validated,
    *,
    multi_doc: bool,
) -> str:
    """Write prose unit numbers as labels; one naming no given unit becomes a cited unit's label (or "the text")."""
    out: list[str] = []
    last = 0
    for mention in mentions:
        named = by_id.get(mention.unit_id)
        if named is None:
            result.rewritten += 1
            same_kind = [u for u in units if u.kind == mention.kind]
            named = (same_kind or units or [None])[0]
        out.append(body[last : mention.start])
        out.append(display_label(named, lang, multi_doc=multi_doc) if named else THE_TEXT[lang])
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
        self.dropped = 0

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
            self.dropped += len(sentences) - len(kept)
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
