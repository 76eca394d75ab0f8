"""Issue 20, case 1, as reported: `resolution-qa serve` with its default backend (llamacpp, the fetched GGUF), one
answering slot, and a client that opens a socket, asks for a streamed answer, reads until the `sources` chunk and
hangs up. Was: every later request hung (even to the extractive model) while /health said ok, until garbage
collection. Now the hung-up answer's generator is closed when its next sentence is ready and the slot is free.

The fast version, on a fake engine, is tests/web/test_hardening3.py.
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.support import cli_command, free_port

pytestmark = [pytest.mark.slow, pytest.mark.server, pytest.mark.llm]

#: A hang guard for a loaded 2-core machine (serve loads the embedding model and the GGUF; an LLM sentence takes
#: seconds): the claim is that the next request is answered at all, which it never was.
PATIENCE_S = 900


def _hang_up_after_sources(port: int) -> None:
    body = json.dumps({"model": "resolution-qa-llamacpp", "stream": True, "messages": [
        {"role": "user", "content": "Que demande la résolution aux États au sujet des victimes ?"}]}).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=PATIENCE_S) as sock:
        sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\n\r\n" % len(body) + body)
        got = b""
        while b'"sources"' not in got:
            chunk = sock.recv(65536)
            assert chunk, got.decode(errors="replace")
            got += chunk


def test_a_client_that_hangs_up_does_not_keep_the_only_slot(real_index_env: dict[str, str], tmp_path: Path) -> None:
    port = free_port()
    env = {**real_index_env, "RESOLUTION_QA_SERVE_PORT": str(port), "RESOLUTION_QA_ANSWER_CONCURRENCY": "1",
           "RESOLUTION_QA_RATE_LIMIT_PER_MINUTE": "0", "PYTHONUNBUFFERED": "1"}
    env.pop("RESOLUTION_QA_BACKEND", None)  # the default backend, llamacpp
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(cli_command("serve"), env=env, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + PATIENCE_S
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=10).json()["status"] == "ok":
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(1)
        for _ in range(2):
            _hang_up_after_sources(port)
        started = time.monotonic()
        answer = httpx.post(f"{url}/v1/chat/completions", timeout=PATIENCE_S, json={
            "model": "resolution-qa-extractive", "messages": [{"role": "user", "content": "Que dit le par. 27 ?"}]})
        waited = time.monotonic() - started
        assert answer.status_code == 200, answer.text
        assert "par. 27" in answer.json()["choices"][0]["message"]["content"]
        print(f"answered {waited:.1f} s after two hung-up streams")  # measured: see reports/reliability.md
    finally:
        process.terminate()
        process.wait(timeout=60)
    assert "Traceback" not in log.read_text()
