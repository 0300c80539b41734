"""The seeded synthetic feed: reproducible, on the tick grid, exact decimals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from propdesk.marketdata.clock import ReplayClock
from propdesk.marketdata.sources import QuoteSource
from propdesk.marketdata.synthetic import SyntheticFeed

T0 = datetime(2024, 3, 8, 14, 30, tzinfo=UTC)


def _path(
    seed: int, symbols: list[str], polls: list[int]
) -> list[dict[str, tuple[datetime, Decimal, Decimal]]]:
    clock = ReplayClock(T0)
    feed = SyntheticFeed(clock, seed=seed, start_prices={"MESZ24": Decimal("5000.25")})
    out = []
    for second in polls:
        clock.set(T0 + timedelta(seconds=second))
        out.append({s: (q.time, q.bid, q.ask) for s, q in feed.latest_quotes(symbols).items()})
    return out


def test_same_seed_same_quotes_whatever_the_polling() -> None:
    every_second = _path(7, ["AAPL", "MESZ24"], list(range(1, 101)))
    once = _path(7, ["AAPL"], [100])
    assert every_second == _path(7, ["AAPL", "MESZ24"], list(range(1, 101)))
    assert once[0]["AAPL"] == every_second[-1]["AAPL"]  # one draw per step, however they are grouped
    assert _path(8, ["AAPL"], [100])[0]["AAPL"] != once[0]["AAPL"]


def test_prices_stay_on_the_tick_above_zero_and_move() -> None:
    clock = ReplayClock(T0)
    feed = SyntheticFeed(
        clock, seed=3, start_prices={"PENNY": Decimal("0.05"), "MESZ24": Decimal("5000.25")}, max_step_ticks=5
    )
    assert isinstance(feed, QuoteSource)
    seen: set[Decimal] = set()
    for second in range(0, 2000, 7):
        clock.set(T0 + timedelta(seconds=second))
        quotes = feed.latest_quotes(["PENNY", "MESZ24"])
        penny, mes = quotes["PENNY"], quotes["MESZ24"]
        assert penny.bid > 0
        assert penny.last is not None
        assert mes.last is not None
        assert (penny.last % Decimal("0.0001")) == 0
        assert (mes.last % Decimal("0.25")) == 0
        assert mes.ask - mes.bid == Decimal("0.50")  # one tick either side
        assert mes.time == T0 + timedelta(seconds=second)
        seen.add(mes.last)
    assert len(seen) > 50


def test_an_earlier_clock_does_not_walk_back() -> None:
    clock = ReplayClock(T0)
    feed = SyntheticFeed(clock, seed=1, interval=timedelta(seconds=10))
    later = feed.quote_at("AAPL", T0 + timedelta(seconds=95))
    assert later.time == T0 + timedelta(seconds=90)  # the last grid instant
    assert feed.quote_at("AAPL", T0) == later
