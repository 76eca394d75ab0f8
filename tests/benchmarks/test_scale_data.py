"""The synthetic corpus of benchmarks/scale.py: varied real text, distinct units, perturbed vectors, look-up."""

from __future__ import annotations

import importlib.util
import random
import re
import statistics
import sys
from pathlib import Path

import numpy as np
import pytest

from resolution_qa.vectorstore.passages import Window, passages
from tests.fakes import BagOfWordsEmbeddings

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "scale_data.py"
_spec = importlib.util.spec_from_file_location("scale_data", _PATH)
scale_data = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("scale_data", scale_data)
_spec.loader.exec_module(scale_data)


def test_clauses_give_the_text_back(document) -> None:
    for unit in document.units:
        assert " ".join(scale_data.clauses(unit.text)) == " ".join(unit.text.split())


def test_vary_numbers_keeps_digit_counts_and_words() -> None:
    text = "Rappelant sa résolution 73/146 du 17 décembre 2018, par. 5"
    varied = scale_data.vary_numbers(text, random.Random(1))
    assert re.sub(r"\d", "#", varied) == re.sub(r"\d", "#", text)
    assert varied != text


def test_varied_texts_are_real_paragraphs_recombined(document) -> None:
    texts = scale_data.varied_texts(document, 200, seed=3)
    assert len(texts) == 200 and len({t for _, t in texts}) == 200
    real = [u for u in document.units if u.kind in scale_data.KINDS]
    openings = {scale_data.clauses(u.text)[0] for u in real}
    kinds = {k for k, _ in texts}
    assert kinds == {"preambular", "operative"}
    # every text opens like a real paragraph (before words and numbers are varied: compare shapes)
    shape = lambda s: re.sub(r"\d", "#", s.split()[0])  # noqa: E731
    assert all(shape(t) in {shape(o) for o in openings} for _, t in texts)
    # realistic lengths: the median within 30% of the real paragraphs' median
    real_median = statistics.median(len(u.text) for u in real)
    assert 0.7 * real_median <= statistics.median(len(t) for _, t in texts) <= 1.3 * real_median
    assert scale_data.varied_texts(document, 20, seed=3) == texts[:20]  # deterministic per seed


def test_as_documents_gives_distinct_symbols_and_ids(document) -> None:
    texts = scale_data.varied_texts(document, 300, seed=0)
    docs = scale_data.as_documents(texts, per_document=125)
    assert [len(d) for d in docs] == [125, 125, 50]
    keys = [u.key for d in docs for u in d.units]
    assert len(set(keys)) == 300
    for d in docs:
        for kind in scale_data.KINDS:
            assert [u.number for u in d.of_kind(kind)] == list(range(1, d.count(kind) + 1))
        assert passages(d, Window(size=2000))  # the index can cut them into passages


def test_perturb_gives_unit_vectors_at_the_asked_cosine() -> None:
    rng = np.random.default_rng(0)
    base = rng.standard_normal((7, 32))
    out = scale_data.perturb(base, 50, cosine=0.9, seed=1)
    assert out.shape == (50, 32) and out.dtype == np.float32
    assert np.allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    origin = base / np.linalg.norm(base, axis=1, keepdims=True)
    cos = np.sum(out * origin[np.arange(50) % 7], axis=1)
    assert np.allclose(cos, 0.9, atol=1e-4)
    assert len({row.tobytes() for row in out}) == 50  # copies of one origin differ
    with pytest.raises(ValueError, match="cosine"):
        scale_data.perturb(base, 3, cosine=0.0)


def test_lookup_embeddings_return_the_table_rows_and_delegate_queries() -> None:
    vectors = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    queries = BagOfWordsEmbeddings(size=2)
    lookup = scale_data.LookupEmbeddings({"a": 1, "b": 0}, vectors, queries, model="m")
    assert lookup.embed_documents(["a", "b", "a"]) == [[0.0, 1.0], [1.0, 0.0], [0.0, 1.0]]
    assert lookup.documents_embedded == 3
    assert lookup.embed_query("abc") == BagOfWordsEmbeddings(size=2).embed_query("abc")
    assert queries.query_calls == ["abc"] and queries.document_calls == []  # delegated, and only queries
    with pytest.raises(KeyError, match="no precomputed vector"):
        lookup.embed_documents(["zzz"])
