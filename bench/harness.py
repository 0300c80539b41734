"""What the benchmarks share: scratch databases, percentiles, and a real ``propdesk serve``.

Each benchmark is run as ``.venv/bin/python bench/<name>.py``, which puts this folder on the
import path, so they import this module as ``harness``. A scratch PostgreSQL database is created
on the server at ``PROPDESK_TEST_PG_URL`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``) and dropped afterwards.
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from propdesk.store import migrate

PG_ADMIN_URL = os.environ.get("PROPDESK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def ms(values: list[float], q: int) -> float:
    """The ``q``-th percentile of ``values`` (seconds) in milliseconds."""
    if len(values) < 2:
        return values[0] * 1000 if values else float("nan")
    return statistics.quantiles(values, n=100)[q - 1] * 1000


def postgres_reachable() -> bool:
    engine = sa.create_engine(PG_ADMIN_URL, poolclass=NullPool, connect_args={"connect_timeout": 3})
    try:
        with engine.connect():
            return True
    except sa.exc.OperationalError:
        return False
    finally:
        engine.dispose()


def admin_execute(statement: str) -> None:
    engine = sa.create_engine(PG_ADMIN_URL, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(statement)
    finally:
        engine.dispose()


@contextmanager
def scratch_database(name: str) -> Iterator[str]:
    """PostgreSQL database ``name``, dropped and created empty; dropped again on exit. Yields its URL."""
    admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin_execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def database(given: str | None, label: str) -> Iterator[str]:
    """The migrated URL to measure: ``given``, else a scratch PostgreSQL database
    ``propdesk_bench_<label>_<pid>``, else (PostgreSQL unreachable) a temporary SQLite file."""
    if given is not None:
        migrate.upgrade(given)
        yield given
        return
    if postgres_reachable():
        with scratch_database(f"propdesk_bench_{label}_{os.getpid()}") as url:
            migrate.upgrade(url)
            yield url
        return
    print(f"PostgreSQL unreachable at {make_url(PG_ADMIN_URL).host}: measuring a temporary SQLite file")
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        migrate.upgrade(url)
        yield url


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def server(workdir: Path, env: Mapping[str, str], *, workers: int = 1) -> Iterator[str]:
    """``python -m propdesk serve`` on a free port with ``env``; yields its base URL once /healthz
    answers. It runs in ``workdir`` (a scratch directory, so no stray .env file configures it)."""
    port = free_port()
    log = workdir / "server.log"
    command = [sys.executable, "-m", "propdesk", "serve", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", str(workers)]
    with log.open("wb") as out:
        # The embedded scheduler is off unless the caller turns it on: benchmarks measure the requests.
        run_env = {"PROPDESK_SCHEDULER": "off", **env}
        process = subprocess.Popen(command, env=run_env, cwd=workdir, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited with {process.returncode}:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"server not ready within 30 s:\n{log.read_text()[-3000:]}")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
