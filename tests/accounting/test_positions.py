"""Golden cases for signed position math, from the foundation issue's acceptance list."""

from decimal import Decimal

from propdesk.accounting.positions import apply_fill
from propdesk.model.instruments import equity, future, option
from propdesk.model.orders import Side
from tests.factories import make_fill

AAPL = equity("AAPL")
MES = future("MES")


def test_long_100_at_10_then_sell_150_at_12_flips_to_short_50_at_12_realizing_200() -> None:
    opened = apply_fill(None, make_fill(AAPL, Side.BUY, "100", "10"))
    assert opened.position is not None
    assert opened.cash_delta == Decimal(-1000)
    flipped = apply_fill(opened.position, make_fill(AAPL, Side.SELL, "150", "12"))
    assert flipped.realized_pnl == Decimal(200)
    assert flipped.closed_qty == Decimal(100)
    assert flipped.position is not None
    assert flipped.position.qty == Decimal(-50)
    assert flipped.position.avg_price == Decimal(12)
    assert flipped.cash_delta == Decimal(1800)


def test_mes_long_2_at_5000_closed_at_5010_25_realizes_102_50_and_moves_only_that_cash() -> None:
    opened = apply_fill(None, make_fill(MES, Side.BUY, "2", "5000", fee="1.24"))
    assert opened.cash_delta == Decimal("-1.24")  # futures: no notional changes hands
    closed = apply_fill(opened.position, make_fill(MES, Side.SELL, "2", "5010.25"))
    assert closed.position is None
    assert closed.realized_pnl == Decimal("102.50")
    assert closed.cash_delta == Decimal("102.50")


def test_an_option_long_1_at_2_50_pays_250() -> None:
    call = option("AAPL240119C00150000")
    opened = apply_fill(None, make_fill(call, Side.BUY, "1", "2.50"))
    assert opened.cash_delta == Decimal(-250)
    assert opened.position is not None
    assert opened.position.market_value == Decimal(250)


def test_increase_averages_and_partial_reduce_realizes_against_the_average() -> None:
    first = apply_fill(None, make_fill(AAPL, Side.BUY, "100", "10"))
    second = apply_fill(first.position, make_fill(AAPL, Side.BUY, "100", "11"))
    assert second.position is not None
    assert second.position.avg_price == Decimal("10.5")
    reduced = apply_fill(second.position, make_fill(AAPL, Side.SELL, "50", "12"))
    assert reduced.realized_pnl == Decimal(75)
    assert reduced.position is not None
    assert reduced.position.qty == Decimal(150)
    assert reduced.position.avg_price == Decimal("10.5")


def test_short_gains_when_price_falls() -> None:
    short = apply_fill(None, make_fill(AAPL, Side.SELL, "50", "12"))
    assert short.cash_delta == Decimal(600)
    covered = apply_fill(short.position, make_fill(AAPL, Side.BUY, "50", "11"))
    assert covered.realized_pnl == Decimal(50)
    assert covered.position is None


def test_futures_flip_from_short_to_long() -> None:
    short = apply_fill(None, make_fill(MES, Side.SELL, "1", "5000"))
    flip = apply_fill(short.position, make_fill(MES, Side.BUY, "3", "4990"))
    assert flip.realized_pnl == Decimal(50)  # 10 points × $5
    assert flip.cash_delta == Decimal(50)
    assert flip.position is not None
    assert flip.position.qty == Decimal(2)
    assert flip.position.avg_price == Decimal(4990)


def test_fees_are_charged_on_every_kind_of_fill() -> None:
    opened = apply_fill(None, make_fill(AAPL, Side.BUY, "10", "100", fee="1"))
    assert opened.cash_delta == Decimal(-1001)
    closed = apply_fill(opened.position, make_fill(AAPL, Side.SELL, "10", "100", fee="1"))
    assert closed.cash_delta == Decimal(999)
    assert closed.realized_pnl == 0


def test_thirds_of_a_position_close_to_exactly_zero_cost() -> None:
    opened = apply_fill(None, make_fill(AAPL, Side.BUY, "3", "10.01"))
    position = opened.position
    realized = Decimal(0)
    for _ in range(3):
        effect = apply_fill(position, make_fill(AAPL, Side.SELL, "1", "10.02"))
        realized += effect.realized_pnl
        position = effect.position
    assert position is None
    assert realized == Decimal("0.03")
