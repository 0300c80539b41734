"""OPEXC, OPASN and OPEXP activities from the expiry job, read by the real alpaca-py over HTTP
(``GET /v2/account/activities/OPEXC`` and friends) and parsed with its own models."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from alpaca.trading.enums import ActivityType
from alpaca.trading.models import NonTradeActivity

from propdesk.accounting.kernel import ApplyFill, handle
from propdesk.model.fills import Fill
from propdesk.model.instruments import AssetClass, parse_instrument
from propdesk.model.market import Bar
from propdesk.model.orders import Side
from propdesk.services.daily import expiry
from propdesk.services.transactions import account_tx
from propdesk.store.uow import UnitOfWork
from tests.api.alpaca.conftest import Paper
from tests.api.alpaca.test_sdk_history import parse, sdk

DAY = date(2026, 1, 7)
LONG_CALL = "AAPL260107C00150000"  # exercised at a close of 160
SHORT_PUT = "AAPL260107P00170000"  # assigned
LONG_PUT = "AAPL260107P00100000"  # expires worthless


def hold(paper: Paper, symbol: str, qty: str) -> None:
    size = Decimal(qty)
    fill = Fill(
        fill_id=paper.ctx.ids(),
        order_id=None,
        instrument=parse_instrument(symbol, AssetClass.US_OPTION).spec,
        side=Side.BUY if size > 0 else Side.SELL,
        qty=abs(size),
        price=Decimal(2),
        fee=Decimal(0),
        time=paper.clock(),
    )
    with account_tx(paper.ctx.engine, paper.account_id) as tx:
        step = handle(tx.state, ApplyFill(at=paper.clock(), fill=fill))
        tx.save(step.state, step.events, recorded_at=paper.clock())


def test_option_events_parse_with_the_sdk_models(paper: Paper) -> None:
    hold(paper, LONG_CALL, "2")
    hold(paper, SHORT_PUT, "-1")
    hold(paper, LONG_PUT, "1")
    with UnitOfWork(paper.ctx.engine) as uow:
        start = datetime(2026, 1, 7, 5, tzinfo=UTC)
        uow.prices.insert_bars(
            [Bar("AAPL", "1Day", start, Decimal(150), Decimal(161), Decimal(149), Decimal(160))]
        )
        uow.commit()
    paper.clock.current = datetime(2026, 1, 7, 21, 30, tzinfo=UTC)
    expiry.run_expiry(paper.ctx, DAY)
    client = sdk(paper)
    found: dict[str, NonTradeActivity] = {}
    for kind in ("OPEXC", "OPASN", "OPEXP"):
        raw = client.get(f"/account/activities/{kind}")
        assert isinstance(raw, list)
        [item] = [parse(entry) for entry in raw]
        assert isinstance(item, NonTradeActivity)
        found[kind] = item
    exercised, assigned, expired = found["OPEXC"], found["OPASN"], found["OPEXP"]
    assert exercised.activity_type == ActivityType.OPEXC
    assert (exercised.symbol, exercised.qty, exercised.net_amount) == (LONG_CALL, 2.0, -30000.0)
    assert exercised.date == DAY
    assert str(exercised.account_id) == paper.account_id
    assert "daily_bar_close" in exercised.description
    assert assigned.activity_type == ActivityType.OPASN
    assert (assigned.symbol, assigned.qty, assigned.net_amount) == (SHORT_PUT, -1.0, -17000.0)
    assert expired.activity_type == ActivityType.OPEXP
    assert (expired.symbol, expired.qty, expired.net_amount) == (LONG_PUT, 1.0, 0.0)
    every = client.get("/account/activities", {"category": "non_trade_activity"})
    assert isinstance(every, list)
    assert {entry["activity_type"] for entry in every} >= {"OPEXC", "OPASN", "OPEXP", "CSD"}
