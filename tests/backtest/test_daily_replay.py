from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from propdesk.accounting.kernel import replay
from propdesk.accounting.state import AccountStatus
from propdesk.backtest.daily_replay import ReplayResult, replay_daily
from propdesk.backtest.strategies import Proposal, SmaCrossover
from propdesk.model.instruments import equity
from propdesk.model.market import Bar
from propdesk.model.orders import ActionKind
from propdesk.model.policy import preset
from propdesk.services.daily.corporate_actions import parse_corporate_actions

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


DATA = Path(__file__).resolve().parents[2] / "src" / "propdesk" / "data"


def _file_bars(
    name: str, symbol: str, first: str, last: str, unadjust_before: str = "", factor: str = "1"
) -> list[Bar]:
    """Daily bars of a shipped file between two dates; closes before ``unadjust_before`` are
    multiplied by ``factor`` (the file is split-adjusted; this restores the traded prices)."""
    bars = []
    for line in (DATA / name).read_text(encoding="utf-8").splitlines()[1:]:
        day, o, h, low, c = line.split(",")[:5]
        if not first <= day <= last:
            continue
        scale = Decimal(factor) if day < unadjust_before else Decimal(1)
        start = datetime.fromisoformat(day).replace(tzinfo=NY)
        op, hi, lo, cl = (Decimal(v) * scale for v in (o, h, low, c))
        bars.append(Bar(symbol, "1Day", start, op, hi, lo, cl))
    return bars


class BuyQtyOnce:
    def __init__(self, qty: Decimal) -> None:
        self.qty = qty
        self.done = False

    def on_close(self, symbol: str, close: Decimal, position_qty: Decimal) -> list[Proposal]:
        if self.done:
            return []
        self.done = True
        return [Proposal(symbol, ActionKind.OPEN_LONG, qty=self.qty)]


def test_replay_applies_the_demo_corporate_actions_on_their_ex_dates() -> None:
    """Acceptance 2 in backtest: NVDA over its 2007 split (bars un-adjusted by 3/2 before the
    ex-date), ORCL over its first dividend; the same run without the actions is the reference."""
    text = (DATA / "corporate-actions.csv").read_text(encoding="utf-8")
    actions = parse_corporate_actions(text)
    policy = preset("audition")
    nvda = {"NVDA": _file_bars("nvda-1999-2014.txt", "NVDA", "2007-09-07", "2007-09-12", "2007-09-11", "1.5")}
    orcl = {"ORCL": _file_bars("orcl-1995-2014.txt", "ORCL", "2009-04-02", "2009-04-07")}

    def run(bars: dict[str, list[Bar]], symbol: str, qty: str, with_actions: bool) -> ReplayResult:
        return replay_daily(
            bars,
            instruments={symbol: equity(symbol)},
            policy=policy,
            strategy=BuyQtyOnce(Decimal(qty)),
            corporate_actions=actions if with_actions else (),
        )

    split, plain = run(nvda, "NVDA", "100", True), run(nvda, "NVDA", "100", False)
    bought = split.fills[0]
    assert bought.price == Decimal("50.649999")  # 33.766666 x 1.5, filled at the mid
    held = split.state.positions["NVDA"]
    assert held.qty == Decimal(150)
    assert held.cost == plain.state.positions["NVDA"].cost == Decimal("5064.9999")
    assert held.mark == Decimal("33.220001")  # the 2007-09-12 close, as traded
    assert split.state.cash == plain.state.cash  # no fraction, no cash
    assert replay(split.state.account_id, split.events) == split.state

    paid, unpaid = run(orcl, "ORCL", "200", True), run(orcl, "ORCL", "200", False)
    assert paid.state.cash - unpaid.state.cash == Decimal("10.00")  # 200 x 0.05 on 2009-04-06
    assert replay(paid.state.account_id, paid.events) == paid.state
