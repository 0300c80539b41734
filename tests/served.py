"""A real ``propdesk serve`` in a subprocess, for the tests that need a served propdesk."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

STARTUP_SECONDS = 30


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def server(db_url: str, log: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """``propdesk serve`` on a free port, up and answering /healthz; killed if still alive at exit."""
    port = free_port()
    # The embedded scheduler is off: a served test drives the jobs it needs itself, and background
    # catch-up runs would move accounts and take CPU from what the test measures.
    env = {"PROPDESK_SCHEDULER": "off", **os.environ, "PROPDESK_DATABASE_URL": db_url}
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "propdesk", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=log.parent,  # no stray .env file is read
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            try:
                if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, f"server exited: {log.read_text()[-2000:]}"
            assert time.monotonic() < deadline, f"server did not come up: {log.read_text()[-2000:]}"
            time.sleep(0.05)
        yield process, base_url
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
