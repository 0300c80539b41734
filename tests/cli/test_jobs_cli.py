"""``propdesk jobs list`` and ``propdesk jobs run`` as an operator runs them."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from propdesk.cli import build_cli


@pytest.fixture
def sqlite_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    monkeypatch.setenv("PROPDESK_DATABASE_URL", url)
    return url


def _invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(build_cli(), list(args))
    return result.exit_code, result.output


def test_jobs_list_shows_every_job_with_its_schedule_and_last_run(sqlite_env: str) -> None:
    code, out = _invoke("jobs", "list")
    assert code == 0, out
    for name in ("resting-orders", "mark-to-market", "eod-snapshot"):
        assert name in out
    assert "close + 30 min" in out
    assert "never" in out
    assert _invoke("jobs", "run", "eod-snapshot", "--date", "2026-01-05")[0] == 0
    code, out = _invoke("jobs", "list")
    assert "2026-01-05" in out
    assert "completed" in out


def test_jobs_run_runs_once_per_date_unless_forced(sqlite_env: str) -> None:
    code, out = _invoke("jobs", "run", "eod-snapshot", "--date", "2026-01-05")
    assert code == 0, out
    assert "eod-snapshot 2026-01-05: completed" in out
    code, out = _invoke("jobs", "run", "eod-snapshot", "--date", "2026-01-05")
    assert (code, "eod-snapshot 2026-01-05: skipped" in out) == (0, True)
    code, out = _invoke("jobs", "run", "eod-snapshot", "--date", "2026-01-05", "--force")
    assert (code, "completed" in out) == (0, True)
    code, out = _invoke("jobs", "run", "mark-to-market")  # the latest due session
    assert (code, "mark-to-market" in out, "completed" in out) == (0, True, True)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("jobs", "run", "nope"), "unknown job"),
        (("jobs", "run", "eod-snapshot", "--date", "05/01/2026"), "YYYY-MM-DD"),
        (("jobs", "run", "eod-snapshot", "--date", "2026-01-03"), "not a trading day"),
    ],
)
def test_jobs_run_refuses_bad_input_with_exit_2(sqlite_env: str, args: tuple[str, ...], message: str) -> None:
    result = CliRunner().invoke(build_cli(), list(args))
    assert result.exit_code == 2
    assert message in result.stderr
