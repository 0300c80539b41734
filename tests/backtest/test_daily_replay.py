from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from propdesk.accounting.kernel import replay
from propdesk.accounting.state import AccountStatus
from propdesk.backtest.daily_replay import replay_daily
from propdesk.backtest.strategies import Proposal, SmaCrossover
from propdesk.model.instruments import equity
from propdesk.model.market import Bar
from propdesk.model.orders import ActionKind
from propdesk.model.policy import preset

NY = ZoneInfo("America/New_York")


def daily(symbol: str, closes: list[str]) -> list[Bar]:
    start = datetime(2020, 1, 1, tzinfo=NY)
    return [
        Bar(symbol, "1Day", start + timedelta(days=i), Decimal(c), Decimal(c), Decimal(c), Decimal(c))
        for i, c in enumerate(closes)
    ]


class BuyOnce:
    """Opens one long position on the first bar and holds it."""

    def __init__(self, notional: Decimal) -> None:
        self.notional = notional
        self.done = False

    def on_close(self, symbol: str, close: Decimal, position_qty: Decimal) -> list[Proposal]:
        if self.done:
            return []
        self.done = True
        return [Proposal(symbol, ActionKind.OPEN_LONG, notional=self.notional)]


def test_a_crash_past_the_drawdown_limit_liquidates_at_the_next_mark() -> None:
    policy = preset("audition", max_order_notional="500000", max_position_equity_ratio="5")
    bars = {"XYZ": daily("XYZ", ["100", "90", "80", "74", "50"])}
    result = replay_daily(
        bars, instruments={"XYZ": equity("XYZ")}, policy=policy, strategy=BuyOnce(Decimal(200_000))
    )
    state = result.state
    assert state.status is AccountStatus.LIQUIDATED
    assert result.liquidated_on == date(2020, 1, 4)
    assert not state.positions
    # 2,000 shares bought at 100 with a 0.01 half-spread around the close: mid fills at the close.
    assert result.fills[0].qty == Decimal(2000)
    assert result.fills[-1].price == Decimal(74)
    assert state.realized_pnl == Decimal(-52_000)
    assert state.fees == Decimal(200) + Decimal(148)  # 10 bps of 200,000 and of 148,000
    assert state.equity == Decimal(100_000) - Decimal(52_000) - Decimal(348)
    assert len(result.equity_path) == 4
    assert replay(state.account_id, result.events) == state


def test_gate_refusals_are_counted_by_gate() -> None:
    policy = preset("audition")
    bars = {"XYZ": daily("XYZ", ["100", "101"])}
    result = replay_daily(
        bars, instruments={"XYZ": equity("XYZ")}, policy=policy, strategy=BuyOnce(Decimal(60_000))
    )
    assert result.fills == []
    assert result.rejections["max_order_notional"] == 1


def test_sma_crossover_closes_then_reverses() -> None:
    strategy = SmaCrossover(fast=2, slow=3, notional=Decimal(1000))
    assert strategy.on_close("X", Decimal(10), Decimal(0)) == []
    assert strategy.on_close("X", Decimal(9), Decimal(0)) == []
    assert strategy.on_close("X", Decimal(8), Decimal(0)) == []  # first full window sets the side
    proposals = strategy.on_close("X", Decimal(20), Decimal(-5))
    assert [p.action for p in proposals] == [ActionKind.CLOSE, ActionKind.OPEN_LONG]
    assert proposals[1].notional == Decimal(1000)


def test_replay_is_deterministic() -> None:
    closes = [str(100 + (i * 7) % 13 - (i // 10)) for i in range(120)]
    bars = {"XYZ": daily("XYZ", closes)}
    runs = [
        replay_daily(
            bars,
            instruments={"XYZ": equity("XYZ")},
            policy=preset("audition"),
            strategy=SmaCrossover(fast=3, slow=8),
        )
        for _ in range(2)
    ]
    assert runs[0].state == runs[1].state
    assert runs[0].fills == runs[1].fills
    assert runs[0].fills, "the scripted prices should make the strategy trade"
