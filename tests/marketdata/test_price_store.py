"""The price store on both databases: latest quotes of many symbols, bars after T, staleness,
the watchlist of symbols to quote, and the access log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.engine import Engine

from propdesk.accounting.kernel import ApplyFill, ChangeStatus
from propdesk.accounting.state import AccountStatus
from propdesk.marketdata.clock import ReplayClock
from propdesk.marketdata.prices import (
    MemoryPriceReader,
    PriceReader,
    StorePriceReader,
    fresh_quotes,
    is_stale,
    latest_fresh_quotes,
)
from propdesk.model.market import Bar, Quote
from propdesk.model.orders import Side
from propdesk.services.accounts.commands import execute
from propdesk.store.prices import AccessLogRepository, AccessLogRow, PriceRepository, WatchlistRepository
from propdesk.store.uow import UnitOfWork
from tests.db import AAPL, T0, StepClock, fill, started_account


def quote(symbol: str, seconds: int, bid: str = "100.00", ask: str = "100.02") -> Quote:
    return Quote(
        symbol,
        T0 + timedelta(seconds=seconds),
        Decimal(bid),
        Decimal(ask),
        Decimal(bid),
        Decimal(3),
        Decimal("0.5"),
    )


def daily(symbol: str, day: int, close: str = "10.5") -> Bar:
    return Bar(
        symbol,
        "1Day",
        datetime(2024, 3, day, 5, tzinfo=UTC),
        Decimal(10),
        Decimal(11),
        Decimal(9),
        Decimal(close),
        Decimal(100),
    )


def _write(engine: Engine, quotes: list[Quote] = [], bars: list[Bar] = []) -> None:  # noqa: B006 - read only
    with UnitOfWork(engine) as uow:
        prices = PriceRepository(uow.connection)
        prices.write_quotes(quotes, source="test")
        prices.insert_bars(bars)
        uow.commit()


def test_latest_quotes_finds_the_newest_quote_of_each_of_many_symbols(engine: Engine) -> None:
    symbols = [f"S{i:03d}" for i in range(300)]
    _write(
        engine,
        [quote(s, k, bid=f"{i}.{k}0", ask=f"{i}.{k}5") for i, s in enumerate(symbols) for k in (2, 0, 1)],
    )
    reader = StorePriceReader(engine)
    latest = reader.latest_quotes([*symbols, "NONE"])
    assert set(latest) == set(symbols)  # a symbol without a quote is simply absent
    assert all(q.time == T0 + timedelta(seconds=2) for q in latest.values())
    assert latest["S123"] == quote("S123", 2, bid="123.20", ask="123.25")
    earlier = reader.latest_quotes(["S001", "S002"], at_or_before=T0 + timedelta(seconds=1, microseconds=5))
    assert {s: q.time for s, q in earlier.items()} == dict.fromkeys(
        ["S001", "S002"], T0 + timedelta(seconds=1)
    )
    assert reader.latest_quotes(["S001"], at_or_before=T0 - timedelta(seconds=1)) == {}
    assert reader.latest_quotes([]) == {}
    assert reader.latest_quote("S005") == latest["S005"]


def test_latest_quotes_can_share_the_callers_transaction(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        prices = PriceRepository(uow.connection)
        prices.write_quote(quote("AAPL", 0), source="test")
        assert set(prices.latest_quotes(["AAPL"])) == {"AAPL"}  # visible before commit, same transaction
        reader: PriceReader = prices
        assert reader.bars_after("AAPL", "1Day", None) == []


def test_bars_after_a_time_in_time_order(engine: Engine) -> None:
    bars = [daily("NVDA", d) for d in (8, 4, 6, 5, 7)] + [daily("ORCL", 5)]
    _write(engine, bars=bars)
    reader = StorePriceReader(engine)
    after = reader.bars_after("NVDA", "1Day", datetime(2024, 3, 5, 5, tzinfo=UTC))
    assert [b.start.day for b in after] == [6, 7, 8]
    assert [b.start.day for b in reader.bars_after("NVDA", "1Day", None, limit=2)] == [4, 5]
    assert reader.bars_after("NVDA", "1Min", None) == []
    with UnitOfWork(engine, read_only=True) as uow:
        prices = PriceRepository(uow.connection)
        before = prices.bars_before("NVDA", "1Day", datetime(2024, 3, 6, 12, tzinfo=UTC), limit=2)
        assert [b.start.day for b in before] == [6, 5]
        assert prices.bar_symbols("1Day") == ["NVDA", "ORCL"]
        assert prices.count_bars("NVDA", "1Day") == 5


def test_memory_reader_answers_like_the_store(engine: Engine) -> None:
    quotes = [quote("AAPL", s) for s in (5, 1, 3)] + [quote("MSFT", 2)]
    bars = [daily("NVDA", d) for d in (6, 4, 5)]
    _write(engine, quotes, bars)
    memory = MemoryPriceReader(quotes, bars)
    store = StorePriceReader(engine)
    for at in (None, T0 + timedelta(seconds=2), T0 + timedelta(seconds=4)):
        assert memory.latest_quotes(["AAPL", "MSFT", "X"], at_or_before=at) == store.latest_quotes(
            ["AAPL", "MSFT", "X"], at_or_before=at
        )
    cut = datetime(2024, 3, 4, 5, tzinfo=UTC)
    assert memory.bars_after("NVDA", "1Day", cut, limit=1) == store.bars_after("NVDA", "1Day", cut, limit=1)


def test_staleness_follows_the_price_stale_gate() -> None:
    q = quote("AAPL", 0)
    max_age = timedelta(seconds=60)
    assert not is_stale(q, max_age=max_age, now=q.time + max_age)  # exactly the maximum age is fresh
    assert is_stale(q, max_age=max_age, now=q.time + max_age + timedelta(microseconds=1))
    assert not is_stale(q, max_age=max_age, now=q.time - timedelta(seconds=5))  # clock skew: fresh
    quotes = {"AAPL": q, "MSFT": quote("MSFT", 30)}
    assert set(fresh_quotes(quotes, max_age=max_age, now=T0 + timedelta(seconds=61))) == {"MSFT"}


def test_fresh_quotes_are_measured_on_the_replay_clock_without_look_ahead() -> None:
    reader = MemoryPriceReader([quote("AAPL", 0), quote("AAPL", 600), quote("MSFT", 0)])
    clock = ReplayClock(T0 + timedelta(seconds=30))
    fresh = latest_fresh_quotes(reader, ["AAPL", "MSFT"], max_age=timedelta(seconds=60), clock=clock)
    assert {s: q.time for s, q in fresh.items()} == {"AAPL": T0, "MSFT": T0}  # not the 600 s quote yet
    clock.advance(timedelta(seconds=60))
    assert latest_fresh_quotes(reader, ["AAPL", "MSFT"], max_age=timedelta(seconds=60), clock=clock) == {}
    clock.set(T0 + timedelta(seconds=650))
    assert set(latest_fresh_quotes(reader, ["AAPL", "MSFT"], max_age=timedelta(seconds=60), clock=clock)) == {
        "AAPL"
    }


def test_symbols_to_quote_are_those_held_or_watched_by_active_accounts(engine: Engine) -> None:
    holder, _ = started_account(engine, prefix="holder")
    paused, _ = started_account(engine, prefix="paused")
    execute(
        engine,
        holder,
        ApplyFill(at=T0, fill=fill(AAPL, Side.BUY, "1", "150", fill_id="f1")),
        clock=StepClock(),
    )
    execute(
        engine,
        paused,
        ApplyFill(at=T0, fill=fill(AAPL, Side.BUY, "1", "150", fill_id="f2")),
        clock=StepClock(),
    )
    execute(engine, paused, ChangeStatus(at=T0, to=AccountStatus.PAUSED, reason="test"), clock=StepClock())
    with UnitOfWork(engine) as uow:
        watchlist = WatchlistRepository(uow.connection)
        watchlist.add(holder, "MSFT", T0)
        watchlist.add(holder, "MSFT", T0)  # already watched: nothing changes
        watchlist.add(paused, "TSLA", T0)
        uow.commit()
    with UnitOfWork(engine) as uow:
        watchlist = WatchlistRepository(uow.connection)
        assert watchlist.active_symbols() == ["AAPL", "MSFT"]
        assert watchlist.active_symbols(("active", "paused")) == ["AAPL", "MSFT", "TSLA"]
        assert watchlist.symbols(holder) == ["MSFT"]
        assert watchlist.remove(holder, "MSFT")
        assert not watchlist.remove(holder, "MSFT")
        assert watchlist.active_symbols() == ["AAPL"]


def test_access_log_rows_and_purge(engine: Engine) -> None:
    rows = [
        AccessLogRow("u", s, "quote", T0 + timedelta(days=d), "alpaca:iex")
        for d, s in ((0, "A"), (1, "B"), (2, "C"))
    ]
    with UnitOfWork(engine) as uow:
        AccessLogRepository(uow.connection).record(rows)
        uow.commit()
    with UnitOfWork(engine) as uow:
        log = AccessLogRepository(uow.connection)
        assert log.purge_before(T0 + timedelta(days=1)) == 1
        assert log.rows() == rows[1:]
        assert log.rows(user_id="nobody") == []
        uow.commit()


@pytest.mark.parametrize("value", ["1.5", "0.000000001", "123456789.123456789"])
def test_quote_prices_round_trip_exactly(engine: Engine, value: str) -> None:
    _write(
        engine, [Quote("BTC/USD", T0, Decimal(value), Decimal(value), None, Decimal(value), Decimal(value))]
    )
    stored = StorePriceReader(engine).latest_quote("BTC/USD")
    assert stored is not None
    # Same digits and exponent, not merely an equal value.
    assert stored.bid.as_tuple() == Decimal(value).as_tuple()
    assert stored.bid_size.as_tuple() == Decimal(value).as_tuple()
