"""Replay: the quote-from-bar rule, bars played forward on the replay clock, and the replay as a source."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine

from propdesk.marketdata.calendars import nyse
from propdesk.marketdata.clock import ReplayClock
from propdesk.marketdata.files import read_daily_bars, shipped_file
from propdesk.marketdata.replay_feed import ReplayFeed, bar_end, quote_for_bar
from propdesk.model.market import Bar, Quote
from propdesk.store.prices import PriceRepository
from propdesk.store.uow import UnitOfWork

NY = ZoneInfo("America/New_York")


def daily(symbol: str, day: datetime, close: str) -> Bar:
    c = Decimal(close)
    return Bar(symbol, "1Day", day, c, c, c, c, Decimal(1))


def minute(symbol: str, start: datetime, close: str) -> Bar:
    c = Decimal(close)
    return Bar(symbol, "1Min", start, c, c, c, c, Decimal(1))


def test_the_quote_from_bar_rule() -> None:
    friday = daily("NVDA", datetime(2024, 11, 29, tzinfo=NY), "138.25")
    assert quote_for_bar(friday, calendar=nyse()) == Quote(
        "NVDA",
        datetime(2024, 11, 29, 13, tzinfo=NY),  # known at the (early) close, not at midnight
        Decimal("138.24"),
        Decimal("138.26"),
        Decimal("138.25"),
    )
    penny_stock = daily("SIRI", datetime(2024, 11, 27, tzinfo=NY), "0.5")
    assert (quote_for_bar(penny_stock).bid, quote_for_bar(penny_stock).ask) == (
        Decimal("0.4999"),
        Decimal("0.5001"),
    )
    mes = minute("MESZ24", datetime(2024, 11, 27, 15, tzinfo=UTC), "6000.25")
    assert quote_for_bar(mes) == Quote(
        "MESZ24",
        datetime(2024, 11, 27, 15, 1, tzinfo=UTC),
        Decimal("6000.00"),
        Decimal("6000.50"),
        Decimal("6000.25"),
    )
    assert quote_for_bar(mes, half_spread=Decimal("0.75")).ask == Decimal("6001.00")
    saturday = daily("SPX", datetime(2024, 11, 30, tzinfo=NY), "6000")
    assert bar_end(saturday, nyse()) == datetime(2024, 12, 1, tzinfo=NY)  # no session: start + 1 day
    assert bar_end(friday) == datetime(2024, 11, 30, tzinfo=NY)  # no calendar: start + 1 day
    with pytest.raises(ValueError, match="no fixed end"):
        bar_end(Bar("X", "1Month", friday.start, Decimal(1), Decimal(1), Decimal(1), Decimal(1)))


def _store_bars(engine: Engine, bars: list[Bar]) -> None:
    with UnitOfWork(engine) as uow:
        PriceRepository(uow.connection).insert_bars(bars)
        uow.commit()


def test_replaying_real_daily_bars_writes_one_quote_per_session_at_the_close(engine: Engine) -> None:
    nvda = [b for b in read_daily_bars(shipped_file("nvda-1999-2014.txt"), "NVDA") if b.start.year == 2010]
    _store_bars(engine, nvda)
    clock = ReplayClock(datetime(2010, 1, 4, tzinfo=NY))
    feed = ReplayFeed(engine, clock, ["NVDA"], "1Day", page=2)
    played: list[tuple[datetime, list[Quote]]] = []
    report = feed.play(until=datetime(2010, 1, 8, 23, tzinfo=NY), on_step=lambda t, q: played.append((t, q)))
    assert report.steps == report.quotes == 5
    assert [t for t, _ in played] == [datetime(2010, 1, d, 16, tzinfo=NY) for d in (4, 5, 6, 7, 8)]
    first_bar = nvda[0]
    assert played[0][1] == [quote_for_bar(first_bar, calendar=nyse())]
    assert clock.now() == datetime(2010, 1, 8, 16, tzinfo=NY)
    with UnitOfWork(engine, read_only=True) as uow:
        prices = PriceRepository(uow.connection)
        assert prices.count_quotes("NVDA") == 5
        latest = prices.latest_quote("NVDA")
        assert latest is not None
        assert latest.last == nvda[4].close
        assert prices.quote_source("NVDA", latest.time) == "replay"
    # The same replay again adds nothing.
    ReplayFeed(engine, ReplayClock(datetime(2010, 1, 4, tzinfo=NY)), ["NVDA"]).play(
        until=datetime(2010, 1, 9, tzinfo=NY)
    )
    with UnitOfWork(engine, read_only=True) as uow:
        assert PriceRepository(uow.connection).count_quotes("NVDA") == 5


def test_symbols_interleave_in_time_order_across_pages(engine: Engine) -> None:
    t0 = datetime(2024, 3, 8, 14, 30, tzinfo=UTC)
    bars = [minute("A", t0 + timedelta(minutes=m), f"1{m}.00") for m in range(0, 10, 2)]
    bars += [minute("B", t0 + timedelta(minutes=m), f"2{m}.00") for m in range(1, 10, 2)]
    _store_bars(engine, bars)
    feed = ReplayFeed(engine, ReplayClock(t0), ["A", "B"], "1Min", page=2)
    order: list[tuple[str, datetime]] = []
    report = feed.play(on_step=lambda t, quotes: order.extend((q.symbol, q.time) for q in quotes))
    assert report.steps == 10
    assert order == [("AB"[m % 2], t0 + timedelta(minutes=m + 1)) for m in range(10)]
    assert feed.next_time() is None


def test_a_running_replay_sleeps_the_gap_divided_by_the_speed(engine: Engine) -> None:
    t0 = datetime(2024, 3, 8, 14, 30, tzinfo=UTC)
    _store_bars(engine, [minute("A", t0 + timedelta(minutes=m), "10.00") for m in (0, 1, 5)])

    class Real:
        value = 0.0

        def __call__(self) -> float:
            return self.value

    real = Real()
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        real.value += seconds

    clock = ReplayClock(t0, speed=60, monotonic=real)
    report = ReplayFeed(engine, clock, ["A"], "1Min").play(sleep=sleep)
    assert report.steps == 3
    assert sleeps == pytest.approx([1.0, 1.0, 4.0])  # 60 simulated seconds per real second
    assert clock.now() == t0 + timedelta(minutes=6)


def test_the_replay_is_a_quote_source_at_the_clocks_time(engine: Engine) -> None:
    _store_bars(
        engine,
        [
            daily("NVDA", datetime(2024, 11, 27, tzinfo=NY), "135.34"),
            daily("NVDA", datetime(2024, 11, 29, tzinfo=NY), "138.25"),
        ],
    )
    clock = ReplayClock(datetime(2024, 11, 29, 10, tzinfo=NY))
    feed = ReplayFeed(engine, clock, ["NVDA"], "1Day")
    # Mid-session on the 29th the newest complete bar is the 27th's.
    assert feed.latest_quotes(["NVDA", "ORCL"])["NVDA"].last == Decimal("135.34")
    assert set(feed.latest_quotes(["NVDA", "ORCL"])) == {"NVDA"}
    clock.set(datetime(2024, 11, 29, 13, tzinfo=NY))
    assert feed.latest_quotes(["NVDA"])["NVDA"].last == Decimal("138.25")
    assert feed.name == "replay"
