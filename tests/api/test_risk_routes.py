"""``/api/v1/risk/*`` over HTTP: seed 001's sizing example, Kelly, ruin, challenge, packs and errors."""

from __future__ import annotations

from decimal import Decimal

from tests.api.conftest import Api

RISK = "/api/v1/risk"


def test_seed_001_sizing_example_through_http(api: Api) -> None:
    body = {
        "effectiveCapital": "500",
        "riskFraction": 0.01,
        "winRate": 0.55,
        "payoff": 2.0,
        "stopDistance": "0.50",
        "pointValue": "10",
    }
    response = api.client.post(f"{RISK}/size", json=body, headers=api.service)
    assert response.status_code == 200, response.text
    out = response.json()
    assert out["contracts"] == 1
    assert Decimal(out["riskBudget"]) == Decimal(5)
    assert Decimal(out["kelly"]["fStar"]) == Decimal("0.325")
    assert out["level"] == "safe"
    assert out["blocked"] is False
    assert out["riskOfRuin"] < 1e-9


def test_kelly_and_ruin(api: Api) -> None:
    kelly = api.client.post(f"{RISK}/kelly", json={"winRate": "0.55", "payoff": "2"}, headers=api.admin)
    assert kelly.status_code == 200, kelly.text
    assert Decimal(kelly.json()["fStar"]) == Decimal("0.325")
    ruin = api.client.post(
        f"{RISK}/ruin", json={"winRate": 0.40, "payoff": 1.5, "riskFraction": 0.10}, headers=api.service
    )
    assert ruin.status_code == 200, ruin.text
    out = ruin.json()
    assert out["vince"] == 1.0
    assert out["level"] == "critical"
    assert out["blocked"] is True


def test_challenge_on_a_shipped_pack(api: Api) -> None:
    body = {
        "pack": "topstep-50k-combine",
        "winRate": 0.5,
        "payoff": 2,
        "risk": "200",
        "paths": 500,
        "maxDays": 30,
        "seed": 7,
    }
    response = api.client.post(f"{RISK}/challenge", json=body, headers=api.service)
    assert response.status_code == 200, response.text
    out = response.json()
    assert out["packKey"].startswith("topstep-50k-combine@")
    assert out["paths"] == 500
    assert 0 <= out["wilsonLow"] <= out["pPass"] <= out["wilsonHigh"] <= 1
    assert sum(out["failures"].values()) + out["passed"] + out["timedOut"] == 500
    again = api.client.post(f"{RISK}/challenge", json=body, headers=api.service).json()
    assert again["pPass"] == out["pPass"]


def test_bad_inputs_are_422_naming_the_field(api: Api) -> None:
    bad = api.client.post(
        f"{RISK}/size",
        json={"effectiveCapital": "500", "riskFraction": 1.5, "stopDistance": "0.5", "pointValue": "10"},
        headers=api.service,
    )
    assert bad.status_code == 422
    assert bad.json()["code"] == "invalid_request"
    assert bad.json()["details"]["errors"][0]["field"] == "riskFraction"
    money_exponent = api.client.post(
        f"{RISK}/size",
        json={"effectiveCapital": "5.005e2", "riskFraction": 0.01, "stopDistance": "0.5", "pointValue": "10"},
        headers=api.service,
    )
    assert money_exponent.status_code == 422
    assert money_exponent.json()["details"]["errors"][0]["field"] == "effectiveCapital"
    unknown = api.client.post(
        f"{RISK}/challenge",
        json={"pack": "no-such-pack", "winRate": 0.5, "payoff": 2, "risk": "100"},
        headers=api.service,
    )
    assert unknown.status_code == 422
    assert unknown.json()["message"].startswith("pack: unknown rule pack")
    too_big = api.client.post(
        f"{RISK}/challenge",
        json={"pack": "topstep-50k-combine", "winRate": 0.5, "payoff": 2, "risk": "100", "paths": 1_000_000},
        headers=api.service,
    )
    assert too_big.status_code == 422
    assert api.client.post(f"{RISK}/kelly", json={"winRate": 0.5, "payoff": 1}).status_code == 401


def test_packs_lists_the_shipped_packs(api: Api) -> None:
    response = api.client.get(f"{RISK}/packs", headers=api.service)
    assert response.status_code == 200, response.text
    items = {p["id"]: p for p in response.json()["items"]}
    assert "topstep-50k-combine" in items
    assert "audition-default" in items
    top = items["topstep-50k-combine"]
    assert top["key"] == f"topstep-50k-combine@{top['version']}"
    assert Decimal(top["startingBalance"]) == Decimal(50000)
    assert len(top["fingerprint"]) == 64
