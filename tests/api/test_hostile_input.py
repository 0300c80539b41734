"""Hostile input on /api/v1 (issue 14, holes 3 and 7), on SQLite and PostgreSQL: every door
takes the same number grammar and the same text rules, and a refusal stores nothing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi.routing import APIRoute
from pydantic import BaseModel

from propdesk.api.routing import ExactJsonRoute
from propdesk.model.text import CheckedText
from propdesk.store.tables import accounts, decision_actions, orders, users
from tests.api.conftest import Api

ACCOUNTS = "/api/v1/prop/accounts"
JSON = {"Content-Type": "application/json"}


def count(api: Api, table: sa.Table) -> int:
    with api.ctx.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def raw(api: Api, path: str, text: str) -> httpx.Response:
    response: httpx.Response = api.client.post(path, content=text.encode(), headers={**JSON, **api.service})
    return response


def refused(response: httpx.Response, field: str) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    body: dict[str, Any] = response.json()
    assert field in body["message"] or field in str(body["details"]), body
    return body


def started(api: Api, key: str = "hostile") -> str:
    created = api.client.post(ACCOUNTS, json={"idempotencyKey": key}, headers=api.service)
    assert created.status_code == 201, created.text
    account_id: str = created.json()["id"]
    assert api.client.post(f"{ACCOUNTS}/{account_id}/start", headers=api.service).status_code == 200
    return account_id


@pytest.mark.parametrize(
    "balance",
    [
        '"1e309"',
        "1e309",
        "-1e309",
        '"1E+5"',
        '"1_000"',
        '"+1000"',
        '"١٢٠٠٠"',
        '"1000 "',
        "10000001",
        '"0"',
        "NaN",
    ],
)
def test_a_starting_balance_outside_the_grammar_or_above_the_maximum_is_a_422(api: Api, balance: str) -> None:
    for key in ("startingBalance", "starting_balance"):
        response = raw(api, ACCOUNTS, f'{{"policy": {{"{key}": {balance}}}}}')
        assert response.status_code == 422, (balance, response.text)
        assert response.json()["code"] in ("invalid_policy", "invalid_amount", "invalid_request"), (
            response.text
        )
    assert (count(api, accounts), count(api, users)) == (0, 0)


def test_the_maximum_starting_balance_and_exact_json_numbers_are_accepted(api: Api) -> None:
    top = raw(api, ACCOUNTS, '{"idempotencyKey": "top", "policy": {"startingBalance": 1E+7}}')
    assert top.status_code == 201, top.text
    assert Decimal(top.json()["startingBalance"]) == Decimal(10_000_000)
    exact = raw(
        api, ACCOUNTS, '{"idempotencyKey": "exact", "policy": {"startingBalance": 2500.1, "feeBps": 0.1}}'
    )
    assert exact.status_code == 201, exact.text
    assert exact.json()["startingBalance"] == "2500.1"
    assert exact.json()["policy"]["fee_bps"] == "0.1"


def test_policy_decimals_follow_the_grammar(api: Api) -> None:
    for body in (
        '{"maxLeverage": "2e0"}',
        '{"fee_bps": "+1"}',
        '{"slippageBps": "1_0"}',
        '{"maxLeverage": "２"}',
    ):
        response = raw(api, ACCOUNTS, f'{{"policy": {body}}}')
        assert response.status_code == 422, (body, response.text)
        assert response.json()["code"] == "invalid_policy"
    assert count(api, accounts) == 0


def test_order_numbers_follow_the_grammar_and_json_numbers_are_exact(api: Api) -> None:
    account_id = started(api)
    api.quote("AAPL", "100.00", "100.02")
    path = f"{ACCOUNTS}/{account_id}/orders"
    for qty in ('"1_000"', '"١٢"', '"１２"', '"+1"', '"1e3"', "1e309", '"1000000000001"'):
        refused(
            raw(
                api,
                path,
                f'{{"symbol": "AAPL", "side": "buy", "type": "limit", "qty": {qty}, "limitPrice": "99"}}',
            ),
            "qty",
        )
    assert count(api, orders) == 0
    placed = raw(
        api, path, '{"symbol": "AAPL", "side": "buy", "type": "limit", "qty": 1e-05, "limitPrice": 99.5}'
    )
    assert placed.status_code == 201, placed.text
    assert (placed.json()["qty"], placed.json()["limitPrice"]) == ("0.00001", "99.5")


@pytest.mark.parametrize("coid", ['"a\\u0000"', '"\\ud800"', '"b\\u001f"', '"nl\\n"', '"c\\u200b"'])
def test_bad_client_order_ids_are_a_422_and_nothing_is_stored(api: Api, coid: str) -> None:
    account_id = started(api)
    api.quote("AAPL", "100.00", "100.02")
    path = f"{ACCOUNTS}/{account_id}/orders"
    body = f'{{"symbol": "AAPL", "side": "buy", "type": "limit", "qty": "1", "limitPrice": "99", "clientOrderId": {coid}}}'
    refused(raw(api, path, body), "clientOrderId")
    assert count(api, orders) == 0
    listed = api.client.get(path, headers=api.service)
    assert (listed.status_code, listed.json()["items"]) == (200, [])
    long = raw(api, path, body.replace(coid, '"' + "c" * 129 + '"'))
    refused(long, "clientOrderId")


def test_decision_text_is_checked_free_text_may_hold_line_breaks(api: Api) -> None:
    account_id = started(api)
    api.quote("AAPL", "99.99", "100.01")
    path = f"{ACCOUNTS}/{account_id}/decision-actions"
    for action in (
        '{"decisionActionId": "a\\u0000", "action": "hold"}',
        '{"decisionActionId": "a1", "action": "hold", "note": "x\\u0000"}',
        '{"decisionActionId": "a1", "action": "hold", "note": "\\udc00"}',
        '{"decisionActionId": "a1", "action": "hold", "symbol": "AAPL\\t"}',
        '{"decisionActionId": "a1", "action": "open_long", "symbol": "AAPL", "qty": "+1"}',
        '{"decisionActionId": "a1", "action": "open_long", "symbol": "AAPL", "notional": "1e3"}',
    ):
        response = raw(api, path, f'{{"decisionRunId": "r1", "actions": [{action}]}}')
        assert response.status_code == 422, (action, response.text)
    refused(
        raw(
            api,
            path,
            '{"decisionRunId": "r\\u0001", "actions": [{"decisionActionId": "a", "action": "hold"}]}',
        ),
        "decisionRunId",
    )
    assert count(api, decision_actions) == 0
    ok = raw(
        api,
        path,
        '{"decisionRunId": "r1", "actions": [{"decisionActionId": "a1", "action": "hold", "note": "two\\nlines\\ttab"}]}',
    )
    assert ok.status_code == 200, ok.text


def test_path_and_query_parameters_refuse_control_characters(api: Api) -> None:
    account_id = started(api)
    for response, field in (
        (api.client.get(f"{ACCOUNTS}/abc%01", headers=api.service), "account_id"),
        (api.client.get(f"{ACCOUNTS}/{account_id}/orders/x%7f", headers=api.service), "order_id"),
        (
            api.client.get(
                f"{ACCOUNTS}/{account_id}/orders:by-client-id",
                params={"clientOrderId": "a\x00"},
                headers=api.service,
            ),
            "clientOrderId",
        ),
        (
            api.client.get(f"{ACCOUNTS}/{account_id}/orders", params={"x\x02": "1"}, headers=api.service),
            "x\\u0002",
        ),
    ):
        body = refused(response, field)
        assert body["code"] == "invalid_request"


def test_admin_balances_and_manual_quotes_follow_the_grammar(api: Api) -> None:
    account_id = started(api)
    api.quote("AAPL", "99.99", "100.01")
    reset = f"/api/v1/admin/prop/accounts/{account_id}/reset"
    for cash in ('"1e309"', "1e309", '"10000000.5"', '"+5"'):
        response = api.client.post(
            reset,
            content=f'{{"reason": "r", "startingCash": {cash}}}'.encode(),
            headers={**JSON, **api.admin},
        )
        assert response.status_code == 422, (cash, response.text)
    quotes = "/api/v1/admin/prices/quotes"
    for bid in ('"1_0"', '"1e2"', "1e309", '"-1"'):
        response = api.client.post(
            quotes,
            content=f'{{"symbol": "AAPL", "bid": {bid}, "ask": "101", "reason": "r"}}'.encode(),
            headers={**JSON, **api.admin},
        )
        assert response.status_code == 422, (bid, response.text)


def test_risk_requests_read_json_numbers_exactly_and_refuse_the_rest(api: Api) -> None:
    body = {"riskFraction": "0.01", "stopDistance": "0.5", "pointValue": "10"}
    as_number = raw(
        api,
        "/api/v1/risk/size",
        '{"effectiveCapital": 500.5, "riskFraction": 0.01, "stopDistance": 0.5, "pointValue": 10}',
    )
    as_text = api.client.post(
        "/api/v1/risk/size", json={"effectiveCapital": "500.5", **body}, headers=api.service
    )
    assert as_number.status_code == as_text.status_code == 200, as_number.text
    assert as_number.json() == as_text.json()
    for capital in ("5e2", "+500", "5_00", "٥٠٠"):
        response = api.client.post(
            "/api/v1/risk/size", json={"effectiveCapital": capital, **body}, headers=api.service
        )
        refused(response, "effectiveCapital")


def test_every_route_decodes_exactly_and_every_body_model_checks_its_text(api: Api) -> None:
    """By construction: a new route or request model is covered without editing this test."""
    app: Any = api.client.app
    routes = list(_api_routes(app.routes))
    assert len(routes) > 50
    for route in routes:
        assert isinstance(route, ExactJsonRoute), route.path
        field = route.body_field
        if field is None:
            continue
        models = [
            t for t in _types(field.field_info.annotation) if isinstance(t, type) and issubclass(t, BaseModel)
        ]
        assert models, (route.path, field.field_info.annotation)
        for model in models:
            assert issubclass(model, CheckedText), (route.path, model)


def _api_routes(routes: list[Any]) -> Any:
    """Every APIRoute, also inside included routers (FastAPI 0.165 keeps those as one entry)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _api_routes(included.routes)
        elif isinstance(route, APIRoute):
            yield route


def _types(annotation: Any) -> list[Any]:
    args = getattr(annotation, "__args__", None)
    return [annotation] if not args else [t for a in args for t in _types(a)]
