"""One event stream out: a decision-action fill, a liquidation (its fills and its cancels) and a
reset reach ``/stream`` and ``/v2/account/activities`` like a ``/v2`` order does, on each database."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from websockets.sync.client import ClientConnection

from propdesk.model.orders import ActionKind
from propdesk.services.accounts import admin, lifecycle
from propdesk.services.alpaca import paper_accounts
from propdesk.services.orders import commands as orders
from propdesk.services.prop import decisions
from propdesk.services.prop.decisions import ActionRequest
from tests.api.alpaca.conftest import Paper
from tests.api.alpaca.test_stream import authenticate, client, limit_buy, listen, market_buy, receive

__all__ = ["client"]  # the raw-client fixture, used by name

D = Decimal


@pytest.fixture
def listening(paper: Paper, client: ClientConnection) -> ClientConnection:
    assert authenticate(client, paper.keys)["data"]["status"] == "authorized"
    listen(client)
    return client


def updates(ws: ClientConnection, count: int) -> list[dict[str, Any]]:
    got = [receive(ws)["data"] for _ in range(count)]
    return got


def activities(paper: Paper) -> list[dict[str, Any]]:
    with paper.http() as http:
        response = http.get("/v2/account/activities", params={"direction": "asc"})
    assert response.status_code == 200, response.text
    body: list[dict[str, Any]] = response.json()
    return body


def test_a_decision_action_fill_is_on_the_stream_and_in_the_activities(
    paper: Paper, listening: ClientConnection
) -> None:
    paper.quote("AAPL", "100.00", "100.02")
    [result] = decisions.submit_batch(
        paper.ctx, paper.account_id, "run", [ActionRequest("a1", ActionKind.OPEN_LONG, "AAPL", qty=D(3))]
    )
    assert result.record.status == decisions.FILLED, result.record.gate_results
    new, fill = updates(listening, 2)
    assert (new["event"], new["order"]["id"], new["order"]["filled_qty"]) == (
        "new",
        result.record.order_id,
        "0",
    )
    assert {k: fill[k] for k in ("event", "qty", "price", "position_qty", "execution_id")} == {
        "event": "fill",
        "qty": "3",
        "price": fill["price"],
        "position_qty": "3",
        "execution_id": result.record.fill_id,
    }
    assert fill["order"]["id"] == result.record.order_id
    assert fill["order"]["status"] == "filled"
    [activity] = [a for a in activities(paper) if a["activity_type"] == "FILL"]
    assert (activity["order_id"], activity["qty"], activity["price"]) == (
        result.record.order_id,
        "3",
        fill["price"],
    )


@pytest.mark.parametrize("door", ["lifecycle", "admin"])
def test_a_liquidation_s_fills_and_cancels_are_on_the_stream_and_in_the_activities(
    paper: Paper, listening: ClientConnection, door: str
) -> None:
    paper.quote("AAPL", "100.00", "100.02")
    orders.submit_order(paper.ctx, paper.account_id, market_buy("held", qty="5"))
    resting = orders.submit_order(paper.ctx, paper.account_id, limit_buy("resting", "90", qty="1")).order
    updates(listening, 3)  # new + fill of the market order, new of the resting one
    if door == "admin":
        admin.liquidate(paper.ctx, paper.account_id, actor="ops", reason="test")
    else:
        lifecycle.liquidate(paper.ctx, paper.account_id, "test")
    fill, canceled = updates(listening, 2)
    assert {k: fill[k] for k in ("event", "qty", "position_qty")} == {
        "event": "fill",
        "qty": "5",
        "position_qty": "0",
    }
    assert D(fill["price"]) == D("100.00")  # the bid: a sell closes at it
    assert (fill["order"]["side"], fill["order"]["symbol"], fill["order"]["status"]) == (
        "sell",
        "AAPL",
        "filled",
    )
    assert (canceled["event"], canceled["order"]["id"], canceled["order"]["status"]) == (
        "canceled",
        resting.id,
        "canceled",
    )
    sells = [a for a in activities(paper) if a["activity_type"] == "FILL" and a["side"] == "sell"]
    assert [(a["qty"], a["order_id"]) for a in sells] == [("5", fill["order"]["id"])]


def test_a_reset_cancels_on_the_stream_and_is_a_journal_activity(
    paper: Paper, listening: ClientConnection
) -> None:
    paper.quote("AAPL", "100.00", "100.02")
    resting = orders.submit_order(paper.ctx, paper.account_id, limit_buy("resting", "90", qty="1")).order
    updates(listening, 1)
    paper_accounts.reset_account(paper.ctx, paper.account_id, actor="ops", reason="start over")
    [canceled] = updates(listening, 1)
    assert (canceled["event"], canceled["order"]["id"]) == ("canceled", resting.id)
    assert "JNLC" in [a["activity_type"] for a in activities(paper)]
