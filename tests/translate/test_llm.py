"""The real Qwen2.5-1.5B translating one short unit of the bundled resolution (llama.cpp in this process)."""

from __future__ import annotations

from pathlib import Path

import pytest

from resolution_qa.translate.render import render_unit
from resolution_qa.translate.terms import uses

pytestmark = [pytest.mark.slow, pytest.mark.llm]


@pytest.fixture(scope="module")
def generator(models_dir: Path):  # type: ignore[no-untyped-def]
    from resolution_qa.core.model_files import gguf_path
    from resolution_qa.translate.model import LlamaGenerator
    from tests.support import isolated_settings

    return LlamaGenerator(gguf_path(isolated_settings(models_dir=models_dir).llm), n_threads=2)


def test_op14_in_english_uses_the_established_terms(bundled, generator) -> None:
    record = render_unit(bundled.get("OP14"), generator)  # 3 candidates: ~10 s on 2 idle cores, ~2 min at load 7
    assert record.text.startswith("Takes note of")
    assert uses(record.text, "right to an effective remedy")
    assert uses(record.text, "trafficking in persons")
    assert record.status == "ok", record.reasons
    assert record.text.endswith(";")


def test_the_generator_continues_a_begun_reply(generator) -> None:
    text = generator.generate(
        [{"role": "system", "content": "Translate French into English. Output only the translation."},
         {"role": "user", "content": "Invite les États Membres à coopérer."},
         {"role": "assistant", "content": "Invites"}],
        temperature=0.0, seed=0, max_tokens=20)
    assert text.startswith("Invites ")  # the reply begun in code is continued, not repeated
    assert "cooperate" in text and not text[len("Invites"):].lstrip().lower().startswith("invite")
