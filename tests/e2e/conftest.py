"""Browser tests: the real `resolution-qa chat` (extractive backend, real index) driven by Debian's Chromium."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
# Playwright's own browser download fails offline; Debian's Chromium, with everything that phones home off.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"
START_TIMEOUT_S = 600  # index build (~25 s of embedding when idle; minutes on a busy 2-core machine) + model load


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(index_dir: Path, models_dir: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESOLUTION_QA_") and k != "OPENAI_API_KEY"}
    env.update(
        RESOLUTION_QA_INDEX_DIR=str(index_dir),
        RESOLUTION_QA_MODELS_DIR=str(models_dir),
        RESOLUTION_QA_BACKEND="extractive",
        RESOLUTION_QA_PORT=str(port),
        HF_HUB_OFFLINE="1",
        ANONYMIZED_TELEMETRY="False",
        GRADIO_ANALYTICS_ENABLED="False",
    )
    return env


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"`resolution-qa chat` exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"the chat app did not answer on {url} within {START_TIMEOUT_S} s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory, models_dir: Path) -> Iterator[str]:
    """The real command, `resolution-qa chat`, on a free loopback port; it builds a fresh index for this module."""
    work = tmp_path_factory.mktemp("chat-app")
    port = free_port()
    env = _env(work / "index", models_dir, port)
    log = work / "server.log"
    with log.open("wb") as out:
        # The app brings the (empty) index up to date when it starts: this embeds the resolution once.
        process = subprocess.Popen([sys.executable, "-m", "resolution_qa", "chat"], env=env, cwd=work, stdout=out,
                                   stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_until_up(url, process, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        message = "Debian's chromium is missing: run scripts/install-browser-deps.sh"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
