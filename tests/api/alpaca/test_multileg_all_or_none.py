"""A multi-leg (mleg) order is all or none: its parent is the only handle (issue 14, hole 2).

Cancelling or replacing one leg answers 422 (Alpaca's ``{code, message}`` on /v2, our
``leg_of_multileg`` on /api/v1) and changes nothing; cancelling the parent cancels every leg;
replacing the parent makes a new parent with the same legs and ratios, as Alpaca's PATCH does.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from alpaca.common.exceptions import APIError
from alpaca.trading.enums import OrderClass, OrderSide, OrderStatus, TimeInForce
from alpaca.trading.models import Order, TradeAccount
from alpaca.trading.requests import LimitOrderRequest, OptionLegRequest, ReplaceOrderRequest

from propdesk.services.access.tokens import Role, create_token
from propdesk.services.accounts.commands import get_state
from tests.api.alpaca.conftest import Paper
from tests.api.alpaca.test_sdk_orders import CALL_LONG, CALL_SHORT, as_order, sdk


def resting_spread(paper: Paper, limit_price: float = 3.0) -> Order:
    """A call spread of 2 units at a limit below its 4.20 net debit: it rests."""
    paper.quote(CALL_LONG, "5.00", "5.20")
    paper.quote(CALL_SHORT, "1.00", "1.10")
    spread = as_order(
        sdk(paper).submit_order(
            LimitOrderRequest(
                qty=2,
                order_class=OrderClass.MLEG,
                time_in_force=TimeInForce.DAY,
                limit_price=limit_price,
                legs=[
                    OptionLegRequest(symbol=CALL_LONG, ratio_qty=1, side=OrderSide.BUY),
                    OptionLegRequest(symbol=CALL_SHORT, ratio_qty=1, side=OrderSide.SELL),
                ],
            )
        )
    )
    assert spread.status is OrderStatus.NEW
    assert spread.legs is not None
    assert len(spread.legs) == 2
    return spread


def statuses(paper: Paper, order_id: object) -> tuple[OrderStatus, list[OrderStatus]]:
    order = as_order(sdk(paper).get_order_by_id(str(order_id)))
    return order.status, sorted(leg.status for leg in order.legs or [])


def test_cancelling_or_replacing_one_leg_is_refused_with_alpacas_422(paper: Paper) -> None:
    spread = resting_spread(paper)
    assert spread.legs is not None
    leg = spread.legs[0]
    before = get_state(paper.ctx.engine, paper.account_id)
    with paper.http() as http:
        cancel = http.delete(f"/v2/orders/{leg.id}")
        replace = http.patch(f"/v2/orders/{leg.id}", json={"limit_price": "5.1"})
    for refused in (cancel, replace):
        assert refused.status_code == 422, refused.text
        body = refused.json()
        assert body["code"] == 42210000
        assert str(spread.id) in body["message"]
        assert "leg" in body["message"]
    # Nothing changed: the order still rests whole, its reservation held.
    assert statuses(paper, spread.id) == (OrderStatus.NEW, [OrderStatus.HELD, OrderStatus.HELD])
    after = get_state(paper.ctx.engine, paper.account_id)
    assert (after.seq, after.reserved_for_orders) == (before.seq, before.reserved_for_orders)


def test_a_leg_is_refused_on_the_service_api_too(paper: Paper) -> None:
    spread = resting_spread(paper)
    assert spread.legs is not None
    _, token = create_token(paper.ctx.engine, role=Role.ADMIN, name="ops", clock=paper.clock)
    base = f"/api/v1/prop/accounts/{paper.account_id}/orders/{spread.legs[1].id}"
    with paper.http() as http:
        auth = {"Authorization": f"Bearer {token}"}
        for refused in (
            http.delete(base, headers=auth),
            http.patch(base, json={"limitPrice": "1.5"}, headers=auth),
        ):
            assert refused.status_code == 422, refused.text
            assert refused.json()["code"] == "leg_of_multileg"
    assert statuses(paper, spread.id) == (OrderStatus.NEW, [OrderStatus.HELD, OrderStatus.HELD])


def test_cancelling_the_parent_cancels_every_leg(paper: Paper) -> None:
    spread = resting_spread(paper)
    sdk(paper).cancel_order_by_id(spread.id)
    assert statuses(paper, spread.id) == (OrderStatus.CANCELED, [OrderStatus.CANCELED, OrderStatus.CANCELED])
    assert get_state(paper.ctx.engine, paper.account_id).reserved_for_orders == 0


def test_cancel_all_ends_a_spread_through_its_parent(paper: Paper) -> None:
    spread = resting_spread(paper)
    canceled = sdk(paper).cancel_orders()
    assert isinstance(canceled, list)
    assert [c.id for c in canceled] == [spread.id]
    assert statuses(paper, spread.id) == (OrderStatus.CANCELED, [OrderStatus.CANCELED, OrderStatus.CANCELED])


def test_replacing_the_parent_carries_the_legs_and_ratios(paper: Paper) -> None:
    client = sdk(paper)
    spread = resting_spread(paper)
    new = as_order(client.replace_order_by_id(spread.id, ReplaceOrderRequest(qty=3, limit_price=3.5)))
    assert new.id != spread.id
    assert (new.replaces, new.order_class, new.qty, new.limit_price, new.status) == (
        spread.id,
        OrderClass.MLEG,
        "3",
        "3.5",
        OrderStatus.NEW,
    )
    assert new.legs is not None
    assert sorted((leg.symbol, leg.side, leg.ratio_qty, leg.qty, leg.status) for leg in new.legs) == [
        (CALL_LONG, OrderSide.BUY, "1", "3", OrderStatus.HELD),
        (CALL_SHORT, OrderSide.SELL, "1", "3", OrderStatus.HELD),
    ]
    old = as_order(client.get_order_by_id(spread.id))
    assert (old.status, old.replaced_by) == (OrderStatus.REPLACED, new.id)
    assert sorted(leg.status for leg in old.legs or []) == [OrderStatus.REPLACED, OrderStatus.REPLACED]
    # Only the new order holds capital; replacing it at a marketable limit fills every leg at once.
    filled = as_order(client.replace_order_by_id(new.id, ReplaceOrderRequest(limit_price=4.5)))
    assert (filled.status, filled.filled_avg_price) == (OrderStatus.FILLED, "4.2")
    assert sorted((leg.symbol, leg.filled_qty) for leg in filled.legs or []) == [
        (CALL_LONG, "3"),
        (CALL_SHORT, "3"),
    ]
    state = get_state(paper.ctx.engine, paper.account_id)
    assert state.reserved_for_orders == 0
    assert {s: p.qty for s, p in state.positions.items()} == {CALL_LONG: Decimal(3), CALL_SHORT: Decimal(-3)}
    account = client.get_account()
    assert isinstance(account, TradeAccount)


def test_a_parent_replace_that_changes_nothing_or_sets_a_stop_is_refused(paper: Paper) -> None:
    client = sdk(paper)
    spread = resting_spread(paper)
    for change in (ReplaceOrderRequest(limit_price=3.0), ReplaceOrderRequest(qty=2)):
        with pytest.raises(APIError) as refused:
            client.replace_order_by_id(spread.id, change)
        assert refused.value.status_code == 422
    with paper.http() as http:
        stop = http.patch(f"/v2/orders/{spread.id}", json={"stop_price": "2"})
    assert stop.status_code == 422
    assert statuses(paper, spread.id) == (OrderStatus.NEW, [OrderStatus.HELD, OrderStatus.HELD])
