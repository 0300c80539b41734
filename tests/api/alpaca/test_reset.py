"""``POST /v2/account/reset`` on a live server (the real alpaca-py sends it) and the admin reset route."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from alpaca.trading.client import TradingClient
from alpaca.trading.models import Clock, TradeAccount

from propdesk.accounting.events import AccountReset
from propdesk.accounting.state import AccountStatus
from propdesk.execution.order_book.requests import OrderRequest
from propdesk.model.ids import AccountId
from propdesk.model.orders import OrderStatus, OrderType, Side, TimeInForce
from propdesk.services.access import api_keys
from propdesk.services.access.tokens import Role, create_token
from propdesk.services.accounts import lifecycle
from propdesk.services.accounts.commands import get_state, recompute
from propdesk.services.orders import commands as orders
from propdesk.store.uow import UnitOfWork
from tests.api.alpaca.conftest import Paper

D = Decimal
RESET = "/v2/account/reset"


def sdk(paper: Paper, keys: api_keys.KeyPair | None = None) -> TradingClient:
    keys = keys or paper.keys
    return TradingClient(keys.key_id, keys.secret_key, paper=True, url_override=paper.url)


def trade(paper: Paper, account_id: str) -> None:
    """A long AAPL position and a resting limit order (which holds a reservation)."""
    paper.quote("AAPL", "200.00", "200.10")
    buy = OrderRequest(client_order_id="buy", symbol="AAPL", side=Side.BUY, qty=D(10))
    assert orders.submit_order(paper.ctx, AccountId(account_id), buy).order.status is OrderStatus.FILLED
    rest = OrderRequest(
        client_order_id="rest",
        symbol="AAPL",
        side=Side.BUY,
        type=OrderType.LIMIT,
        qty=D(5),
        limit_price=D(150),
        time_in_force=TimeInForce.GTC,
    )
    orders.submit_order(paper.ctx, AccountId(account_id), rest)
    paper.quote("AAPL", "210.00", "210.05")


def ledger_types(paper: Paper, account_id: str) -> list[str]:
    with UnitOfWork(paper.ctx.engine, read_only=True) as uow:
        return [row.type for row in uow.accounts.ledger(account_id)]


def test_the_sdk_resets_its_account_and_the_same_keys_keep_working(paper: Paper) -> None:
    trade(paper, paper.account_id)
    history = ledger_types(paper, paper.account_id)
    client = sdk(paper)

    body: Any = client.post("/account/reset")

    assert body == {
        "id": paper.account_id,
        "status": "ACTIVE",
        "cash": "100000",
        "equity": "100000",
        "starting_cash": "100000",
        "reset_at": "2026-01-07T15:00:02.000000Z",
    }
    state = get_state(paper.ctx.engine, paper.account_id)
    assert state.cash == state.equity == D(100000)
    assert not state.positions
    assert state.reserved_for_orders == 0
    assert recompute(paper.ctx.engine, paper.account_id) == {}
    after = ledger_types(paper, paper.account_id)
    assert after[: len(history)] == history
    # No closing fill: the position is archived in the reset event (a reset needs no quote).
    assert after[len(history) :] == ["reservation_released", "account_reset"]
    # Cash 100,000 - 2,001 = 97,999 is topped up to the starting 100,000.
    with UnitOfWork(paper.ctx.engine, read_only=True) as uow:
        reset = uow.accounts.ledger(paper.account_id)[-1].to_event()
    assert isinstance(reset, AccountReset)
    assert reset.cash_delta == D(2001)
    assert [(p.symbol, p.qty) for p in reset.archived] == [("AAPL", D(10))]
    # The same pair still works, through the SDK's own models.
    assert isinstance(client.get_clock(), Clock)
    account = client.get_account()
    assert isinstance(account, TradeAccount)
    assert (account.status.value, account.cash, account.equity) == ("ACTIVE", "100000", "100000")
    assert isinstance(client.post("/account/reset"), dict)  # a second reset is just as fine


def test_reset_with_an_arbitrary_amount_as_a_number_or_a_string(paper: Paper) -> None:
    body: Any = sdk(paper).post("/account/reset", {"starting_cash": 2500.1})
    assert (body["cash"], body["equity"], body["starting_cash"]) == ("2500.1", "2500.1", "2500.1")
    with paper.http() as http:
        again = http.post(RESET, json={"starting_cash": "12345.678"})
    assert again.status_code == 200, again.text
    assert again.json()["starting_cash"] == "12345.678"
    assert get_state(paper.ctx.engine, paper.account_id).starting_cash == D("12345.678")
    assert recompute(paper.ctx.engine, paper.account_id) == {}


BAD_BODIES: list[Any] = [
    {"starting_cash": "abc"},
    {"starting_cash": 0},
    {"starting_cash": "-5"},
    {"starting_cash": True},
    {"starting_cash": "NaN"},
    {"starting_cash": "1e16"},
    {"starting_cash": [1]},
    {"cash": "100"},
    [],
]


def test_bad_bodies_are_refused_and_change_nothing(paper: Paper) -> None:
    trade(paper, paper.account_id)
    before = get_state(paper.ctx.engine, paper.account_id)
    with paper.http() as http:
        for body in BAD_BODIES:
            response = http.post(RESET, json=body)
            assert response.status_code == 422, (body, response.text)
            assert response.json()["code"] == 40010001, body
        nan = http.post(
            RESET, content=b'{"starting_cash": NaN}', headers={"Content-Type": "application/json"}
        )
    assert nan.status_code == 422, nan.text
    assert get_state(paper.ctx.engine, paper.account_id) == before


def test_a_reset_needs_no_quote_and_archives_the_positions(paper: Paper) -> None:
    """Issue 14 (hole 4): a stale quote used to refuse the reset (422 price_missing)."""
    trade(paper, paper.account_id)
    paper.clock.advance(3600)  # the AAPL quote is an hour old
    client = sdk(paper)
    body: Any = client.post("/account/reset")
    assert (body["cash"], body["equity"]) == ("100000", "100000")
    assert client.get_all_positions() == []
    assert client.get_orders() == []
    assert recompute(paper.ctx.engine, paper.account_id) == {}
    with paper.http() as http:
        activities = http.get("/v2/account/activities/JNLC").json()
    (reset,) = activities
    assert reset["net_amount"] == "2001"
    assert "positions archived: 10 AAPL" in reset["description"]


def test_a_key_resets_only_its_own_account(paper: Paper) -> None:
    other_id, other_keys = paper.open_account(starting_cash="5000")
    trade(paper, paper.account_id)
    mine = get_state(paper.ctx.engine, paper.account_id)
    principal = api_keys.authenticate_key(paper.ctx.engine, other_keys.key_id, other_keys.secret_key)
    assert principal is not None
    assert principal.account_id == other_id != paper.account_id
    body: Any = sdk(paper, other_keys).post("/account/reset", {"starting_cash": "7000"})
    assert body["id"] == other_id
    assert get_state(paper.ctx.engine, paper.account_id) == mine
    assert get_state(paper.ctx.engine, other_id).cash == D(7000)
    # Each pair sees its own account through the SDK's model, the other's reset left this one alone.
    theirs, ours = sdk(paper, other_keys).get_account(), sdk(paper).get_account()
    assert isinstance(theirs, TradeAccount)
    assert isinstance(ours, TradeAccount)
    assert (str(theirs.id), theirs.cash, theirs.equity) == (other_id, "7000", "7000")
    assert (str(ours.id), ours.cash) == (paper.account_id, "97999")  # 100,000 - 10 × 200.10
    with paper.http() as http:
        assert http.post(RESET, headers={"APCA-API-SECRET-KEY": "wrong"}).status_code == 401


def test_the_admin_route_resets_audited_with_a_reason(paper: Paper) -> None:
    trade(paper, paper.account_id)
    _, admin = create_token(paper.ctx.engine, role=Role.ADMIN, name="ops-alice", clock=paper.clock)
    _, service = create_token(paper.ctx.engine, role=Role.SERVICE, name="agent", clock=paper.clock)
    path = f"/api/v1/admin/prop/accounts/{paper.account_id}/reset"
    with paper.http() as http:
        denied = http.post(path, json={"reason": "x"}, headers={"Authorization": f"Bearer {service}"})
        assert denied.status_code == 403
        auth = {"Authorization": f"Bearer {admin}"}
        assert http.post(path, json={}, headers=auth).status_code == 422  # a reason is required
        # The one number grammar and PROPDESK_MAX_STARTING_CASH (issue 14, hole 7).
        for cash in ("1e3", "+5", "1_000", 10**309, "10000000.01"):
            refused = http.post(path, json={"reason": "x", "startingCash": cash}, headers=auth)
            assert refused.status_code == 422, cash
        done = http.post(path, json={"reason": "contest round 2", "startingCash": "50000"}, headers=auth)
        assert done.status_code == 200, done.text
        account = done.json()
        log = http.get(f"/api/v1/admin/prop/accounts/{paper.account_id}/audit-log", headers=auth).json()
        missing = http.post(
            "/api/v1/admin/prop/accounts/no-such-account/reset", json={"reason": "x"}, headers=auth
        )
    assert (account["status"], D(account["startingBalance"])) == ("active", D(50000))
    assert D(account["balance"]["cash"]) == D(account["balance"]["equity"]) == D(50000)
    assert account["policy"]["starting_balance"] == "50000"
    (row,) = log["items"]
    assert (row["actor"], row["action"], row["reason"]) == ("ops-alice", "reset", "contest round 2")
    assert row["before"]["positions"] == {"AAPL": "10"}
    assert row["after"]["startingCash"] == "50000"
    assert missing.status_code == 404
    # The key pair is untouched by an admin reset too.
    assert isinstance(sdk(paper).get_clock(), Clock)


def to_status(paper: Paper, status: AccountStatus) -> None:
    if status is AccountStatus.LIQUIDATED:
        lifecycle.liquidate(paper.ctx, paper.account_id, "operator")
    else:
        lifecycle.change_status(paper.ctx, paper.account_id, status, "operator decision")


@pytest.mark.parametrize(
    "status",
    [AccountStatus.PAUSED, AccountStatus.LOCKED, AccountStatus.LIQUIDATED, AccountStatus.COMPLETED],
)
def test_an_owner_cannot_reset_out_of_an_operator_state_only_an_admin_can(
    paper: Paper, status: AccountStatus
) -> None:
    """Issue 14 (hole 4): the holder's reset used to reopen an account an operator had stopped."""
    to_status(paper, status)
    before = get_state(paper.ctx.engine, paper.account_id)
    assert before.status is status
    with paper.http() as http:
        refused = http.post(RESET)
        refused_with_cash = http.post(RESET, json={"starting_cash": "5000"})
    for response in (refused, refused_with_cash):
        assert response.status_code == 409, response.text
        assert response.json()["code"] == 40910000
        assert response.json()["reason"] == "account_operator_state"
        assert status.value in response.json()["message"]
    assert get_state(paper.ctx.engine, paper.account_id) == before
    # The operator lifts it: the admin route resets from any of these states.
    _, admin = create_token(paper.ctx.engine, role=Role.ADMIN, name="ops", clock=paper.clock)
    with paper.http() as http:
        done = http.post(
            f"/api/v1/admin/prop/accounts/{paper.account_id}/reset",
            json={"reason": "cleared"},
            headers={"Authorization": f"Bearer {admin}"},
        )
        assert done.status_code == 200, done.text
        assert http.post(RESET).status_code == 200  # active again: the holder may reset
    assert get_state(paper.ctx.engine, paper.account_id).status is AccountStatus.ACTIVE


def test_starting_cash_is_bounded_by_the_setting(paper: Paper) -> None:
    """Issue 14 (hole 4): any amount below 10^15 used to be accepted."""
    before = get_state(paper.ctx.engine, paper.account_id)
    _, admin = create_token(paper.ctx.engine, role=Role.ADMIN, name="ops", clock=paper.clock)
    auth = {"Authorization": f"Bearer {admin}"}
    with paper.http() as http:
        over = http.post(RESET, json={"starting_cash": "10000000.01"})
        admin_over = http.post(
            f"/api/v1/admin/prop/accounts/{paper.account_id}/reset",
            json={"reason": "x", "startingCash": "20000000"},
            headers=auth,
        )
        created_over = http.post(
            "/api/v1/prop/accounts",
            json={"preset": "paper", "policy": {"startingBalance": "10000001"}},
            headers=auth,
        )
        at_limit = http.post(RESET, json={"starting_cash": "10000000"})
    assert over.status_code == 422, over.text
    assert over.json()["code"] == 42210000
    assert "10,000,000" in over.json()["message"]
    assert admin_over.status_code == 422
    assert admin_over.json()["code"] == "invalid_amount"
    assert created_over.status_code == 422, created_over.text
    assert created_over.json()["code"] == "invalid_amount"
    assert at_limit.status_code == 200, at_limit.text
    assert (
        get_state(paper.ctx.engine, paper.account_id).starting_cash == D(10_000_000) != before.starting_cash
    )
