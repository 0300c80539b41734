"""``propdesk token create``, ``propdesk mtm``, ``propdesk boundaries`` and ``propdesk serve`` as a user runs them."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from propdesk.cli import build_cli
from propdesk.services.access.tokens import Role, authenticate
from propdesk.store.engine import create_engine_for
from tests.served import free_port


@pytest.fixture
def sqlite_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("PROPDESK_DATABASE_URL", url)
    return url


def test_token_create_prints_a_working_token_once_and_stores_its_hash(sqlite_env: str) -> None:
    result = CliRunner().invoke(build_cli(), ["token", "create", "--role", "admin", "--name", "ops"])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[-1]
    engine = create_engine_for(sqlite_env)
    try:
        principal = authenticate(engine, token)
        assert principal is not None
        assert (principal.name, principal.role) == ("ops", Role.ADMIN)
        with engine.connect() as conn:
            stored = conn.exec_driver_sql("SELECT secret_hash FROM api_tokens").scalar_one()
        assert token.split("_", 2)[2] not in stored  # the secret may itself contain "_"
    finally:
        engine.dispose()
    bad = CliRunner().invoke(build_cli(), ["token", "create", "--role", "root"])
    assert bad.exit_code == 2


def test_mtm_once_reports_the_sweep(sqlite_env: str) -> None:
    result = CliRunner().invoke(build_cli(), ["mtm", "--once"])
    assert result.exit_code == 0, result.output
    assert "marked 0 account(s)" in result.output
    assert CliRunner().invoke(build_cli(), ["mtm"]).exit_code == 2


def test_boundaries_once_reports_the_pass(sqlite_env: str) -> None:
    result = CliRunner().invoke(build_cli(), ["boundaries", "--once"])
    assert result.exit_code == 0, result.output
    assert "0 account(s) tracked: 0 rolled, 0 failed" in result.output
    assert CliRunner().invoke(build_cli(), ["boundaries"]).exit_code == 2


def test_orders_once_reports_the_sweep(sqlite_env: str) -> None:
    result = CliRunner().invoke(build_cli(), ["orders", "--once"])
    assert result.exit_code == 0, result.output
    assert "0 account(s) with open orders: 0 market event(s), 0 fill(s), 0 failed" in result.output
    assert CliRunner().invoke(build_cli(), ["orders"]).exit_code == 2
    assert CliRunner().invoke(build_cli(), ["orders", "--once", "--worker"]).exit_code == 2


def test_mtm_worker_stops_after_its_sweeps(sqlite_env: str) -> None:
    result = CliRunner().invoke(build_cli(), ["mtm", "--worker", "--sweeps", "2", "--interval", "0"])
    assert result.exit_code == 0, result.output
    assert result.output.count("marked 0 account(s)") == 1  # the second sweep is idle: not repeated


def test_serve_answers_health_and_refuses_unauthenticated_calls(sqlite_env: str) -> None:
    port = free_port()
    env = {**os.environ, "PROPDESK_DATABASE_URL": sqlite_env}
    server = subprocess.Popen(
        [sys.executable, "-m", "propdesk", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert server.poll() is None, "server exited"
                assert time.monotonic() < deadline, "server did not come up"
                time.sleep(0.1)
        assert health.status_code == 200
        assert health.json()["database"] == "ok"
        denied = httpx.get(f"http://127.0.0.1:{port}/api/v1/prop/accounts/x", timeout=5)
        assert denied.status_code == 401
        assert denied.json()["code"] == "unauthenticated"
        assert httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=5).status_code == 200
    finally:
        server.terminate()
        server.wait(timeout=10)
