"""Market-data services: audited manual prices, all-or-nothing idempotent imports, watchlists, and
the contract with execution (a stale or missing stored quote refuses an action with that reason)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from propdesk.execution.actions import ProposedAction
from propdesk.execution.pipeline import execute_market_action
from propdesk.execution.policy.codes import CheckCode
from propdesk.marketdata.clock import ReplayClock
from propdesk.marketdata.files import BarFileError, shipped_file
from propdesk.model.ids import AccountId
from propdesk.model.instruments import equity
from propdesk.model.market import Bar, Quote
from propdesk.model.orders import ActionKind
from propdesk.model.policy import ExecutionPolicy
from propdesk.services.accounts.commands import get_state
from propdesk.services.market.prices import (
    MANUAL_QUOTE_ACTION,
    QuoteConflict,
    import_bar_file,
    unwatch,
    watch,
    write_manual_bars,
    write_manual_quote,
)
from propdesk.store.errors import AccountNotFound
from propdesk.store.prices import PriceRepository, WatchlistRepository
from propdesk.store.tables import admin_audit_log
from propdesk.store.uow import UnitOfWork
from tests.db import T0, started_account

README_ROWS = {
    "nvda-1999-2014.txt": 4012,
    "orcl-1995-2014.txt": 5036,
    "yhoo-1996-2015.txt": 4965,
    "sp500-1999-2018.csv": 5031,
    "nasdaq-1999-2018.csv": 5031,
    "2006-01-02-volume-min-001.txt": 30889,
    "2006-min-005.txt": 2142,
}


def _audit_rows(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [
            dict(r)
            for r in conn.execute(sa.select(admin_audit_log).order_by(admin_audit_log.c.id)).mappings()
        ]


def _quote(minutes: int = 0, bid: str = "150.01", ask: str = "150.03") -> Quote:
    return Quote("AAPL", T0 + timedelta(minutes=minutes), Decimal(bid), Decimal(ask), Decimal("150.02"))


# --- manual prices ----------------------------------------------------------------------------------


def test_a_manual_quote_is_stored_and_audited_without_an_account(engine: Engine) -> None:
    clock = ReplayClock(T0 + timedelta(hours=1))
    result = write_manual_quote(engine, _quote(), actor="ops@desk", reason="vendor outage", clock=clock)
    assert result.written
    with UnitOfWork(engine, read_only=True) as uow:
        assert uow.prices.latest_quote("AAPL") == _quote()
        assert uow.prices.quote_source("AAPL", T0) == "manual"
    (row,) = _audit_rows(engine)
    assert row["account_id"] is None
    assert (row["actor"], row["action"], row["reason"]) == ("ops@desk", MANUAL_QUOTE_ACTION, "vendor outage")
    assert row["before"] is None
    assert row["after"] == {
        "symbol": "AAPL",
        "time": "2026-01-05T15:00:00+00:00",
        "bid": "150.01",
        "ask": "150.03",
        "last": "150.02",
        "bid_size": "0",
        "ask_size": "0",
        "source": "manual",
    }
    assert row["at"] == T0 + timedelta(hours=1)


def test_manual_quotes_are_idempotent_and_never_rewrite_a_stored_price(engine: Engine) -> None:
    clock = ReplayClock(T0)
    write_manual_quote(engine, _quote(), actor="ops", reason="first", clock=clock)
    again = write_manual_quote(engine, _quote(), actor="ops", reason="retry", clock=clock)
    assert not again.written
    with pytest.raises(QuoteConflict, match="already has a different quote"):
        write_manual_quote(engine, _quote(bid="1", ask="2"), actor="ops", reason="oops", clock=clock)
    newer = write_manual_quote(
        engine, _quote(minutes=1, bid="151", ask="151.02"), actor="ops", reason="move", clock=clock
    )
    assert newer.written
    rows = _audit_rows(engine)
    assert [r["reason"] for r in rows] == ["first", "move"]  # the retry and the refusal left no row
    assert rows[1]["before"]["bid"] == "150.01"
    with UnitOfWork(engine, read_only=True) as uow:
        assert uow.prices.quote_at("AAPL", T0) == _quote()


def test_a_manual_quote_needs_an_actor_and_a_reason(engine: Engine) -> None:
    with pytest.raises(ValueError, match="actor and a reason"):
        write_manual_quote(engine, _quote(), actor="ops", reason=" ", clock=ReplayClock(T0))
    assert _audit_rows(engine) == []


def test_manual_bars_are_stored_once_and_audited(engine: Engine) -> None:
    bars = [
        Bar(
            "MESZ26",
            "1Min",
            T0 + timedelta(minutes=m),
            Decimal("5000.25"),
            Decimal("5001"),
            Decimal("5000"),
            Decimal("5000.75"),
        )
        for m in range(3)
    ]
    assert write_manual_bars(engine, bars, actor="ops", reason="backfill", clock=ReplayClock(T0)) == 3
    assert write_manual_bars(engine, bars, actor="ops", reason="backfill", clock=ReplayClock(T0)) == 0
    with UnitOfWork(engine, read_only=True) as uow:
        assert uow.prices.bars("MESZ26", "1Min") == bars
    assert [r["action"] for r in _audit_rows(engine)] == ["market_data.manual_bars"]


# --- imports ----------------------------------------------------------------------------------------


def test_every_shipped_file_imports_with_its_readme_row_count(engine: Engine) -> None:
    for index, (name, rows) in enumerate(README_ROWS.items()):
        symbol = f"S{index}"
        report = import_bar_file(engine, shipped_file(name), symbol)
        assert (report.rows, report.inserted, report.unchanged, report.conflicting) == (rows, rows, 0, 0), (
            name
        )
        with UnitOfWork(engine, read_only=True) as uow:
            assert PriceRepository(uow.connection).count_bars(symbol, report.timeframe) == rows, name


def test_importing_the_same_file_twice_changes_nothing(engine: Engine) -> None:
    first = import_bar_file(engine, shipped_file("2006-min-005.txt"), "SX5E")
    second = import_bar_file(engine, shipped_file("2006-min-005.txt"), "SX5E")
    assert (first.inserted, first.unchanged) == (2142, 0)
    assert (second.rows, second.inserted, second.unchanged, second.conflicting) == (2142, 0, 2142, 0)
    assert (second.timeframe, second.zone) == ("5Min", "Europe/Berlin")
    assert second.first == datetime(2006, 1, 2, 8, 0, tzinfo=UTC)
    with UnitOfWork(engine, read_only=True) as uow:
        assert PriceRepository(uow.connection).count_bars("SX5E", "5Min") == 2142


def test_a_corrupted_copy_is_refused_with_line_numbers_and_stores_nothing(
    engine: Engine, tmp_path: Path
) -> None:
    lines = shipped_file("yhoo-1996-2015.txt").read_text().splitlines()
    lines[99] = lines[99].replace(",", ",x", 1)  # bad number on line 100
    lines[2999] = ",".join(lines[2999].split(",")[:5])  # missing columns on line 3000
    lines[4000], lines[4001] = lines[4001], lines[4000]  # lines 4001/4002 swapped: time goes back on 4002
    path = tmp_path / "yhoo.txt"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(BarFileError) as info:
        import_bar_file(engine, path, "YHOO")
    assert [b.line for b in info.value.bad_rows] == [100, 3000, 4002]
    with UnitOfWork(engine, read_only=True) as uow:
        assert PriceRepository(uow.connection).count_bars("YHOO", "1Day") == 0


def test_rows_that_differ_from_stored_bars_are_counted_and_the_stored_ones_kept(
    engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "two.csv"
    path.write_text(
        "Date,Open,High,Low,Close,Adj Close,Volume\n2020-01-02,10,11,9,10.5,10.5,100\n2020-01-03,10,11,9,10.5,10.5,100\n"
    )
    import_bar_file(engine, path, "X")
    path.write_text(
        "Date,Open,High,Low,Close,Adj Close,Volume\n2020-01-02,10,11,9,10.6,10.6,100\n2020-01-03,10,11,9,10.5,10.5,100\n"
        "2020-01-06,10,11,9,10.5,10.5,100\n"
    )
    report = import_bar_file(engine, path, "X")
    assert (report.inserted, report.unchanged, report.conflicting) == (1, 1, 1)
    with UnitOfWork(engine, read_only=True) as uow:
        assert [b.close for b in uow.prices.bars("X", "1Day")] == [Decimal("10.5")] * 3


# --- watchlist --------------------------------------------------------------------------------------


def test_watch_and_unwatch(engine: Engine) -> None:
    account_id, _ = started_account(engine)
    watch(engine, account_id, "TSLA", clock=ReplayClock(T0))
    with UnitOfWork(engine, read_only=True) as uow:
        assert WatchlistRepository(uow.connection).active_symbols() == ["TSLA"]
    assert unwatch(engine, account_id, "TSLA")
    assert not unwatch(engine, account_id, "TSLA")
    with pytest.raises(AccountNotFound):
        watch(engine, AccountId("no-such-account"), "TSLA", clock=ReplayClock(T0))


# --- the contract with execution --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stored_age", "failed_gate"),
    [
        (None, CheckCode.PRICE_MISSING),
        (timedelta(seconds=61), CheckCode.PRICE_STALE),
        (timedelta(seconds=60), None),
    ],
    ids=["missing", "stale", "fresh"],
)
def test_a_stale_or_missing_stored_quote_refuses_an_action_with_that_reason(
    engine: Engine, stored_age: timedelta | None, failed_gate: CheckCode | None
) -> None:
    """Services read the quote as the decision service does (latest at or before now, from the store)
    and execution's gates decide: missing → price_missing, older than max_quote_age → price_stale."""
    account_id, _ = started_account(engine)
    now = T0 + timedelta(hours=2)
    if stored_age is not None:
        write_manual_quote(
            engine,
            Quote("AAPL", now - stored_age, Decimal("150"), Decimal("150.02")),
            actor="t",
            reason="t",
            clock=ReplayClock(now),
        )
    write_manual_quote(
        engine,
        Quote("AAPL", now + timedelta(minutes=5), Decimal(1), Decimal(2)),
        actor="t",
        reason="future",
        clock=ReplayClock(now),
    )
    with UnitOfWork(engine, read_only=True) as uow:
        quote = uow.prices.latest_quote("AAPL", at_or_before=now)  # the future quote is not visible yet
    outcome = execute_market_action(
        ProposedAction(ActionKind.OPEN_LONG, equity("AAPL"), qty=Decimal(10)),
        state=get_state(engine, account_id),
        policy=ExecutionPolicy(),
        quote=quote,
        now=now,
        open_orders=0,
        fill_id="f-1",
    )
    failures = [r.code for r in outcome.report.failures]
    if failed_gate is None:
        assert failures == []
        assert outcome.fill is not None
    else:
        assert failures == [failed_gate]
        assert outcome.fill is None
