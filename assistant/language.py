"""Which language a text is in: a question (and so which language, French or English, the answer takes), and an
answer's own words (what the evaluation scores): one module, one pair of lingua detectors."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

from resolution_qa.ingest.units import Lang

# Common languages besides French and English, so that a Spanish or German question is told
# apart from a French one instead of being forced into one of the two.
_LANGUAGES = (
    Language.ENGLISH,
    Language.FRENCH,
    Language.SPANISH,
    Language.PORTUGUESE,
    Language.ITALIAN,
    Language.GERMAN,
    Language.DUTCH,
    Language.POLISH,
    Language.RUSSIAN,
    Language.UKRAINIAN,
    Language.TURKISH,
    Language.ARABIC,
    Language.PERSIAN,
    Language.HINDI,
    Language.CHINESE,
    Language.JAPANESE,
    Language.KOREAN,
    Language.INDONESIAN,
    Language.SWAHILI,
)

#: Below this confidence another language is not trusted over French/English: short questions
#: such as "par. 40" or "hello" get scattered, low scores.
OTHER_LANGUAGE_MIN_CONFIDENCE = 0.5
#: Below this gap between French and English the question is ambiguous and the fallback decides.
AMBIGUITY_MARGIN = 0.05

#: One or two words ("para. 40", "merci") need this much French/English confidence to beat the fallback.
SHORT_MIN_CONFIDENCE = 0.75

# Unit references and numbers carry no language and pull short questions towards random languages.
_NEUTRAL = re.compile(r"\b(?:OP|PP|fn)\s?\d+\b|\d+|[^\w\s'’-]", re.IGNORECASE)


@dataclass(frozen=True)
class LanguageGuess:
    """The answer language and what was detected."""

    answer: Lang  # the language the answer is written in
    detected: str  # ISO 639-1 code of the detected language ("fr", "en", "es", ...) or "unknown"
    confidence: float

    @property
    def supported(self) -> bool:
        """False when the question is in another language (the answer says it answers in French or English)."""
        return self.detected in ("fr", "en", "unknown")


@lru_cache(maxsize=1)
def _detector() -> LanguageDetector:
    # Built once per process: lingua loads its models lazily, on first use (~2 s).
    return LanguageDetectorBuilder.from_languages(*_LANGUAGES).build()


@lru_cache(maxsize=1)
def _french_or_english() -> LanguageDetector:
    # A two-way detector decides between the answer languages: with many candidates a short
    # French question ("Que dit le paragraphe 27 ?") spreads its score over Romance languages.
    return LanguageDetectorBuilder.from_languages(Language.FRENCH, Language.ENGLISH).build()


def detect_language(text: str, fallback: Lang = "en") -> LanguageGuess:
    """Detect the language of a question; `fallback` decides when French and English are indistinguishable."""
    words = _NEUTRAL.sub(" ", text).strip()
    if not words:
        return LanguageGuess(answer=fallback, detected="unknown", confidence=0.0)
    values = _detector().compute_language_confidence_values(words)
    scores = {v.language.iso_code_639_1.name.lower(): v.value for v in values}
    top = max(scores, key=lambda code: scores[code])
    if top not in ("fr", "en") and scores[top] >= OTHER_LANGUAGE_MIN_CONFIDENCE and len(words.split()) >= 2:
        return LanguageGuess(answer="en", detected=top, confidence=scores[top])
    pair = {v.language.iso_code_639_1.name.lower(): v.value for v in _french_or_english().compute_language_confidence_values(words)}
    fr, en = pair.get("fr", 0.0), pair.get("en", 0.0)
    if abs(fr - en) < AMBIGUITY_MARGIN or (len(words.split()) <= 2 and max(fr, en) < SHORT_MIN_CONFIDENCE):
        return LanguageGuess(answer=fallback, detected="unknown", confidence=max(fr, en))
    answer: Lang = "fr" if fr > en else "en"
    return LanguageGuess(answer=answer, detected=answer, confidence=pair[answer])


_WORD = re.compile(r"[^\W\d_]{2,}")
_QUOTED = re.compile(r"«[^»]*»|“[^”]*”|\"[^\"]*\"|> .*$", re.MULTILINE)


def answer_language(text: str) -> Lang | None:
    """The language of an answer's own words (None when lingua cannot tell). Quotations of the (French) text are
    removed first, and the language with the most words wins over the text's sections, since an English answer
    often carries French titles and names ("the Recueil des Traités") that would tip a whole-text guess to French."""
    own = _QUOTED.sub(" ", text)
    if len(_WORD.findall(own)) < 3:
        own = text
    words = {"fr": 0, "en": 0}
    for section in _french_or_english().detect_multiple_languages_of(own):
        lang = "fr" if section.language == Language.FRENCH else "en"
        words[lang] += len(_WORD.findall(own[section.start_index : section.end_index]))
    if words["fr"] == words["en"]:
        found = _french_or_english().detect_language_of(own)
        return None if found is None else ("fr" if found == Language.FRENCH else "en")
    return "fr" if words["fr"] > words["en"] else "en"


def warm_up() -> None:
    """Load lingua's models now rather than on the first question."""
    detect_language("Que dit le paragraphe ?")
    detect_language("What does the paragraph say?")
