"""``propdesk data …`` end to end on a migrated SQLite file (the storage itself is tested on both backends)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from propdesk.cli import build_cli
from propdesk.marketdata.files import shipped_file
from propdesk.store.engine import create_engine_for
from propdesk.store.prices import PriceRepository
from propdesk.store.uow import UnitOfWork

Invoke = Callable[..., tuple[int, str]]


@pytest.fixture
def invoke(sqlite_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Invoke:
    monkeypatch.setenv("PROPDESK_DATABASE_URL", sqlite_url)
    monkeypatch.chdir(tmp_path)  # no stray .env is read

    def run(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(build_cli(), list(args))
        return result.exit_code, result.output

    return run


def _prices(url: str) -> tuple[int, int]:
    engine = create_engine_for(url)
    try:
        with UnitOfWork(engine, read_only=True) as uow:
            prices = PriceRepository(uow.connection)
            return prices.count_bars("SX5E", "5Min"), prices.count_quotes()
    finally:
        engine.dispose()


def test_import_twice_then_a_corrupted_copy(invoke: Invoke, sqlite_url: str, tmp_path: Path) -> None:
    code, out = invoke("data", "import", str(shipped_file("2006-min-005.txt")), "--symbol", "sx5e")
    assert code == 0, out
    assert "SX5E 5Min (intraday, Europe/Berlin): 2142 rows, 2142 new, 0 already stored" in out
    code, out = invoke(
        "data", "import", str(shipped_file("2006-min-005.txt")), "-s", "SX5E", "--format", "intraday"
    )
    assert code == 0, out
    assert "0 new, 2142 already stored" in out
    lines = shipped_file("2006-min-005.txt").read_text().splitlines()
    lines[6] = lines[6].replace("3", "x", 1)
    bad = tmp_path / "bad.txt"
    bad.write_text("\n".join(lines) + "\n")
    code, out = invoke("data", "import", str(bad), "--symbol", "OTHER")
    assert code == 1
    assert "refused, nothing stored" in out
    assert "line 7:" in out
    assert _prices(sqlite_url) == (2142, 0)


def test_manual_quote_latest_and_bad_input(invoke: Invoke, sqlite_url: str) -> None:
    code, out = invoke(
        "data",
        "quote",
        "aapl",
        "--bid",
        "150.01",
        "--ask",
        "150.03",
        "--time",
        "2026-01-05T15:00:00Z",
        "--reason",
        "test",
    )
    assert code == 0, out
    assert "AAPL 2026-01-05T15:00:00+00:00 bid 150.01 ask 150.03: stored" in out
    code, out = invoke("data", "quote", "AAPL", "--bid", "2", "--ask", "1")
    assert code == 2
    assert "crossed quote" in out
    code, out = invoke("data", "latest", "AAPL,MSFT", "--max-age", "60")
    assert code == 0, out
    assert "stale" in out
    assert "missing" in out
    assert _prices(sqlite_url)[1] == 1


def test_replay_writes_quotes_from_imported_bars(invoke: Invoke, sqlite_url: str) -> None:
    assert invoke("data", "import", str(shipped_file("2006-min-005.txt")), "--symbol", "SX5E")[0] == 0
    code, out = invoke(
        "data",
        "replay",
        "--symbols",
        "SX5E",
        "--timeframe",
        "5Min",
        "--from",
        "2006-01-02T08:00:00Z",
        "--until",
        "2006-01-02T09:00:00Z",
    )
    assert code == 0, out
    assert "replayed 12 instants, 12 quotes" in out
    assert _prices(sqlite_url)[1] == 12


def test_calendar_and_purge(invoke: Invoke) -> None:
    code, out = invoke("data", "calendar", "2024-11-29")
    assert code == 0, out
    assert "open 2024-11-29 09:30 EST, close 13:00 EST (early close)" in out
    assert "last business day of 2024: 2024-12-31" in out
    code, out = invoke("data", "calendar", "2024-12-25", "--name", "CME")
    assert "no session on 2024-12-25" in out
    code, out = invoke("data", "purge-access-log")
    assert code == 0, out
    assert "deleted 0 access-log rows" in out
