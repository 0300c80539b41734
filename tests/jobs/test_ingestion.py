"""The ingestion job: polls the symbols active accounts hold or watch, writes new quotes, idempotent."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy.engine import Engine

from propdesk.accounting.kernel import ApplyFill
from propdesk.jobs.ingestion import poll_latest_quotes, symbols_to_quote
from propdesk.marketdata.clock import ReplayClock
from propdesk.marketdata.synthetic import SyntheticFeed
from propdesk.model.market import Quote
from propdesk.model.orders import Side
from propdesk.services.accounts.commands import execute
from propdesk.services.market.prices import watch
from propdesk.store.prices import AccessLogRepository, PriceRepository
from propdesk.store.uow import UnitOfWork
from tests.db import AAPL, T0, StepClock, fill, started_account


class ScriptedSource:
    """A source returning fixed quotes and recording what it was asked."""

    name = "scripted"

    def __init__(self, quotes: dict[str, Quote], error: Exception | None = None) -> None:
        self.quotes = quotes
        self.error = error
        self.asked: list[list[str]] = []

    def latest_quotes(self, symbols: Sequence[str], *, on_behalf_of: str | None = None) -> dict[str, Quote]:
        self.asked.append(list(symbols))
        if self.error is not None:
            raise self.error
        return {s: q for s, q in self.quotes.items() if s in symbols}


def q(symbol: str, seconds: int, bid: str = "10.00") -> Quote:
    return Quote(symbol, T0 + timedelta(seconds=seconds), Decimal(bid), Decimal(bid) + Decimal("0.02"))


def _holder(engine: Engine) -> str:
    account_id, _ = started_account(engine)
    execute(
        engine,
        account_id,
        ApplyFill(at=T0, fill=fill(AAPL, Side.BUY, "1", "150", fill_id="f1")),
        clock=StepClock(),
    )
    watch(engine, account_id, "MSFT", clock=ReplayClock(T0))
    return account_id


def test_a_poll_writes_the_latest_quotes_of_held_and_watched_symbols_once(engine: Engine) -> None:
    _holder(engine)
    source = ScriptedSource({"AAPL": q("AAPL", 5), "MSFT": q("MSFT", 5), "TSLA": q("TSLA", 5)})
    clock = ReplayClock(T0 + timedelta(seconds=6))
    report = poll_latest_quotes(engine, source, clock, extra_symbols=["NVDA"])
    assert source.asked == [["AAPL", "MSFT", "NVDA"]]
    assert (report.symbols, report.received, report.written, report.missing) == (
        ("AAPL", "MSFT", "NVDA"),
        2,
        2,
        ("NVDA",),
    )
    again = poll_latest_quotes(engine, source, clock, extra_symbols=["NVDA"])
    assert again.written == 0  # idempotent
    source.quotes["AAPL"] = q("AAPL", 3)  # older than the stored one: a poll never writes history
    assert poll_latest_quotes(engine, source, clock).written == 0
    source.quotes["AAPL"] = q("AAPL", 9, bid="10.50")
    assert poll_latest_quotes(engine, source, clock).written == 1
    with UnitOfWork(engine, read_only=True) as uow:
        prices = PriceRepository(uow.connection)
        latest = prices.latest_quotes(["AAPL", "MSFT", "TSLA"])
        assert latest["AAPL"].bid == Decimal("10.50")
        assert set(latest) == {"AAPL", "MSFT"}  # nobody holds or watches TSLA
        assert prices.quote_source("AAPL", latest["AAPL"].time) == "scripted"
        assert prices.count_quotes() == 3
        assert AccessLogRepository(uow.connection).rows() == []  # system polls are not user fetches


def test_nothing_to_poll_asks_the_source_nothing(engine: Engine) -> None:
    source = ScriptedSource({})
    report = poll_latest_quotes(engine, source, ReplayClock(T0))
    assert source.asked == []
    assert report.symbols == ()
    assert symbols_to_quote(engine) == []


def test_a_failing_source_writes_nothing(engine: Engine) -> None:
    _holder(engine)
    with pytest.raises(RuntimeError, match="down"):
        poll_latest_quotes(engine, ScriptedSource({}, RuntimeError("down")), ReplayClock(T0))
    with UnitOfWork(engine, read_only=True) as uow:
        assert PriceRepository(uow.connection).count_quotes() == 0


def test_polling_the_synthetic_feed_on_a_replay_clock(engine: Engine) -> None:
    _holder(engine)
    clock = ReplayClock(T0)
    feed = SyntheticFeed(clock, seed=42, start_prices={"AAPL": Decimal("150.00")})
    written = []
    for _ in range(5):
        clock.advance(timedelta(seconds=1))
        written.append(poll_latest_quotes(engine, feed, clock).written)
    assert written == [2, 2, 2, 2, 2]
    with UnitOfWork(engine, read_only=True) as uow:
        prices = PriceRepository(uow.connection)
        latest = prices.latest_quotes(["AAPL", "MSFT"])
        assert prices.quote_source("AAPL", latest["AAPL"].time) == "synthetic"
        assert latest["AAPL"].time == T0 + timedelta(seconds=5)
        assert latest["AAPL"] == SyntheticFeed(
            ReplayClock(T0), seed=42, start_prices={"AAPL": Decimal("150.00")}
        ).quote_at("AAPL", T0 + timedelta(seconds=5))
