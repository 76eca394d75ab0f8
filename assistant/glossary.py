"""The fixed French/English vocabulary of UN resolutions: opening phrases, bodies, instruments, recurring terms.

The small model translates this genre badly on its own (measured: "Engage instamment" became "Engage
immediately", "Prie le Secrétaire général de lui présenter un rapport" became "Please present to the
Secretary-General a report"). The entries found in a passage are given to it with the passage, and the
English names they allow count as grounded when a sentence is checked. Official UN terminology (UNTERM).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

from resolution_qa.core.strings import fold

# Opening phrases of operative paragraphs (the italic verb) and of preambular paragraphs.
_PHRASES: tuple[tuple[str, str], ...] = (
    ("Engage instamment", "Urges"),
    ("Exhorte", "Urges"),
    ("Prie", "Requests"),
    ("Demande avec insistance", "Strongly calls upon"),
    ("Demande", "Calls upon"),
    ("Invite", "Invites"),
    ("Encourage", "Encourages"),
    ("Engage", "Encourages"),
    ("Prend note avec satisfaction", "Takes note with appreciation"),
    ("Prend note", "Takes note"),
    ("Se félicite", "Welcomes"),
    ("Salue", "Welcomes"),
    ("Souligne", "Stresses"),
    ("Insiste", "Stresses"),
    ("Réaffirme", "Reaffirms"),
    ("Reconnaît", "Recognizes"),
    ("Décide", "Decides"),
    ("Recommande", "Recommends"),
    ("Condamne", "Condemns"),
    ("Rappelant", "Recalling"),
    ("Réaffirmant", "Reaffirming"),
    ("Consciente", "Aware / Conscious"),
    ("Considérant", "Considering"),
    ("Constatant", "Noting"),
    ("Notant", "Noting"),
    ("Prenant note", "Taking note"),
    ("Se félicitant", "Welcoming"),
    ("Saluant", "Welcoming"),
    ("Soulignant", "Stressing"),
    ("Sachant", "Knowing / Aware"),
    ("Préoccupée", "Concerned"),
    ("Profondément préoccupée", "Deeply concerned"),
    ("Condamnant", "Condemning"),
    ("Reconnaissant", "Recognizing"),
    ("Ayant à l'esprit", "Bearing in mind"),
    ("Tenant compte", "Taking into account"),
)

# Bodies, offices and instruments, as the resolutions name them.
_NAMES: tuple[tuple[str, str], ...] = (
    ("Assemblée générale", "General Assembly"),
    ("Secrétaire général", "Secretary-General"),
    ("Conseil économique et social", "Economic and Social Council"),
    ("Conseil des droits de l'homme", "Human Rights Council"),
    ("Conseil de sécurité", "Security Council"),
    ("Commission de la condition de la femme", "Commission on the Status of Women"),
    ("Commission pour la prévention du crime et la justice pénale", "Commission on Crime Prevention and Criminal Justice"),
    ("Office des Nations Unies contre la drogue et le crime", "United Nations Office on Drugs and Crime (UNODC)"),
    ("ONU-Femmes", "UN-Women"),
    ("Entité des Nations Unies pour l'égalité des sexes et l'autonomisation des femmes",
     "United Nations Entity for Gender Equality and the Empowerment of Women"),
    ("Organisation internationale du Travail", "International Labour Organization (ILO)"),
    ("Conférence internationale du Travail", "International Labour Conference"),
    ("Organisation internationale pour les migrations", "International Organization for Migration"),
    ("Organisation mondiale du tourisme", "World Tourism Organization"),
    ("Haut-Commissariat des Nations Unies aux droits de l'homme", "Office of the United Nations High Commissioner for Human Rights"),
    ("Haut-Commissariat des Nations Unies pour les réfugiés", "Office of the United Nations High Commissioner for Refugees"),
    ("Fonds des Nations Unies pour l'enfance", "United Nations Children's Fund (UNICEF)"),
    ("Rapporteuse spéciale", "Special Rapporteur"),
    ("Rapporteur spécial", "Special Rapporteur"),
    ("Représentante spéciale", "Special Representative"),
    ("Représentant spécial", "Special Representative"),
    ("Groupe interinstitutions de coordination contre la traite des personnes",
     "Inter-Agency Coordination Group against Trafficking in Persons"),
    ("Conférence des Parties", "Conference of the Parties"),
    ("Fonds de contributions volontaires", "Trust Fund"),
    ("Convention des Nations Unies contre la criminalité transnationale organisée",
     "United Nations Convention against Transnational Organized Crime"),
    ("Protocole visant à prévenir, réprimer et punir la traite des personnes, en particulier des femmes et des enfants",
     "Protocol to Prevent, Suppress and Punish Trafficking in Persons, Especially Women and Children"),
    ("Protocole additionnel", "Protocol supplementing"),
    ("Protocole facultatif", "Optional Protocol"),
    ("Convention sur l'élimination de toutes les formes de discrimination à l'égard des femmes",
     "Convention on the Elimination of All Forms of Discrimination against Women (CEDAW)"),
    ("Convention relative aux droits de l'enfant", "Convention on the Rights of the Child"),
    ("Convention relative aux droits des personnes handicapées", "Convention on the Rights of Persons with Disabilities"),
    ("Pacte international relatif aux droits civils et politiques", "International Covenant on Civil and Political Rights"),
    ("Pacte international relatif aux droits économiques, sociaux et culturels",
     "International Covenant on Economic, Social and Cultural Rights"),
    ("Convention sur le travail forcé", "Forced Labour Convention"),
    ("Pacte mondial pour des migrations sûres, ordonnées et régulières", "Global Compact for Safe, Orderly and Regular Migration"),
    ("Pacte mondial sur les réfugiés", "Global Compact on Refugees"),
    ("Plan d'action mondial des Nations Unies pour la lutte contre la traite des personnes",
     "United Nations Global Plan of Action to Combat Trafficking in Persons"),
    ("Programme de développement durable à l'horizon 2030", "2030 Agenda for Sustainable Development"),
    ("objectifs de développement durable", "Sustainable Development Goals"),
    ("Déclaration et Programme d'action de Beijing", "Beijing Declaration and Platform for Action"),
    ("Déclaration politique", "political declaration"),
    ("Journée mondiale de la lutte contre la traite d'êtres humains", "World Day against Trafficking in Persons"),
    ("Journée mondiale", "World Day"),
    ("Initiative Nansen", "Nansen Initiative"),
    ("Recueil des Traités", "Treaty Series"),
    ("Documents officiels", "Official Records"),
    ("Supplément", "Supplement"),
    ("session", "session"),
    ("séance plénière", "plenary meeting"),
    ("Troisième Commission", "Third Committee"),
    ("Nations Unies", "United Nations"),
    ("États Membres", "Member States"),
)

# Recurring terms of the subject matter whose literal translation goes wrong.
_TERMS: tuple[tuple[str, str], ...] = (
    ("traite des personnes", "trafficking in persons"),
    ("traite d'êtres humains", "trafficking in human beings"),
    ("traite des femmes et des filles", "trafficking in women and girls"),
    ("travail forcé", "forced labour"),
    ("travail décent", "decent work"),
    ("exploitation sexuelle", "sexual exploitation"),
    ("prélèvement d'organes", "organ removal"),
    ("blanchiment", "laundering"),
    ("passeurs", "smugglers"),
    ("trafic de migrants", "smuggling of migrants"),
    ("personnel de maintien de la paix", "peacekeeping personnel"),
    ("fondée sur le genre", "gender-based"),
    ("violence sexiste", "gender-based violence"),
    ("données ventilées", "disaggregated data"),
    ("poursuites", "prosecution"),
    ("poursuivre", "prosecute"),
    ("sanctionner", "punish"),
    ("incriminer", "criminalize"),
    ("ériger en infraction", "criminalize"),
)

GLOSSARY: tuple[tuple[str, str], ...] = _PHRASES + _NAMES + _TERMS


def _fold(text: str) -> str:
    return re.sub(r"\s+", " ", fold(text).replace("’", "'"))


@cache
def _patterns() -> tuple[tuple[re.Pattern[str], str, str], ...]:
    # Longest first, so "Engage instamment" is found before "Engage".
    entries = sorted(GLOSSARY, key=lambda e: -len(e[0]))
    return tuple((re.compile(rf"(?<!\w){re.escape(_fold(fr))}(?!\w)"), fr, en) for fr, en in entries)


def entries_in(text: str) -> list[tuple[str, str]]:
    """The (French, English) entries whose French form occurs in a text, in the order they occur, each once
    (where two overlap, the longer wins: "Engage instamment", not "Engage")."""
    folded = _fold(text)
    found: list[tuple[int, str, str]] = []
    taken: list[tuple[int, int]] = []
    for pattern, fr, en in _patterns():
        for m in pattern.finditer(folded):
            if any(m.start() < end and start < m.end() for start, end in taken):
                continue
            taken.append((m.start(), m.end()))
            found.append((m.start(), fr, en))
    return list(dict.fromkeys((fr, en) for _, fr, en in sorted(found)))


# Adverbs inside an opening phrase that do not change its English form ("Prend également note", "Invite en outre").
_ADVERBS = re.compile(r"\s+(?:également|egalement|en outre|de même|de meme|aussi|de nouveau|encore|aussi)\b", re.IGNORECASE)


def english_phrase(phrase: str) -> str | None:
    """The English form of an operative paragraph's opening phrase ("Engage instamment en outre" -> "Urges")."""
    bare = _fold(_ADVERBS.sub("", phrase).strip())
    for fr, en in _PHRASES:
        if _fold(fr) == bare:
            return en.split(" / ")[0]
    return None


_EN_ADVERBS = re.compile(r"\s+(?:also|further|furthermore|again|likewise)\b", re.IGNORECASE)


def french_phrase(phrase: str) -> str | None:
    """The French form of an English opening phrase ("Also urges" -> "Engage instamment"), the first listed."""
    bare = _fold(_EN_ADVERBS.sub("", " " + phrase).strip())
    return next((fr for fr, en in _PHRASES if bare in (_fold(e) for e in en.split(" / "))), None)


def hints(text: str, limit: int = 8) -> str:
    """One line naming the English form of the fixed terms of a French passage ("" when there are none)."""
    found = entries_in(text)[:limit]
    return "; ".join(f"{fr} = {en}" for fr, en in found)


def english_names(texts: Iterable[str]) -> str:
    """The English forms the glossary gives for the terms of these texts (what an English sentence may name)."""
    return " ".join(en for text in texts for _, en in entries_in(text))


# Acronyms users type for bodies and instruments that resolutions spell out ("La résolution parle-t-elle de l'OIT ?":
# the text writes "Organisation internationale du Travail" only, and the judge declined the dev question).
ACRONYMS: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (("OIT", "ILO"), "Organisation internationale du Travail", "International Labour Organization"),
    (("ONUDC", "UNODC"), "Office des Nations Unies contre la drogue et le crime",
     "United Nations Office on Drugs and Crime"),
    (("OIM", "IOM"), "Organisation internationale pour les migrations", "International Organization for Migration"),
    (("CDH", "HRC"), "Conseil des droits de l'homme", "Human Rights Council"),
    (("ONU-Femmes", "UN-Women", "UN Women"), "ONU-Femmes", "UN-Women"),
    (("ODD", "SDG", "SDGs"), "objectifs de développement durable", "Sustainable Development Goals"),
    (("ECOSOC",), "Conseil économique et social", "Economic and Social Council"),
    (("HCDH", "OHCHR"), "Haut-Commissariat des Nations Unies aux droits de l'homme",
     "Office of the United Nations High Commissioner for Human Rights"),
    (("HCR", "UNHCR"), "Haut-Commissariat des Nations Unies pour les réfugiés",
     "Office of the United Nations High Commissioner for Refugees"),
    (("UNICEF",), "Fonds des Nations Unies pour l'enfance", "United Nations Children's Fund"),
    (("OMS", "WHO"), "Organisation mondiale de la Santé", "World Health Organization"),
    (("ICAT",), "Groupe interinstitutions de coordination contre la traite des personnes",
     "Inter-Agency Coordination Group against Trafficking in Persons"),
    (("CEDAW",), "Convention sur l'élimination de toutes les formes de discrimination à l'égard des femmes",
     "Convention on the Elimination of All Forms of Discrimination against Women"),
    (("CRC",), "Convention relative aux droits de l'enfant", "Convention on the Rights of the Child"),
)

#: Every short form above: a question's "OIT" is spelt out, so it is not a name the text never uses.
ACRONYM_FORMS = frozenset(a for short, _, _ in ACRONYMS for a in short)


@cache
def _acronym_patterns() -> tuple[tuple[re.Pattern[str], str, str], ...]:
    # Case-sensitive and whole words: "who" and "Who ..." are English words, "WHO" is the organisation.
    return tuple((re.compile(rf"(?<![\w-]){re.escape(a)}(?![\w-])"), fr, en) for short, fr, en in ACRONYMS for a in short)


def spell_out(question: str, lang: str) -> str:
    """The question with each known acronym followed by the full name in its language ("l'OIT" -> "l'OIT
    (Organisation internationale du Travail)"), so that retrieval and the judge meet the words the text uses."""
    for pattern, fr, en in _acronym_patterns():
        name = fr if lang == "fr" else en
        if name.casefold() in question.casefold():
            continue
        question = pattern.sub(lambda m, name=name: f"{m.group()} ({name})", question, count=1)
    return question
