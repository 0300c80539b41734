"""Quotes and bars: exact round trips, latest quote per symbol, idempotent writes."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy.engine import Engine

from propdesk.model.market import Bar, Quote
from propdesk.store.uow import UnitOfWork
from tests.db import T0


def _quote(symbol: str, minutes: int, bid: str, ask: str, last: str | None = None) -> Quote:
    return Quote(
        symbol=symbol,
        time=T0 + timedelta(minutes=minutes),
        bid=Decimal(bid),
        ask=Decimal(ask),
        last=None if last is None else Decimal(last),
        bid_size=Decimal("0.000000001"),
        ask_size=Decimal("12.5"),
    )


def test_latest_quote_is_the_newest_of_its_symbol(engine: Engine) -> None:
    quotes = [
        _quote("BTC/USD", 0, "97000.1", "97000.9"),
        _quote("BTC/USD", 2, "97010.123456789", "97010.987654321", "97010.5"),
        _quote("BTC/USD", 1, "96990", "96991"),
        _quote("AAPL", 5, "150.01", "150.03"),
    ]
    with UnitOfWork(engine) as uow:
        uow.prices.write_quotes(quotes, source="test")
        uow.commit()
    with UnitOfWork(engine) as uow:
        latest_btc = uow.prices.latest_quote("BTC/USD")
        latest_aapl = uow.prices.latest_quote("AAPL")
        earlier = uow.prices.latest_quote("BTC/USD", at_or_before=T0 + timedelta(minutes=1, seconds=30))
        missing = uow.prices.latest_quote("MSFT")
        source = uow.prices.quote_source("AAPL", T0 + timedelta(minutes=5))
    assert latest_btc == quotes[1]
    assert latest_aapl == quotes[3]
    assert earlier == quotes[2]
    assert missing is None
    assert source == "test"


def test_rewriting_a_stored_quote_changes_nothing(engine: Engine) -> None:
    original = _quote("AAPL", 0, "150.01", "150.03")
    with UnitOfWork(engine) as uow:
        uow.prices.write_quote(original, source="first")
        uow.commit()
    with UnitOfWork(engine) as uow:
        uow.prices.write_quote(_quote("AAPL", 0, "1", "2"), source="second")
        uow.commit()
    with UnitOfWork(engine) as uow:
        assert uow.prices.latest_quote("AAPL") == original
        assert uow.prices.quote_source("AAPL", original.time) == "first"


def test_bars_round_trip_in_time_order(engine: Engine) -> None:
    bars = [
        Bar(
            symbol="MES",
            timeframe="1Min",
            start=T0 + timedelta(minutes=m),
            open=Decimal("5000.25"),
            high=Decimal("5001.75"),
            low=Decimal("4999.5"),
            close=Decimal("5000.00"),
            volume=Decimal(1234),
            vwap=Decimal("5000.4321") if m else None,
            trade_count=17 if m else None,
        )
        for m in (2, 0, 1)
    ]
    with UnitOfWork(engine) as uow:
        uow.prices.insert_bars(bars)
        uow.prices.insert_bars(bars[:1])  # re-ingesting adds nothing
        uow.commit()
    with UnitOfWork(engine) as uow:
        everything = uow.prices.bars("MES", "1Min")
        window = uow.prices.bars(
            "MES", "1Min", start=T0 + timedelta(minutes=1), end=T0 + timedelta(minutes=2)
        )
        other = uow.prices.bars("MES", "1Day")
    assert everything == sorted(bars, key=lambda b: b.start)
    assert str(everything[0].close) == "5000.00"
    assert window == [bars[2]]
    assert other == []


def test_each_symbols_last_bar_before_a_moment_in_one_read(engine: Engine) -> None:
    def day(symbol: str, days: int, close: str, timeframe: str = "1Day") -> Bar:
        c = Decimal(close)
        return Bar(symbol, timeframe, T0 + timedelta(days=days), c, c, c, c, Decimal(100))

    with UnitOfWork(engine) as uow:
        uow.prices.insert_bars(
            [
                day("AAPL", 0, "10"),
                day("AAPL", 1, "11"),
                day("AAPL", 2, "12"),  # starts exactly at the cut: not before it
                day("MSFT", 0, "20"),
                day("MSFT", 1, "21", timeframe="1Min"),  # another timeframe
                day("NVDA", 3, "30"),  # only after the cut
            ]
        )
        uow.commit()
    with UnitOfWork(engine, read_only=True) as uow:
        found = uow.prices.last_bars_before(["AAPL", "MSFT", "NVDA", "ORCL"], "1Day", T0 + timedelta(days=2))
        assert uow.prices.last_bars_before([], "1Day", T0) == {}
    assert {s: b.close for s, b in found.items()} == {"AAPL": Decimal(11), "MSFT": Decimal(20)}
