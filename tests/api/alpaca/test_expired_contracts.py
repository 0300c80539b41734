"""Orders on an expired option contract are refused at every door (issue 14, hole 9).

Options expire at the close (16:00 New York time) of their expiry date. After that a new order
(/v2, /api/v1, a multi-leg leg) is refused with 422 ``contract_expired`` (Alpaca's 42210000 on
/v2), and so is an order closing a position held in it: the expiry job settles that position.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from propdesk.execution.order_book.requests import OrderRequest
from propdesk.model.instruments import AssetClass
from propdesk.model.orders import OrderStatus, Side
from propdesk.services.access.tokens import Role, create_token
from propdesk.services.accounts.commands import get_state
from propdesk.services.orders import commands as orders
from tests.api.alpaca.conftest import SESSION_OPEN, Paper

EXPIRED = "AAPL260106C00100000"  # expired at the close of Tuesday 2026-01-06
TODAY = "AAPL260107C00100000"  # expires at today's close, 16:00 New York time (21:00 UTC)
LIVE = "AAPL260220C00100000"


def option_order(symbol: str, side: str = "buy", qty: str = "1") -> dict[str, str]:
    return {"symbol": symbol, "qty": qty, "side": side, "type": "market", "time_in_force": "day"}


def test_a_new_order_on_an_expired_contract_is_refused_on_v2(paper: Paper) -> None:
    paper.quote(EXPIRED, "0.00", "0.05")
    paper.quote(TODAY, "1.00", "1.10")
    before = get_state(paper.ctx.engine, paper.account_id)
    with paper.http() as http:
        refused = http.post("/v2/orders", json=option_order(EXPIRED))
        today = http.post("/v2/orders", json=option_order(TODAY))
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == 42210000
    assert refused.json()["reason"] == "contract_expired"
    assert "2026-01-06 16:00 New York time" in refused.json()["message"]
    assert today.status_code == 200, today.text  # a contract trades until its expiry day's close
    assert get_state(paper.ctx.engine, paper.account_id).seq > before.seq


def test_the_service_api_and_multileg_legs_refuse_it_too(paper: Paper) -> None:
    paper.quote(EXPIRED, "0.00", "0.05")
    paper.quote(LIVE, "5.00", "5.20")
    _, admin = create_token(paper.ctx.engine, role=Role.ADMIN, name="ops", clock=paper.clock)
    before = get_state(paper.ctx.engine, paper.account_id)
    with paper.http() as http:
        v1 = http.post(
            f"/api/v1/prop/accounts/{paper.account_id}/orders",
            json={
                "clientOrderId": "old-call",
                "symbol": EXPIRED,
                "assetClass": "us_option",
                "side": "buy",
                "qty": "1",
                "type": "market",
            },
            headers={"Authorization": f"Bearer {admin}"},
        )
        spread = http.post(
            "/v2/orders",
            json={
                "order_class": "mleg",
                "qty": "1",
                "type": "market",
                "time_in_force": "day",
                "legs": [
                    {"symbol": LIVE, "ratio_qty": "1", "side": "buy"},
                    {"symbol": EXPIRED, "ratio_qty": "1", "side": "sell"},
                ],
            },
        )
    assert v1.status_code == 422, v1.text
    assert v1.json()["code"] == "contract_expired"
    assert spread.status_code == 422, spread.text
    assert spread.json()["reason"] == "contract_expired"
    assert get_state(paper.ctx.engine, paper.account_id) == before


def test_closing_an_expired_position_waits_for_the_expiry_job(paper: Paper) -> None:
    paper.quote(TODAY, "1.00", "1.10")
    buy = OrderRequest(
        client_order_id="call", symbol=TODAY, side=Side.BUY, qty=Decimal(2), asset_class=AssetClass.US_OPTION
    )
    assert orders.submit_order(paper.ctx, paper.account_id, buy).order.status is OrderStatus.FILLED
    paper.clock.current = SESSION_OPEN + timedelta(hours=6)  # 16:00 in New York: expired
    paper.quote(TODAY, "0.00", "0.05")
    before = get_state(paper.ctx.engine, paper.account_id)
    with paper.http() as http:
        close = http.post("/v2/orders", json=option_order(TODAY, side="sell", qty="2"))
        delete = http.delete(f"/v2/positions/{TODAY}")
    for refused in (close, delete):
        assert refused.status_code == 422, refused.text
        assert refused.json()["reason"] == "contract_expired"
        assert "awaits expiry processing" in refused.json()["message"]
    after = get_state(paper.ctx.engine, paper.account_id)
    assert (after.seq, after.positions[TODAY].qty) == (before.seq, Decimal(2))
