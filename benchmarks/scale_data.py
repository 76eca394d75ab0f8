"""Synthetic corpora for benchmarks/scale.py: real-text units varied from a resolution, perturbed real vectors."""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

import numpy as np
from langchain_core.embeddings import Embeddings

from resolution_qa.ingest.units import Document, Kind, Unit

#: The kinds varied: paragraphs. Footnotes and the header depend on their document (markers, a fixed layout).
KINDS: tuple[Kind, ...] = ("preambular", "operative")
_PREFIX = {"preambular": "PP", "operative": "OP"}
#: Word swaps that keep a sentence grammatical (same gender and number) while changing what it is about.
SWAPS: dict[str, tuple[str, ...]] = {
    "traite": ("exploitation", "servitude", "vente"),
    "femmes": ("personnes", "migrantes", "travailleuses"),
    "filles": ("adolescentes", "jeunes femmes", "mineures"),
    "États Membres": ("gouvernements", "États parties", "pays donateurs"),
    "victimes": ("rescapées", "personnes concernées", "survivantes"),
    "renforcer": ("accroître", "intensifier", "améliorer"),
    "prévenir": ("empêcher", "combattre", "réprimer"),
}
_CLAUSE = re.compile(r"(?<=[,;])\s+")
_NUMBER = re.compile(r"\d+")


def clauses(text: str) -> list[str]:
    """The text cut after each comma or semicolon (the pieces joined by spaces give the text back)."""
    return [c for c in _CLAUSE.split(text.strip()) if c]


def vary_numbers(text: str, rng: random.Random) -> str:
    """Every number replaced by another with as many digits (years stay four-digit, "75" stays two-digit)."""

    def other(match: re.Match[str]) -> str:
        digits = len(match.group())
        return str(rng.randrange(10 ** (digits - 1) if digits > 1 else 0, 10**digits))

    return _NUMBER.sub(other, text)


def vary_words(text: str, rng: random.Random, rate: float = 0.5) -> str:
    """Some occurrences of the SWAPS words replaced by one of their alternatives."""
    for word, options in SWAPS.items():
        text = re.sub(
            rf"\b{re.escape(word)}\b",
            lambda m, options=options: rng.choice(options) if rng.random() < rate else m.group(),
            text,
        )
    return text


def varied_texts(document: Document, n: int, seed: int = 0) -> list[tuple[Kind, str]]:
    """n paragraph texts of realistic length recombined from the document's paragraphs of the same kind.

    Each starts with the opening clause of a real paragraph (its verb phrase), continues with clauses drawn
    from other paragraphs of that kind until it is about as long as the paragraph it started from, and has
    its numbers and some words varied.
    """
    rng = random.Random(seed)
    sources = [u for u in document.units if u.kind in KINDS]
    if not sources:
        raise ValueError(f"{document.symbol} has no preambular or operative paragraph to vary")
    pools = {k: [c for u in sources if u.kind == k for c in clauses(u.text)[1:]] for k in KINDS}
    out: list[tuple[Kind, str]] = []
    seen: set[str] = set()
    for _ in range(n):
        for _attempt in range(100):  # distinct texts: each gets its own vector in the scale benchmark
            source = rng.choice(sources)
            parts = clauses(source.text)
            target = len(source.text)
            text = parts[0]
            pool = pools[source.kind] or parts
            while len(text) < target * 0.9:
                text += " " + rng.choice(pool)
            text = vary_words(vary_numbers(text.rstrip(",; "), rng), rng)
            text = text if text.endswith(".") else text + "."
            if text not in seen:
                break
        else:
            raise ValueError(f"cannot vary {document.symbol} into {n} distinct paragraphs")
        seen.add(text)
        out.append((source.kind, text))
    return out


def as_documents(texts: Sequence[tuple[Kind, str]], per_document: int = 125, session: int = 90) -> list[Document]:
    """The texts as resolutions of `per_document` units each, with distinct symbols (A/RES/90/1, ...)."""
    documents: list[Document] = []
    for d, start in enumerate(range(0, len(texts), per_document), start=1):
        symbol = f"A/RES/{session}/{d}"
        counts = dict.fromkeys(KINDS, 0)
        units: list[Unit] = []
        for kind, text in texts[start : start + per_document]:
            counts[kind] += 1
            number = counts[kind]
            units.append(
                Unit(doc=symbol, id=f"{_PREFIX[kind]}{number}", kind=kind, number=number, text=text, raw=text)
            )
        documents.append(Document(symbol=symbol, lang="fr", title=f"Résolution synthétique {d}", units=tuple(units)))
    return documents


def perturb(base: np.ndarray, n: int, cosine: float = 0.9, seed: int = 0) -> np.ndarray:
    """n unit vectors; row i is a random rotation of base[i % len(base)] at exactly this cosine to it.

    Copies of real embeddings keep the real geometry (clusters, norms) while staying distinct vectors.
    """
    if not 0.0 < cosine <= 1.0:
        raise ValueError(f"cosine must be in (0, 1], got {cosine}")
    base = np.asarray(base, dtype=np.float32)
    base = base / np.linalg.norm(base, axis=1, keepdims=True)
    rng = np.random.default_rng(seed)
    origin = base[np.arange(n) % len(base)]
    noise = rng.standard_normal(origin.shape).astype(np.float32)
    noise -= np.sum(noise * origin, axis=1, keepdims=True) * origin  # orthogonal to its origin
    noise /= np.linalg.norm(noise, axis=1, keepdims=True)
    sine = np.sqrt(max(0.0, 1.0 - cosine**2))
    return (cosine * origin + sine * noise).astype(np.float32)


class LookupEmbeddings(Embeddings):
    """Documents embedded by table look-up (precomputed vectors); queries by a real embedder.

    Lets an index of 100k units be built through `UnitIndex.sync` without hours of embedding, and searched
    with the real query embedding.
    """

    def __init__(self, table: dict[str, int], vectors: np.ndarray, queries: Embeddings, model: str) -> None:
        self.table = table
        self.vectors = vectors
        self.queries = queries
        self.model = model  # what fingerprint() records
        self.documents_embedded = 0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        missing = [t for t in texts if t not in self.table]
        if missing:
            raise KeyError(f"{len(missing)} texts have no precomputed vector, e.g. {missing[0][:80]!r}")
        self.documents_embedded += len(texts)
        return self.vectors[[self.table[t] for t in texts]].tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.queries.embed_query(text)
