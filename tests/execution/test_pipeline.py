from decimal import Decimal

import pytest

from propdesk.accounting.state import AccountStatus
from propdesk.execution.actions import ProposedAction
from propdesk.execution.pipeline import (
    MissingQuoteError,
    breaches_drawdown,
    execute_market_action,
    liquidate,
    liquidation_fills,
)
from propdesk.model.instruments import future
from propdesk.model.orders import ActionKind, Side
from tests.execution.factories import AAPL, NOW, SEED, filled, quote, started

MES = future("MES")


def test_an_approved_action_fills_at_the_mid_with_the_seed_fee() -> None:
    outcome = execute_market_action(
        ProposedAction(ActionKind.OPEN_LONG, AAPL, notional=Decimal(10_000)),
        state=started(),
        policy=SEED,
        quote=quote(),
        now=NOW,
        open_orders=0,
        fill_id="f1",
        order_id="o1",
    )
    assert outcome.fill is not None
    assert (outcome.fill.price, outcome.fill.qty, outcome.fill.fee) == (
        Decimal(100),
        Decimal(100),
        Decimal(10),
    )
    assert (outcome.fill.bid, outcome.fill.ask, outcome.fill.mark) == (
        Decimal("99.99"),
        Decimal("100.01"),
        Decimal(100),
    )
    assert outcome.fill.order_id == "o1"
    after = outcome.state_after
    assert after is not None
    assert after.positions["AAPL"].qty == Decimal(100)
    assert after.cash == Decimal(100_000 - 10_000 - 10)


def test_a_refused_action_changes_nothing() -> None:
    outcome = execute_market_action(
        ProposedAction(ActionKind.OPEN_LONG, AAPL, notional=Decimal(10_000)),
        state=started(),
        policy=SEED,
        quote=None,
        now=NOW,
        open_orders=0,
        fill_id="f1",
    )
    assert outcome.fill is None
    assert outcome.decision is None
    assert [g.code for g in outcome.report.failures] == ["price_missing"]


def test_liquidation_closes_each_position_on_the_far_side_of_its_quote() -> None:
    state = filled(filled(started(), AAPL, Side.BUY, "10", "100"), MES, Side.SELL, "2", "5000")
    quotes = {"AAPL": quote("AAPL", "49", "51"), "MES": quote("MES", "5000", "5000.50")}
    fills = liquidation_fills(
        state, policy=SEED, instruments={"AAPL": AAPL, "MES": MES}, quotes=quotes, now=NOW, new_id=lambda: "x"
    )
    assert [(f.symbol, f.side, f.qty, f.price) for f in fills] == [
        ("AAPL", Side.SELL, Decimal(10), Decimal(50)),
        ("MES", Side.BUY, Decimal(2), Decimal("5000.25")),
    ]
    decision = liquidate(
        state,
        policy=SEED,
        instruments={"AAPL": AAPL, "MES": MES},
        quotes=quotes,
        now=NOW,
        new_id=lambda: "x",
        reason="test",
    )
    assert decision.state.status is AccountStatus.LIQUIDATED
    assert not decision.state.positions
    with pytest.raises(MissingQuoteError, match="MES"):
        liquidation_fills(
            state,
            policy=SEED,
            instruments={"AAPL": AAPL, "MES": MES},
            quotes={"AAPL": quotes["AAPL"]},
            now=NOW,
            new_id=lambda: "x",
        )


def test_drawdown_breach_is_at_or_below_half_the_starting_balance() -> None:
    state = filled(started(), AAPL, Side.BUY, "1000", "100")
    assert not breaches_drawdown(state, SEED)
    from propdesk.accounting.kernel import MarkToPrices, handle

    at_limit = handle(state, MarkToPrices(at=NOW, prices={"AAPL": Decimal(50)})).state
    assert at_limit.equity == Decimal(50_000)
    assert breaches_drawdown(at_limit, SEED)
