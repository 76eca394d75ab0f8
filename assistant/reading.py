"""The stages an LLM backend serves: the model judges the candidates (read) and writes one sentence per kept unit
(write); code decides what to keep (select.decide) and checks every sentence (check.py)."""

from __future__ import annotations

from resolution_qa.core.errors import BackendError
from resolution_qa.core.refs import Lang
from resolution_qa.ingest.units import Unit

from . import glossary
from .citations import display_label
from .reader import Passage, Reader, first_sentence
from .state import QuestionState


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


def passage(unit: Unit, lang: Lang | None = None) -> Passage:
    """What the model reads of a unit: its version in `lang` when indexed (a footnote with its full source)."""
    version = unit.lang_of(lang or unit.lang)
    text = unit.text_in(version)
    if version == unit.lang and unit.kind == "footnote" and unit.source and unit.source != unit.text:
        text = f"{unit.text} [= {unit.source}]"
    key = unit.key if version == unit.lang else f"{unit.key}@{version}"
    return Passage(key=key, label=display_label(unit, "en"), text=text, lang=version)


class ReadingStage:
    """What a Reader (an LLM backend's narrow roles) does for one question: judge, and write sentences."""

    def __init__(self, reader: Reader, *, multi_doc: bool, timeout_s: float) -> None:
        self.reader = reader
        self.multi_doc = multi_doc
        self.timeout_s = timeout_s  # for the whole answer: a backend past it gives the extractive answer

    def judge(self, state: QuestionState) -> list[float]:
        """P(yes) that each candidate answers the question, in the candidates' order."""
        return self.reader.judge(state.asked, [passage(u, state.lang) for u in state.candidates])

    def premise_unsupported(self, state: QuestionState) -> bool:
        """The question takes for granted something its best kept unit does not say (asked of the judge)."""
        if not state.presupposes or state.named:
            return False
        return self.reader.judge(state.asked, [passage(state.kept[0], state.lang)], premise=True)[0] < 0.5

    def verify(self, state: QuestionState, sentence: str, unit: Unit) -> float:
        """P(yes) that the unit (as the model read it) says what the sentence says."""
        return self.reader.verify(sentence, passage(unit, state.lang))

    def write(self, state: QuestionState, unit: Unit) -> tuple[str, str]:
        """The model's sentence from this unit (unchecked), and the opening code gave it."""
        start = opening(unit, state.lang, multi_doc=self.multi_doc)
        pieces = [start]
        for piece in self.reader.write(state.asked, passage(unit, state.lang), state.lang, start):
            if state.elapsed > self.timeout_s:
                raise BackendError(f"no complete answer within {self.timeout_s:g} s")
            pieces.append(piece)
        return first_sentence("".join(pieces).strip()), start  # one sentence, whatever a backend writes after it

    @staticmethod
    def passage(unit: Unit, lang: Lang | None = None) -> Passage:
        """What the model reads of a unit (see `passage`)."""
        return passage(unit, lang)
