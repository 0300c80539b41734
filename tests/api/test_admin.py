"""Admin controls over HTTP: status changes, voids, recompute, approvals, audit rows, kill switches."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Engine

from propdesk.settings import Settings
from tests.api.conftest import Api, build_api

ACCOUNTS = "/api/v1/prop/accounts"
ADMIN = "/api/v1/admin/prop/accounts"


def open_started(api: Api, key: str, **policy: Any) -> str:
    created = api.client.post(ACCOUNTS, json={"idempotencyKey": key, "policy": policy}, headers=api.service)
    account_id: str = created.json()["id"]
    assert api.client.post(f"{ACCOUNTS}/{account_id}/start", headers=api.service).status_code == 200
    return account_id


def act(api: Api, account_id: str, run: str, *actions: dict[str, Any]) -> list[dict[str, Any]]:
    response = api.client.post(
        f"{ACCOUNTS}/{account_id}/decision-actions",
        json={"decisionRunId": run, "actions": list(actions)},
        headers=api.service,
    )
    assert response.status_code == 200, response.text
    result: list[dict[str, Any]] = response.json()["actions"]
    return result


def test_pause_resume_lock_are_audited_and_gate_intake(api: Api) -> None:
    account_id = open_started(api, "k1")
    api.quote("AAPL", "99.99", "100.01")
    paused = api.client.post(
        f"{ADMIN}/{account_id}/pause", json={"reason": "investigating"}, headers=api.admin
    )
    assert paused.json()["status"] == "paused"
    refused = act(
        api, account_id, "r1", {"decisionActionId": "a", "action": "open_long", "symbol": "AAPL", "qty": "1"}
    )
    assert refused[0]["reason"] == "account_inactive"
    assert (
        api.client.post(f"{ADMIN}/{account_id}/resume", json={"reason": "ok"}, headers=api.admin).status_code
        == 200
    )
    assert (
        api.client.post(f"{ADMIN}/{account_id}/lock", json={"reason": "review"}, headers=api.admin).json()[
            "status"
        ]
        == "locked"
    )
    missing_reason = api.client.post(f"{ADMIN}/{account_id}/resume", json={}, headers=api.admin)
    assert missing_reason.status_code == 422
    log = api.client.get(f"{ADMIN}/{account_id}/audit-log", headers=api.admin).json()["items"]
    assert [(a["action"], a["actor"], a["reason"]) for a in log] == [
        ("pause", "ops-alice", "investigating"),
        ("resume", "ops-alice", "ok"),
        ("lock", "ops-alice", "review"),
    ]
    assert (log[0]["before"]["status"], log[0]["after"]["status"]) == ("active", "paused")


def test_void_fill_reverses_it_with_correcting_events_and_recompute_finds_no_drift(api: Api) -> None:
    account_id = open_started(api, "k2")
    api.quote("AAPL", "100", "100")
    first = act(
        api, account_id, "r", {"decisionActionId": "a", "action": "open_long", "symbol": "AAPL", "qty": "10"}
    )
    api.quote("AAPL", "110", "110")
    act(api, account_id, "r", {"decisionActionId": "b", "action": "increase", "symbol": "AAPL", "qty": "10"})
    voided = api.client.post(
        f"{ADMIN}/{account_id}/void-fill/{first[0]['fillId']}",
        json={"reason": "bad print"},
        headers=api.admin,
    )
    assert voided.status_code == 200, voided.text
    balance = voided.json()["balance"]
    # As if only the second fill (10 @ 110, fee 1.10) had happened.
    assert Decimal(balance["cash"]) == Decimal(100000) - Decimal(1100) - Decimal("1.10")
    assert Decimal(balance["fees"]) == Decimal("1.10")
    positions = api.client.get(f"{ACCOUNTS}/{account_id}/positions", headers=api.service).json()["items"]
    assert [(p["qty"], Decimal(p["avgPrice"])) for p in positions] == [("10", Decimal(110))]
    fills = api.client.get(f"{ACCOUNTS}/{account_id}/fills", headers=api.service).json()["items"]
    assert [f["voidedAt"] is not None for f in fills] == [True, False]
    again = api.client.post(
        f"{ADMIN}/{account_id}/void-fill/{first[0]['fillId']}", json={"reason": "twice"}, headers=api.admin
    )
    assert again.status_code == 409
    report = api.client.post(f"{ADMIN}/{account_id}/recompute", json={}, headers=api.admin).json()
    assert report == {"accountId": account_id, "drift": [], "applied": False}


def test_void_order_voids_its_fills(api: Api) -> None:
    account_id = open_started(api, "k3")
    api.quote("AAPL", "100", "100")
    result = act(
        api, account_id, "r", {"decisionActionId": "a", "action": "open_long", "symbol": "AAPL", "qty": "5"}
    )
    response = api.client.post(
        f"{ADMIN}/{account_id}/void-order/{result[0]['orderId']}",
        json={"reason": "test order"},
        headers=api.admin,
    )
    assert response.status_code == 200, response.text
    assert response.json()["balance"]["cash"] == "100000.00"
    orders = api.client.get(f"{ACCOUNTS}/{account_id}/orders", headers=api.service).json()["items"]
    assert orders[0]["status"] == "filled"
    assert orders[0]["voidedAt"] is not None
    assert api.client.get(f"{ACCOUNTS}/{account_id}/positions", headers=api.service).json()["items"] == []


def test_manual_approval_holds_actions_until_an_admin_decides(api: Api) -> None:
    account_id = open_started(api, "k4", manualApproval=True)
    api.quote("AAPL", "100", "100")
    held = act(
        api,
        account_id,
        "r",
        {"decisionActionId": "a", "action": "open_long", "symbol": "AAPL", "qty": "5"},
        {"decisionActionId": "b", "action": "open_long", "symbol": "AAPL", "qty": "7"},
    )
    assert [h["status"] for h in held] == ["pending_approval", "pending_approval"]
    assert api.client.get(f"{ACCOUNTS}/{account_id}/positions", headers=api.service).json()["items"] == []
    api.quote("AAPL", "101", "101")
    approved = api.client.post(
        f"/api/v1/admin/prop/decision-actions/{held[0]['id']}/review",
        json={"approve": True, "reason": "looks fine"},
        headers=api.admin,
    ).json()
    assert approved["status"] == "filled"
    assert approved["review"]["by"] == "ops-alice"
    rejected = api.client.post(
        f"/api/v1/admin/prop/decision-actions/{held[1]['id']}/review",
        json={"approve": False, "reason": "too big"},
        headers=api.admin,
    ).json()
    assert rejected["status"] == "rejected"
    twice = api.client.post(
        f"/api/v1/admin/prop/decision-actions/{held[1]['id']}/review",
        json={"approve": True, "reason": "changed my mind"},
        headers=api.admin,
    )
    assert twice.status_code == 409
    positions = api.client.get(f"{ACCOUNTS}/{account_id}/positions", headers=api.service).json()["items"]
    assert [(p["qty"], p["avgPrice"]) for p in positions] == [("5", "101")]


def test_kill_switches(engine: Engine) -> None:
    halted = build_api(engine, Settings(trading_disabled=True))
    with halted.client:
        account_id = open_started(halted, "k5")
        response = halted.client.post(
            f"{ACCOUNTS}/{account_id}/decision-actions",
            json={
                "decisionRunId": "r",
                "actions": [{"decisionActionId": "a", "action": "close", "symbol": "AAPL"}],
            },
            headers=halted.service,
        )
        assert response.status_code == 403
        assert response.json()["code"] == "trading_disabled"
    reducing_only = build_api(engine, Settings(new_orders_disabled=True))
    with reducing_only.client:
        account_id = open_started(reducing_only, "k6")
        reducing_only.quote("AAPL", "100", "100")
        result = act(
            reducing_only,
            account_id,
            "r",
            {"decisionActionId": "a", "action": "open_long", "symbol": "AAPL", "qty": "1"},
        )
        assert result[0]["reason"] == "new_orders_disabled"


def test_decision_context_reports_headroom_quotes_and_heartbeat(api: Api) -> None:
    account_id = open_started(api, "k7")
    api.quote("AAPL", "99.99", "100.01")
    act(
        api,
        account_id,
        "r",
        {"decisionActionId": "a", "action": "open_long", "symbol": "AAPL", "notional": "20000"},
    )
    # The sweep heartbeat is the operators' (a service token's sweep marks its own accounts only).
    api.client.post("/api/v1/prop/mark-to-market-all", headers=api.admin)
    api.clock.advance(12)
    context = api.client.get(
        f"{ACCOUNTS}/{account_id}/decision-context", params={"symbols": "MSFT,aapl"}, headers=api.service
    ).json()
    assert context["headroom"]["positions"] == 4
    assert context["headroom"]["orders"] == 10
    assert context["headroom"]["orderNotional"] == "50000"
    assert Decimal(context["headroom"]["grossExposure"]) == Decimal(100000 - 20) * 5 - Decimal(20000)
    assert set(context["quotes"]) == {"AAPL", "MSFT"}
    assert context["quotes"]["MSFT"] is None
    assert context["quotes"]["AAPL"]["ageSeconds"] == "12.000"
    assert context["snapshot"]["markToMarket"]["ageSeconds"] == "12.000"
    assert [f["symbol"] for f in context["recentFills"]] == ["AAPL"]
    health = api.client.get("/healthz").json()
    assert health["status"] == "ok"
    assert health["markToMarket"]["details"]["accounts"] == 1


def test_manual_quotes_are_audited_and_used_by_execution(api: Api) -> None:
    account_id = open_started(api, "k8")
    body = {"symbol": "aapl", "bid": "99.5", "ask": "100.5", "reason": "feed down"}
    written = api.client.post("/api/v1/admin/prices/quotes", json=body, headers=api.admin)
    assert written.status_code == 200, written.text
    assert written.json()["written"] is True
    assert api.client.post("/api/v1/admin/prices/quotes", json=body, headers=api.service).status_code == 403
    crossed = api.client.post(
        "/api/v1/admin/prices/quotes",
        json={**body, "bid": "101", "time": "2026-01-05T15:00:00Z"},
        headers=api.admin,
    )
    assert crossed.status_code == 422
    result = act(
        api, account_id, "r", {"decisionActionId": "a", "action": "open_long", "symbol": "AAPL", "qty": "2"}
    )
    assert result[0]["status"] == "filled"
    fills = api.client.get(f"{ACCOUNTS}/{account_id}/fills", headers=api.service).json()["items"]
    assert (fills[0]["price"], fills[0]["bid"], fills[0]["ask"]) == ("100.0", "99.5", "100.5")


def test_a_stale_quote_rejects_the_action_with_its_age(api: Api) -> None:
    account_id = open_started(api, "k9")
    api.quote("AAPL", "100", "100")
    api.clock.advance(61)
    result = act(
        api, account_id, "r", {"decisionActionId": "a", "action": "open_long", "symbol": "AAPL", "qty": "1"}
    )
    assert result[0]["status"] == "rejected"
    assert result[0]["reason"] == "price_stale"
    stale = next(g for g in result[0]["gateResults"] if g["gate"] == "price_stale")
    assert (Decimal(stale["value"]), Decimal(stale["limit"])) == (Decimal(61), Decimal(60))
    assert api.client.get(f"{ACCOUNTS}/{account_id}/fills", headers=api.service).json()["items"] == []
