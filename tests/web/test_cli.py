"""`resolution-qa chat` as a user runs it: options, one-line errors, loopback by default."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from tests.support import cli_command, free_port, run_cli

pytestmark = pytest.mark.server  # the command in a subprocess


def run_chat(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return run_cli("chat", *args, env=env, timeout=timeout)


def test_help_names_the_options() -> None:
    result = run_chat("--help")
    assert result.returncode == 0
    for option in ("--host", "--port", "--backend", "--share"):
        assert option in result.stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--backend", "gpt5"), "backend"),
        (("--port", "70000"), "70000"),
    ],
)
def test_bad_options_are_one_line_errors(args: tuple[str, ...], expected: str) -> None:
    result = run_chat(*args)
    assert result.returncode == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def _no_models_env(tmp_path: Path) -> dict[str, str]:
    # An empty models folder: the app must still start (and say what to do), fast, without loading anything.
    return {**os.environ, "RESOLUTION_QA_MODELS_DIR": str(tmp_path / "no-models"),
            "RESOLUTION_QA_INDEX_DIR": str(tmp_path / "index"), "RESOLUTION_QA_BACKEND": "extractive",
            "PYTHONUNBUFFERED": "1"}  # the app is stopped with SIGTERM: nothing it printed may sit in a buffer


def test_a_port_in_use_is_a_one_line_error(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_chat("--port", str(port), env=_no_models_env(tmp_path))
    assert result.returncode == 2
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: cannot listen on 127.0.0.1:") and "--port" in last
    assert "Traceback" not in result.stderr


def test_starts_on_loopback_without_models_and_says_what_to_do(tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(cli_command("chat", "--port", str(port)),
                               env=_no_models_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    page = None
    listening: set[str] = set()
    try:
        deadline = time.monotonic() + 600  # a hang guard: it failed at 120 s on a loaded 2-core machine
        while time.monotonic() < deadline and process.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                    page = response.read().decode()
                    break
            except OSError:
                time.sleep(0.5)
        # Loopback only: the listening socket is bound to 127.0.0.1 (read from the OS, no traffic sent elsewhere).
        if page is not None:
            listening = {c.laddr.ip for c in psutil.Process(process.pid).net_connections(kind="inet")
                         if c.status == psutil.CONN_LISTEN and c.laddr.port == port}
    finally:
        process.terminate()
        output = process.communicate(timeout=30)[0]
    assert page is not None, f"the app did not start:\n{output}"
    assert "resolution-qa models fetch" in page  # the status line, in the page's initial config
    assert listening == {"127.0.0.1"}, listening
    assert "warning: embedding model missing" in output and "resolution-qa models fetch" in output, output
    assert f"http://127.0.0.1:{port}/" in output, output
