"""Rule packs on prop accounts over HTTP: snapshot at creation, /rules, gates, day lock, failure."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from propdesk.jobs.boundaries import BoundaryResult, advance_all
from propdesk.risk.rules.state_codec import rule_state_from_payload
from propdesk.services.accounts.commands import recompute
from propdesk.services.alpaca import activities
from propdesk.services.orders import trade_updates
from propdesk.services.prop import marking
from propdesk.store.tables import accounts, rule_states
from tests.api.conftest import Api

ACCOUNTS = "/api/v1/prop/accounts"
TOPSTEP = "topstep-50k-combine"
# Room for futures orders: the execution policy's notional cap is not what these tests exercise.
ROOMY = {"maxOrderNotional": "1000000", "maxPositionEquityRatio": "10", "feeBps": "0"}


def create(api: Api, key: str, **extra: Any) -> dict[str, Any]:
    body = {"idempotencyKey": key, "cloneId": "clone-7", "rulePack": TOPSTEP, "policy": ROOMY, **extra}
    response = api.client.post(ACCOUNTS, json=body, headers=api.service)
    assert response.status_code == 201, response.text
    out: dict[str, Any] = response.json()
    return out


def started(api: Api, key: str = "k-1") -> str:
    account = create(api, key)
    response = api.client.post(f"{ACCOUNTS}/{account['id']}/start", headers=api.service)
    assert response.status_code == 200, response.text
    return str(account["id"])


def act(api: Api, account_id: str, run: str, action: str, qty: str = "2") -> dict[str, Any]:
    body = {
        "decisionRunId": run,
        "actions": [
            {"decisionActionId": "a", "action": action, "symbol": "MES", "qty": qty, "assetClass": "future"}
        ],
    }
    response = api.client.post(f"{ACCOUNTS}/{account_id}/decision-actions", json=body, headers=api.service)
    assert response.status_code == 200, response.text
    out: dict[str, Any] = response.json()["actions"][0]
    return out


def rules(api: Api, account_id: str) -> dict[str, Any]:
    response = api.client.get(f"{ACCOUNTS}/{account_id}/rules", headers=api.service)
    assert response.status_code == 200, response.text
    out: dict[str, Any] = response.json()
    return out


def mark(api: Api, account_id: str) -> dict[str, Any]:
    response = api.client.post(f"{ACCOUNTS}/{account_id}/mark-to-market", headers=api.service)
    assert response.status_code == 200, response.text
    out: dict[str, Any] = response.json()
    return out


def test_the_pack_is_snapshotted_and_part_of_idempotency(api: Api) -> None:
    account = create(api, "k-1")
    assert account["rulePack"] == f"{TOPSTEP}@1"
    assert account["outcome"] is None
    assert Decimal(account["startingBalance"]) == Decimal(50000)
    assert create(api, "k-1")["id"] == account["id"]
    versioned = create(api, "k-1", rulePack=f"{TOPSTEP}@1")
    assert versioned["id"] == account["id"]
    other = api.client.post(
        ACCOUNTS,
        json={"idempotencyKey": "k-1", "cloneId": "clone-7", "rulePack": "mffu-core-50k", "policy": ROOMY},
        headers=api.service,
    )
    assert other.status_code == 409
    assert "rule pack" in other.json()["message"]
    unknown = api.client.post(ACCOUNTS, json={"rulePack": "no-such-firm"}, headers=api.service)
    assert unknown.status_code == 422
    assert unknown.json()["details"]["field"] == "rulePack"
    wrong_version = api.client.post(ACCOUNTS, json={"rulePack": f"{TOPSTEP}@99"}, headers=api.service)
    assert wrong_version.status_code == 422
    with api.ctx.engine.connect() as conn:
        row = conn.execute(sa.select(accounts).where(accounts.c.id == account["id"])).mappings().one()
    assert row["rule_pack"]["id"] == TOPSTEP
    assert row["rule_pack_key"] == f"{TOPSTEP}@1"
    assert len(row["rule_pack_fingerprint"]) == 64
    plain = api.client.post(ACCOUNTS, json={"idempotencyKey": "k-2"}, headers=api.service).json()
    missing = api.client.get(f"{ACCOUNTS}/{plain['id']}/rules", headers=api.service)
    assert missing.status_code == 404
    assert missing.json()["code"] == "no_rule_pack"


def test_rules_status_after_start(api: Api) -> None:
    account_id = started(api)
    status = rules(api, account_id)
    assert status["packKey"] == f"{TOPSTEP}@1"
    # The daily loss floor ($49,000) binds before the max-loss floor ($48,000).
    assert Decimal(status["effectiveCapital"]) == Decimal(1000)
    assert status["bindingFloor"] == "daily_loss"
    assert status["breachLevel"] == "safe"
    assert status["canTrade"] is True
    assert status["requiredAction"] == "none"
    floors = {f["rule"]: f for f in status["floors"]}
    assert Decimal(floors["max_loss"]["floor"]) == Decimal(48000)
    assert Decimal(status["target"]["remaining"]) == Decimal(3000)
    with api.ctx.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(rule_states)).scalar_one() == 1


def test_fills_marks_gates_and_the_day_lock(api: Api) -> None:
    account_id = started(api)
    api.quote("MES", "5000", "5000")
    too_many = act(api, account_id, "r-1", "open_long", qty="6")
    assert too_many["status"] == "rejected"
    gate = next(g for g in too_many["gateResults"] if g["gate"] == "rule:max_contracts")
    assert gate["passed"] is False
    assert (Decimal(gate["value"]), Decimal(gate["limit"])) == (Decimal(6), Decimal(5))

    assert act(api, account_id, "r-2", "open_long")["status"] == "filled"
    assert rules(api, account_id)["openLots"] == "2"
    context = api.client.get(f"{ACCOUNTS}/{account_id}/decision-context", headers=api.service).json()
    assert context["rules"]["packKey"] == f"{TOPSTEP}@1"

    # 2 MES × $5 × 100 points = $1,000: Topstep's daily loss limit, a soft breach that locks the day.
    api.quote("MES", "4900", "4900")
    assert mark(api, account_id)["liquidated"] is False
    status = rules(api, account_id)
    assert status["dayLocked"] is True
    # The soft breach flattens: the position is closed at the mark, the account stays open.
    positions = api.client.get(f"{ACCOUNTS}/{account_id}/positions", headers=api.service).json()
    assert positions["items"] == []
    assert Decimal(status["balance"]) == Decimal(49000)
    assert status["requiredAction"] == "lock_day"
    assert status["lockedUntil"] is not None
    assert status["canTrade"] is False
    with api.ctx.engine.connect() as conn:
        locked = conn.execute(sa.select(rule_states.c.locked_until)).scalar_one()
    assert locked is not None
    refused = act(api, account_id, "r-3", "open_long", qty="1")
    assert refused["status"] == "rejected"
    day = next(g for g in refused["gateResults"] if g["gate"] == "rule:day_locked")
    assert day["passed"] is False
    account = api.client.get(f"{ACCOUNTS}/{account_id}", headers=api.service).json()
    assert account["status"] == "active"
    assert account["outcome"] is None

    # 17:00 America/Chicago ends the trading day: the day-boundary job lifts the lock.
    assert advance_all(api.ctx) == BoundaryResult(accounts=1, rolled=0, failed=[])
    api.clock.advance(9 * 3600)
    assert advance_all(api.ctx) == BoundaryResult(accounts=1, rolled=1, failed=[])
    assert advance_all(api.ctx).rolled == 0
    after = rules(api, account_id)
    assert after["dayLocked"] is False
    assert after["canTrade"] is True
    assert after["tradingDay"] == "2026-01-06"
    # The kernel's day-start anchors follow the pack's day: the new day starts at the flat balance.
    balance = api.client.get(f"{ACCOUNTS}/{account_id}", headers=api.service).json()["balance"]
    assert balance["tradingDay"] == "2026-01-06"
    assert balance["dayStartEquity"] == balance["equity"]
    api.quote("MES", "4900", "4900")
    assert act(api, account_id, "r-4", "open_long", qty="1")["status"] == "filled"
    # Fills, flattening and marks all went through the ledger: a fold from zero agrees.
    assert recompute(api.ctx.engine, account_id) == {}


def test_a_hard_breach_liquidates_and_fails_the_evaluation(api: Api) -> None:
    account_id = started(api)
    api.quote("MES", "5000", "5000")
    assert act(api, account_id, "r-1", "open_long", qty="4")["status"] == "filled"
    # 4 MES × $5 × 101 points = $2,020 below the $48,000 floor.
    api.quote("MES", "4899", "4899")
    assert mark(api, account_id)["liquidated"] is True
    account = api.client.get(f"{ACCOUNTS}/{account_id}", headers=api.service).json()
    assert account["status"] == "liquidated"
    assert account["outcome"] == "failed"
    status = rules(api, account_id)
    assert status["outcome"] == "failed"
    assert status["outcomeRule"] == "max_loss"
    assert recompute(api.ctx.engine, account_id) == {}


def test_meeting_the_target_completes_the_account_as_passed(api: Api) -> None:
    account = create(api, "k-apex", rulePack="apex-eod-50k")
    account_id = account["id"]
    api.client.post(f"{ACCOUNTS}/{account_id}/start", headers=api.service)
    api.quote("MES", "5000", "5000")
    assert act(api, account_id, "r-1", "open_long", qty="4")["status"] == "filled"
    # 4 MES × $5 × 151 points = $3,020 closed: Apex's $3,000 target, checked at once when flat.
    api.quote("MES", "5151", "5151")
    assert act(api, account_id, "r-2", "close", qty="4")["status"] == "filled"
    out = api.client.get(f"{ACCOUNTS}/{account_id}", headers=api.service).json()
    assert out["status"] == "completed"
    assert out["outcome"] == "passed"
    status = rules(api, account_id)
    assert status["outcome"] == "passed"
    assert Decimal(status["profit"]) == Decimal(3020)


def test_an_unstored_mark_still_moves_an_intraday_trailing_floor(api: Api) -> None:
    account = create(api, "k-intraday", rulePack="apex-intraday-50k")
    account_id = account["id"]
    api.client.post(f"{ACCOUNTS}/{account_id}/start", headers=api.service)
    api.quote("MES", "5000", "5000")
    assert act(api, account_id, "r-1", "open_long", qty="2")["status"] == "filled"
    # +$200 (0.4%) is below the ledger cadence's 0.5% move: the mark row is not stored...
    api.quote("MES", "5020", "5020")
    result = marking.mark_account(api.ctx, account_id)
    assert result.persisted is False
    # ...but the rule state saw the peak: the $2,500 trailing floor moved to $47,700 and stays there.
    api.quote("MES", "5000", "5000")
    floors = {f["rule"]: f for f in rules(api, account_id)["floors"]}
    assert Decimal(floors["max_loss"]["floor"]) == Decimal(47700)
    assert Decimal(rules(api, account_id)["highWatermark"]) >= Decimal(50200)


def test_a_voided_fill_that_breached_the_daily_floor_un_breaches_after_recompute(api: Api) -> None:
    account_id = started(api)
    api.quote("MES", "5000", "5000")
    assert act(api, account_id, "r-1", "open_long")["status"] == "filled"
    # Closing 2 MES 100 points lower realizes $1,000: Topstep's daily loss limit, a soft breach.
    api.quote("MES", "4900", "4900")
    closing = act(api, account_id, "r-2", "close")
    assert closing["status"] == "filled"
    breached = rules(api, account_id)
    assert (breached["dayLocked"], breached["canTrade"], breached["requiredAction"]) == (
        True,
        False,
        "lock_day",
    )

    # The close was a bad print: the operator voids it (the position is back) and recomputes.
    api.quote("MES", "5000", "5000")
    admin = "/api/v1/admin/prop/accounts"
    voided = api.client.post(
        f"{admin}/{account_id}/void-fill/{closing['fillId']}", json={"reason": "bad print"}, headers=api.admin
    )
    assert voided.status_code == 200, voided.text
    report = api.client.post(f"{admin}/{account_id}/recompute", json={}, headers=api.admin).json()
    assert report == {"accountId": account_id, "drift": [], "applied": False}
    # The rule state was rebuilt from the ledger by the same fold, without the voided fill.
    with api.ctx.engine.connect() as conn:
        payload, locked_until = conn.execute(
            sa.select(rule_states.c.payload, rule_states.c.locked_until).where(
                rule_states.c.account_id == account_id
            )
        ).one()
    stored = rule_state_from_payload(payload)
    assert (stored.breaches, stored.day_locked_by, locked_until) == ((), None, None)
    assert stored.balance == Decimal(50000)
    # Marked at the good price the account trades again.
    mark(api, account_id)
    after = rules(api, account_id)
    assert (after["dayLocked"], after["canTrade"], after["requiredAction"]) == (False, True, "none")
    assert after["breaches"] == []
    assert act(api, account_id, "r-3", "increase", qty="1")["status"] == "filled"
    assert recompute(api.ctx.engine, account_id) == {}


def test_a_rule_flatten_and_an_auto_liquidation_are_trade_updates_and_activities(api: Api) -> None:
    flat_id, failed_id = started(api, "k-flat"), started(api, "k-fail")
    api.quote("MES", "5000", "5000")
    assert act(api, flat_id, "r-1", "open_long", qty="2")["status"] == "filled"
    assert act(api, failed_id, "r-1", "open_long", qty="4")["status"] == "filled"
    # A soft breach flattens one account, a hard breach liquidates the other (both from a mark).
    api.quote("MES", "4899", "4899")
    assert mark(api, flat_id)["liquidated"] is False
    assert mark(api, failed_id)["liquidated"] is True
    for account_id, qty in ((flat_id, "2"), (failed_id, "4")):
        updates = trade_updates.updates_after(api.ctx, account_id, 0)
        assert [(u.event, u.order.side.value) for u in updates] == [
            ("new", "buy"),
            ("fill", "buy"),
            ("fill", "sell"),
        ]
        closing = updates[-1]
        assert (closing.qty, closing.position_qty, closing.order.status.value) == (
            Decimal(qty),
            Decimal(0),
            "filled",
        )
        fills = activities.account_activities(
            api.ctx, account_id, activities.activity_query(activity_types="FILL")
        )
        assert closing.order.id in {a.order_id for a in fills if isinstance(a, activities.TradeActivity)}
