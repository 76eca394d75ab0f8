"""The embedding model (sentence-transformers through LangChain), its fingerprint and its window."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from langchain_core.embeddings import Embeddings

from resolution_qa.core.model_files import embedding_model_path
from resolution_qa.core.settings import EmbeddingSettings

#: Characters per passage when the embedder does not say how many tokens it reads (fakes, API embedders).
FALLBACK_WINDOW_CHARS = 2000
#: Tokens kept free for the prompt prefix ("title: none | text: ") and special tokens.
_PROMPT_TOKENS = 16
#: Batches handed to the embedder per call: few calls (each has a fixed cost), yet progress every few seconds.
BATCHES_PER_CALL = 8


def load_embeddings(settings: EmbeddingSettings, *, show_progress: bool = False) -> Embeddings:
    """Load the configured sentence-transformers model on CPU, from local files only.

    Its query/document prompts are used when the model defines them (EmbeddingGemma does; others may not).
    Loading takes seconds: callers keep the object.
    """
    from langchain_huggingface import HuggingFaceEmbeddings

    embeddings = HuggingFaceEmbeddings(
        model_name=embedding_model_path(settings),
        model_kwargs={"device": "cpu", "local_files_only": True},
        encode_kwargs={"normalize_embeddings": True, "batch_size": settings.embedding_batch_size},
        query_encode_kwargs={"normalize_embeddings": True},
        show_progress=show_progress,
    )
    prompts = getattr(embeddings._client, "prompts", None) or {}
    if "document" in prompts and "query" in prompts:
        embeddings.encode_kwargs["prompt_name"] = "document"
        embeddings.query_encode_kwargs["prompt_name"] = "query"
    return embeddings


def fingerprint(embeddings: Embeddings) -> str:
    """What an index records about the model that built it: a different value means its vectors don't mix."""
    name = getattr(embeddings, "model_name", None) or getattr(embeddings, "model", None) or type(embeddings).__name__
    name = str(name)
    if Path(name).expanduser().is_dir():
        name = Path(name).name  # a folder moves between machines; its name identifies the model
    elif size := getattr(embeddings, "size", None):
        name = f"{name}[{size}]"
    prompts = ",".join(
        str(kwargs.get("prompt_name") or kwargs.get("prompt") or "-")
        for kwargs in (getattr(embeddings, "encode_kwargs", {}), getattr(embeddings, "query_encode_kwargs", {}))
    )
    return f"{name}|{prompts}"


def token_counter(embeddings: Embeddings) -> tuple[int, Callable[[str], int]] | None:
    """(tokens per passage, token counter) when the embedder exposes its tokenizer, else None."""
    client = getattr(embeddings, "_client", None)
    tokenizer = getattr(client, "tokenizer", None)
    max_len = getattr(client, "max_seq_length", None)
    if tokenizer is None or not max_len:
        return None

    def count(text: str) -> int:
        return len(tokenizer(text, add_special_tokens=False)["input_ids"])

    return int(max_len) - _PROMPT_TOKENS, count


def embed_in_length_order(
    embeddings: Embeddings,
    texts: list[str],
    batch_size: int,
    progress: Callable[[int, int], None] | None = None,
) -> list[list[float]]:
    """Embed texts longest first, in calls of a few batches, and return the vectors in the texts' order.

    sentence-transformers pads each batch to its longest text and sorts by length only within one call:
    sorting the whole list first keeps every batch's texts of similar length across calls, as one call over
    all texts would, while reporting (done, total) after each call (benchmarks/scale.py compares this path
    with the raw encode).
    """
    total = len(texts)
    if progress is not None:
        progress(0, total)
    order = sorted(range(total), key=lambda i: -len(texts[i]))
    vectors: list[list[float] | None] = [None] * total
    step = max(1, batch_size) * BATCHES_PER_CALL
    for start in range(0, total, step):
        chunk = order[start : start + step]
        got = embeddings.embed_documents([texts[i] for i in chunk])
        if len(got) != len(chunk):
            raise ValueError(f"the embedder returned {len(got)} vectors for {len(chunk)} texts")
        for i, vector in zip(chunk, got, strict=True):
            vectors[i] = vector
        if progress is not None:
            progress(min(start + step, total), total)
    return vectors  # type: ignore[return-value]  # every slot was filled above
