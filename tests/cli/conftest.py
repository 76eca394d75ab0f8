"""Run the real command line in a subprocess, as a user would."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

import pytest


@pytest.fixture
def cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    def run(*args: str, input: str | None = None, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "resolution_qa", *args],
            capture_output=True, text=True, input=input, timeout=timeout,
        )

    return run
