"""Cross-lingual similarity of a French source and its English candidates (EmbeddingGemma): the tie-break.

MODELS.md measured its spread as narrow (0.83-0.89 over one paragraph's candidates): it only orders candidates that
pass the same checks.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from langchain_core.embeddings import Embeddings


class EmbeddingScorer:
    """Cosine of the source and each candidate, all embedded as documents."""

    def __init__(self, embeddings: Embeddings) -> None:
        self.embeddings = embeddings

    def __call__(self, source: str, candidates: Sequence[str]) -> list[float]:
        vectors = np.asarray(self.embeddings.embed_documents([source, *candidates]), dtype=np.float32)
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return [float(v) for v in vectors[1:] @ vectors[0]]
