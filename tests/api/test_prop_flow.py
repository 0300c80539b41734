"""End to end over HTTP: the seed flows of the prop-trading module, on SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from propdesk.store.tables import decision_actions, fills, ledger_events, orders
from tests.api.conftest import Api

ACCOUNTS = "/api/v1/prop/accounts"


def counts(api: Api) -> tuple[int, int, int, int]:
    with api.ctx.engine.connect() as conn:
        return tuple(  # type: ignore[return-value]
            conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
            for t in (decision_actions, orders, fills, ledger_events)
        )


def batch(run: str, *actions: dict[str, Any]) -> dict[str, Any]:
    return {"decisionRunId": run, "actions": list(actions)}


def create(api: Api, key: str = "k-1", **extra: Any) -> dict[str, Any]:
    response = api.client.post(
        ACCOUNTS, json={"idempotencyKey": key, "cloneId": "clone-7", **extra}, headers=api.service
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_seed_flow_end_to_end(api: Api) -> None:
    account = create(api, ownerUserId="user-1")
    assert account["status"] == "pending"
    assert account["policy"]["max_leverage"] == "5"
    assert create(api, ownerUserId="user-1")["id"] == account["id"]
    conflict = api.client.post(
        ACCOUNTS,
        json={"idempotencyKey": "k-1", "cloneId": "clone-7", "ownerUserId": "user-2"},
        headers=api.service,
    )
    assert conflict.status_code == 409
    assert conflict.json()["code"] == "idempotency_conflict"
    base = f"{ACCOUNTS}/{account['id']}"

    started = api.client.post(f"{base}/start", headers=api.service).json()
    assert started["status"] == "active"
    assert started["balance"]["cash"] == "100000"
    again = api.client.post(f"{base}/start", headers=api.service)
    assert again.status_code == 200
    assert again.json()["ledgerSeq"] == started["ledgerSeq"]

    api.quote("AAPL", "99.99", "100.01")
    api.quote("MSFT", "399.98", "400.02")
    first = batch(
        "run-1",
        {"decisionActionId": "a1", "action": "open_long", "symbol": "AAPL", "notional": "10000"},
        {"decisionActionId": "a2", "action": "open_long", "symbol": "MSFT", "notional": "60000"},
        {"decisionActionId": "a3", "action": "hold", "symbol": "AAPL"},
        {"decisionActionId": "a4", "action": "open_short", "symbol": "MSFT", "qty": "10"},
        {"decisionActionId": "a5", "action": "open_long", "symbol": "TSLA", "notional": "1000"},
    )
    response = api.client.post(f"{base}/decision-actions", json=first, headers=api.service)
    assert response.status_code == 200, response.text
    results = {a["decisionActionId"]: a for a in response.json()["actions"]}
    assert results["a1"]["status"] == "filled"
    assert results["a1"]["orderId"]
    assert results["a1"]["fillId"]
    assert results["a2"]["status"] == "rejected"
    assert results["a2"]["reason"] == "max_order_notional"
    notional_gate = next(g for g in results["a2"]["gateResults"] if g["gate"] == "max_order_notional")
    assert notional_gate["passed"] is False
    assert Decimal(notional_gate["value"]) == Decimal(60000)
    assert Decimal(notional_gate["limit"]) == Decimal(50000)
    assert results["a3"]["status"] == "rejected"
    assert results["a3"]["reason"] == "unsupported_action"
    assert results["a4"]["status"] == "filled"
    assert results["a5"]["reason"] == "price_missing"  # no quote for TSLA: never a guessed price
    assert not any(r["replayed"] for r in results.values())

    before = counts(api)
    retry = api.client.post(f"{base}/decision-actions", json=first, headers=api.service)
    assert retry.status_code == 200
    assert [a["id"] for a in retry.json()["actions"]] == [
        results[k]["id"] for k in ("a1", "a2", "a3", "a4", "a5")
    ]
    assert all(a["replayed"] for a in retry.json()["actions"])
    assert counts(api) == before

    changed = batch(
        "run-1", {"decisionActionId": "a1", "action": "open_long", "symbol": "AAPL", "notional": "9000"}
    )
    refused = api.client.post(f"{base}/decision-actions", json=changed, headers=api.service)
    assert refused.status_code == 409
    assert refused.json()["details"]["decisionActionIds"] == ["a1"]
    duplicate = batch(
        "run-2",
        {"decisionActionId": "d", "action": "open_long", "symbol": "AAPL", "notional": "100"},
        {"decisionActionId": "d", "action": "close", "symbol": "AAPL"},
    )
    dup = api.client.post(f"{base}/decision-actions", json=duplicate, headers=api.service)
    assert dup.status_code == 422
    assert dup.json()["code"] == "duplicate_action_ids"
    assert counts(api) == before

    fetched = api.client.get(
        f"/api/v1/prop/decision-actions/{results['a1']['id']}", headers=api.service
    ).json()
    assert fetched["status"] == "filled"
    assert fetched["fillId"] == results["a1"]["fillId"]

    api.clock.advance(30)
    api.quote("AAPL", "109.99", "110.01")
    api.quote("MSFT", "389.98", "390.02")
    marked = api.client.post(f"{base}/mark-to-market", headers=api.service).json()
    assert marked["persisted"] is True
    assert marked["liquidated"] is False
    # long 100 AAPL @100 now 110 (+1000), short 10 MSFT @400 now 390 (+100), fees 10 + 4
    snapshot = api.client.get(f"{base}/snapshot", headers=api.service).json()
    assert snapshot["account"]["balance"]["unrealizedPnl"] == "1100.00"
    assert Decimal(snapshot["account"]["balance"]["equity"]) == Decimal(100000 + 1100 - 14)

    ledger = api.client.get(f"{base}/ledger", params={"limit": 1000}, headers=api.service).json()["items"]
    assert [e["seq"] for e in ledger] == list(range(1, len(ledger) + 1))
    assert sum(Decimal(e["cashDelta"]) for e in ledger) == Decimal(snapshot["account"]["balance"]["cash"])
    assert ledger[0]["type"] == "account_created"
    fill_rows = api.client.get(f"{base}/fills", headers=api.service).json()["items"]
    order_rows = api.client.get(f"{base}/orders", headers=api.service).json()["items"]
    assert {f["orderId"] for f in fill_rows} == {o["id"] for o in order_rows}
    assert len(fill_rows) == 2
    position_rows = api.client.get(f"{base}/positions", headers=api.service).json()["items"]
    assert position_rows == snapshot["positions"]
    assert {p["symbol"]: p["qty"] for p in position_rows} == {"AAPL": "100", "MSFT": "-10"}
    fill_ids = {e["payload"]["fill"]["fill_id"] for e in ledger if e["type"] == "fill_applied"}
    assert fill_ids == {f["id"] for f in fill_rows}

    done = api.client.post(f"{base}/complete", json={"reason": "audition over"}, headers=api.service)
    assert done.json()["status"] == "completed"
    for verb in ("complete", "liquidate"):
        terminal = api.client.post(f"{base}/{verb}", json={}, headers=api.service)
        assert terminal.status_code == 409
        assert terminal.json()["code"] == "invalid_transition"
        assert "completed" in terminal.json()["message"]

    clones = api.client.get("/api/v1/prop/clones/clone-7/accounts", headers=api.service).json()["items"]
    assert [c["id"] for c in clones] == [account["id"]]


def test_a_breach_auto_liquidates_at_the_next_mark(api: Api) -> None:
    account = create(api, key="k-breach", policy={"liquidationDrawdown": "0.1"})
    base = f"{ACCOUNTS}/{account['id']}"
    api.client.post(f"{base}/start", headers=api.service)
    api.quote("AAPL", "100", "100")
    opened = api.client.post(
        f"{base}/decision-actions",
        json=batch(
            "r", {"decisionActionId": "x", "action": "open_long", "symbol": "AAPL", "notional": "50000"}
        ),
        headers=api.service,
    ).json()
    assert opened["actions"][0]["status"] == "filled"
    api.clock.advance(5)
    api.quote("AAPL", "79.99", "80.01")  # -10,000 on 500 shares: equity 89,950 <= 90,000
    # An admin's sweep writes the heartbeat checked below (a service token's sweep does not).
    result = api.client.post("/api/v1/prop/mark-to-market-all", headers=api.admin).json()
    assert result == {"accounts": 1, "persisted": 1, "liquidated": 1, "failed": []}
    snapshot = api.client.get(f"{base}/snapshot", headers=api.service).json()
    assert snapshot["account"]["status"] == "liquidated"
    assert snapshot["positions"] == []
    assert snapshot["markToMarket"]["details"]["liquidated"] == 1
    ledger = api.client.get(f"{base}/ledger", headers=api.service).json()["items"]
    assert [e["type"] for e in ledger[-4:]] == [
        "positions_marked",
        "fill_applied",
        "status_changed",
        "account_liquidated",
    ]
    assert ledger[-3]["payload"]["fill"]["price"] == "80.00"
    refused = api.client.post(
        f"{base}/decision-actions",
        json=batch(
            "r2", {"decisionActionId": "y", "action": "open_long", "symbol": "AAPL", "notional": "100"}
        ),
        headers=api.service,
    ).json()
    assert refused["actions"][0]["reason"] == "account_inactive"


def test_routes_need_the_right_token(api: Api) -> None:
    assert api.client.get(f"{ACCOUNTS}/nope").status_code == 401
    bad = api.client.get(
        f"{ACCOUNTS}/nope", headers={"Authorization": "Bearer pd_0000000000000000_" + "x" * 43}
    )
    assert bad.status_code == 401
    assert bad.json()["code"] == "invalid_token"
    assert api.client.get(f"{ACCOUNTS}/nope", headers=api.service).json()["code"] == "account_not_found"
    forbidden = api.client.post(
        "/api/v1/admin/prop/accounts/nope/pause", json={"reason": "x"}, headers=api.service
    )
    assert forbidden.status_code == 403
    assert api.client.get(f"{ACCOUNTS}/nope", headers=api.admin).status_code == 404


def test_bad_input_is_a_422_naming_the_field_and_changes_nothing(api: Api) -> None:
    before = counts(api)
    bad_policy = api.client.post(ACCOUNTS, json={"policy": {"max_leverage": "-1"}}, headers=api.service)
    assert bad_policy.status_code == 422
    assert bad_policy.json()["details"]["errors"][0]["field"] == "policy.max_leverage"
    unknown = api.client.post(ACCOUNTS, json={"policy": {"bogus": 1}}, headers=api.service)
    assert unknown.status_code == 422
    account = create(api, key="k-422")
    api.client.post(f"{ACCOUNTS}/{account['id']}/start", headers=api.service)
    bad_qty = api.client.post(
        f"{ACCOUNTS}/{account['id']}/decision-actions",
        json=batch("r", {"decisionActionId": "q", "action": "open_long", "symbol": "AAPL", "qty": "-3"}),
        headers=api.service,
    )
    assert bad_qty.status_code == 422
    assert bad_qty.json()["details"]["errors"][0]["field"] == "actions.0.qty"
    assert counts(api)[0] == before[0]
