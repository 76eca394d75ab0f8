"""Browser tests: the real `resolution-qa chat` (extractive backend, the session's real index) driven by Debian's
Chromium."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from resolution_qa.core.settings import Settings
from tests.support import CHROMIUM_ARGS, ROOT, clean_env, cli_command, free_port, require_chromium, wait_for_http

ARTIFACTS = ROOT / "test-artifacts" / "e2e"
START_TIMEOUT_S = 600  # model load (and the language detector) on a busy 2-core machine


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory, real_settings: Settings, real_retriever) -> Iterator[str]:
    """The real command, `resolution-qa chat`, on a free loopback port, on the session's real index (already up to
    date, so the app embeds nothing when it starts)."""
    work = tmp_path_factory.mktemp("chat-app")
    port = free_port()
    env = clean_env(
        RESOLUTION_QA_INDEX_DIR=str(real_settings.index_dir),
        RESOLUTION_QA_MODELS_DIR=str(real_settings.models_dir),
        RESOLUTION_QA_BACKEND="extractive",
        RESOLUTION_QA_PORT=str(port),
    )
    log = work / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(cli_command("chat"), env=env, cwd=work, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_for_http(url, process, START_TIMEOUT_S, log=log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    chromium = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
