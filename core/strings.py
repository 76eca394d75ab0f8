"""Every sentence and word the product shows a user, in French and English: one table, one style.

Prompts for the model are not here (assistant/prompts.py): they are written for the model, not for users.
`ui_text(lang)` gives the table of one language; a field is a plain string, or a format string whose
placeholders its comment names.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from .refs import Kind, Lang


@dataclass(frozen=True)
class Strings:
    """The interface text of one language."""

    # --- answers the assistant writes itself --------------------------------------------------------
    refusal: str  # {doc}
    refusal_any: str  # {docs}: the question was asked of several resolutions
    closest: str  # {labels}
    out_of_range: str  # {doc} {maximum} {plural} {singular} {number}
    out_of_range_any: str  # {docs} {singular} {number}: none of the resolutions has it
    fallback_notice: str  # {reason}: the language model failed; the answer quotes the text
    empty_answer: str  # the fallback reason when nothing the model said rested on the text
    extractive_intro: str  # one French resolution quoted
    passages_of: str  # {whose}{quoted}: the intro's general form
    whose: tuple[str, str]  # of the resolution / of the resolutions
    quoted: dict[str, str]  # what the quoted text is, by the quoted units' language ("fr", "en", "mixed")
    the_text: str  # stands in for a unit number the model invented
    unavailable: str  # {backend} {reason}: the backend could not start (the fallback notice's reason)
    unofficial: str  # after English sentences written from a French text
    not_said: str  # the question takes for granted what the text does not say; what it says follows
    refers_to: str  # {label} {note} {reference}: a paragraph's footnote and what it refers to
    not_given: str  # {what}: the text names the subject but not the detail asked for; what it says follows
    details: dict[str, str]  # the detail a question asks for, by kind (assistant/evidence.py's kinds)
    from_translation: str  # after sentences written from an unofficial translation (the original is quoted)
    unofficial_quote: str  # {original}: after a quote of an unofficial translation, the original's words
    official_version: str  # over a unit's official text in this language (the Resolution tab, beside the original)
    unofficial_version: str  # over a unit's unofficial translation into this language
    what_does: str  # {label}: the standalone form of "and the next paragraph?"
    kinds: dict[Kind, tuple[str, str]]  # (plural, singular) name of each kind of unit

    # --- the chat app and the command line -----------------------------------------------------------
    sources: str
    no_sources: str
    footnotes: str
    copy: str
    copied: str
    show: str
    refused: str
    closest_title: str
    error: str
    cited_in: str
    citations: str  # heading of the citations under a CLI answer
    sections: tuple[str, str, str]  # titles of the preamble, the operative part, the footnotes
    colon: str  # ":" after a label (" :" in French typography)
    new_conversation: str
    all_resolutions: str
    send: str
    retrieved: str  # the sources panel's title while the answer is being written
    rating_saved: str  # after a thumbs up/down
    comment_placeholder: str
    send_comment: str
    comment_saved: str
    not_rated: str  # a click on a bubble that is not an answer (an error)
    export_markdown: str


_FR = Strings(
    refusal="La résolution {doc} ne traite pas de cette question ; je ne peux pas y répondre à partir de son texte.",
    refusal_any=(
        "Les résolutions indexées ({docs}) ne traitent pas de cette question ; je ne peux pas y répondre à partir "
        "de leur texte."
    ),
    closest="Passages les plus proches : {labels}.",
    out_of_range="La résolution {doc} compte {maximum} {plural} ; il n'y a pas de {singular} {number}.",
    out_of_range_any="Aucune des résolutions {docs} n'a de {singular} {number}.",
    fallback_notice="Le modèle de langue n'a pas pu répondre ({reason}) ; voici les passages pertinents du texte.",
    empty_answer="sa réponse ne s'appuyait pas sur le texte",
    extractive_intro="Passages pertinents de la résolution :",
    passages_of="Passages pertinents {whose}{quoted} :",
    whose=("de la résolution", "des résolutions"),
    quoted={"fr": "", "en": " (texte anglais, cité)", "mixed": " (textes originaux, cités)"},
    the_text="le texte",
    unavailable="le modèle {backend} n'a pas pu démarrer : {reason}",
    unofficial="(Résumé non officiel ; le texte officiel est cité ci-dessous.)",
    not_said="La résolution ne dit pas cela. Voici ce qu'elle dit :",
    refers_to="{label} renvoie à la {note} : {reference}.",
    not_given="La résolution ne donne pas {what}. Voici ce qu'elle dit à ce sujet :",
    details={
        "date": "cette date", "year": "cette année", "number": "ce nombre ni ce montant",
        "proportion": "cette proportion", "duration": "cette durée", "person": "le nom de cette personne",
        "states": "la liste des États concernés", "vote": "le résultat d'un vote", "sponsors": "les auteurs du projet",
        "document": "le contenu de ce document", "law": "le contenu d'une loi nationale",
    },
    from_translation="(Rédigé à partir d'une traduction française non officielle ; le texte original est cité "
    "ci-dessous.)",
    unofficial_quote="traduction non officielle ; original : « {original} »",
    official_version="Français · texte officiel",
    unofficial_version="Français · traduction non officielle",
    what_does="Que dit {label} ?",
    kinds={
        "operative": ("paragraphes dans son dispositif", "paragraphe"),
        "preambular": ("alinéas dans son préambule", "alinéa du préambule"),
        "footnote": ("notes", "note"),
        "header": ("en-têtes", "en-tête"),
    },
    sources="Sources",
    no_sources="Les passages cités par la réponse s'afficheront ici.",
    footnotes="Notes",
    copy="Copier la citation",
    copied="Copié",
    show="Voir dans la résolution",
    refused="Hors du texte de la résolution",
    closest_title="Passages les plus proches",
    error="Erreur",
    cited_in="Citée dans",
    citations="Citations",
    sections=("Préambule", "Dispositif", "Notes"),
    colon=" :",
    new_conversation="Nouvelle conversation",
    all_resolutions="Toutes les résolutions",
    send="Envoyer",
    retrieved="Passages trouvés",
    rating_saved="Merci, votre avis est enregistré. Un commentaire ?",
    comment_placeholder="Commentaire (facultatif) : ce qui ne va pas, le bon paragraphe…",
    send_comment="Envoyer le commentaire",
    comment_saved="Commentaire enregistré, merci.",
    not_rated="Seules les réponses peuvent être notées.",
    export_markdown="Exporter la conversation (Markdown)",
)

_EN = Strings(
    refusal="Resolution {doc} does not address this question, so I cannot answer it from its text.",
    refusal_any="The indexed resolutions ({docs}) do not address this question, so I cannot answer it from their text.",
    closest="Closest passages: {labels}.",
    out_of_range="Resolution {doc} has {maximum} {plural}; there is no {singular} {number}.",
    out_of_range_any="None of the resolutions {docs} has a {singular} {number}.",
    fallback_notice="The language model could not answer ({reason}); here are the relevant passages of the text.",
    empty_answer="its answer did not rest on the text",
    extractive_intro="Relevant passages of the resolution (French text, quoted):",
    passages_of="Relevant passages {whose}{quoted}:",
    whose=("of the resolution", "of the resolutions"),
    quoted={"fr": " (French text, quoted)", "en": "", "mixed": " (original texts, quoted)"},
    the_text="the text",
    unavailable="the {backend} model could not start: {reason}",
    unofficial="(Unofficial English summary of the French text; the official text is quoted below.)",
    not_said="The resolution does not say that. What it says:",
    refers_to="{label} refers to {note}: {reference}.",
    not_given="The resolution does not give {what}. What it says on the subject:",
    details={
        "date": "that date", "year": "that year", "number": "that number or amount", "proportion": "that proportion",
        "duration": "that duration", "person": "that person's name", "states": "a list of the States concerned",
        "vote": "the result of a vote", "sponsors": "the sponsors of the draft", "document": "that document's content",
        "law": "the content of a national law",
    },
    from_translation="(Written from an unofficial English translation of the French text; the original is quoted "
    "below.)",
    unofficial_quote="unofficial translation; original: “{original}”",
    official_version="English · official text",
    unofficial_version="English · unofficial translation",
    what_does="What does {label} say?",
    kinds={
        "operative": ("operative paragraphs", "paragraph"),
        "preambular": ("preambular paragraphs", "preambular paragraph"),
        "footnote": ("footnotes", "footnote"),
        "header": ("headers", "header"),
    },
    sources="Sources",
    no_sources="The passages an answer cites will show here.",
    footnotes="Footnotes",
    copy="Copy citation",
    copied="Copied",
    show="Show in the resolution",
    refused="Not in the resolution",
    closest_title="Closest passages",
    error="Error",
    cited_in="Cited in",
    citations="Citations",
    sections=("Preamble", "Operative part", "Footnotes"),
    colon=":",
    new_conversation="New conversation",
    all_resolutions="All resolutions",
    send="Send",
    retrieved="Passages found",
    rating_saved="Thanks, your rating is saved. Add a comment?",
    comment_placeholder="Comment (optional): what is wrong, the right paragraph…",
    send_comment="Send comment",
    comment_saved="Comment saved, thank you.",
    not_rated="Only answers can be rated.",
    export_markdown="Export the conversation (Markdown)",
)

STRINGS: dict[Lang, Strings] = {"fr": _FR, "en": _EN}

#: Said first when a question is in neither French nor English (the answer is then in English).
OTHER_LANGUAGE = "I answer in French or English; here is my answer in English."


def ui_text(lang: Lang) -> Strings:
    """The interface text in `lang`."""
    return STRINGS[lang]


def both(pick: str) -> str:
    """A field in both languages, French first ("Nouvelle conversation · New conversation"), for bilingual chrome."""
    return f"{getattr(_FR, pick)} · {getattr(_EN, pick)}"


def extractive_intro(lang: Lang, text_langs: set[Lang], several: bool) -> str:
    """The first line of an extractive answer: the plain intro for one French resolution, else its variant."""
    t = STRINGS[lang]
    if not several and text_langs <= {"fr"}:
        return t.extractive_intro
    quoted = t.quoted["mixed" if len(text_langs) > 1 else next(iter(text_langs), "fr")]
    return t.passages_of.format(whose=t.whose[1 if several else 0], quoted=quoted)


def fold(text: str) -> str:
    """Case-folded, without accents, so "Prévention" and "prevention" meet (every layer's accent-blind match)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))
