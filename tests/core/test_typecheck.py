"""The lower layers type-check: mypy over core, ingest and vectorstore (the [tool.mypy] table of pyproject.toml)
reports no error. In-process (mypy.api), with the cache in .cache/mypy: ~4 s warm, ~15-25 s cold on 2 cores."""

from __future__ import annotations

from pathlib import Path

import pytest
from mypy import api

ROOT = Path(__file__).resolve().parents[2]


def test_core_ingest_and_vectorstore_type_check(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # the config's paths (mypy_path, cache_dir) are relative to the repository root
    stdout, stderr, status = api.run(["--config-file", str(ROOT / "pyproject.toml")])
    assert status == 0, f"mypy reports errors in core, ingest or vectorstore:\n{stdout}{stderr}"
