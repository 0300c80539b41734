"""schemathesis against the app's own ``/openapi.json``: no 5xx, and every response matches the schema.

The schema is fetched from ``/openapi.json`` of an app whose engine is never connected (paths and
models do not depend on the database). Each operation is then fuzzed against its own fresh SQLite
database seeded with a started account holding positions, a started account under manual
approval with an action pending, a pending account, and fresh quotes for an equity, a crypto pair
and a future. Path parameters are drawn either from the generated value or from the seeded ids,
so the fuzzer reaches real code (snapshots, ledgers, voids, reviews, liquidations), not only the
404 branch. Generation is derandomized and bounded (coverage phase plus a few fuzzed examples per
operation) so a failure reproduces exactly and the file runs in well under a minute.

Every request carries a valid token of the role the route needs; ``ignored_auth`` then probes the
same request without a token and with a bad one and requires a refusal.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import hypothesis
import pytest
import schemathesis
import sqlalchemy as sa
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from propdesk.api.app import create_app
from propdesk.execution.order_book import OrderRequest
from propdesk.model.orders import OrderType, Side, TimeInForce
from propdesk.services import api_keys, lifecycle, orders, watchlists
from propdesk.services.context import ServiceContext
from propdesk.settings import Settings
from propdesk.store.engine import create_engine_for
from tests.api.conftest import Api, build_api

ACCOUNTS = "/api/v1/prop/accounts"
# Quoted symbols: bid, ask and the asset class a client sends with them.
QUOTED = {
    "AAPL": ("99.99", "100.01", None),
    "MSFT": ("399.98", "400.02", "us_equity"),
    "BTC/USD": ("97000", "97010", "crypto"),
    "MES": ("5000", "5000.25", "future"),
}

# The app is only asked for its OpenAPI document; the engine behind it is never connected.
SCHEMA = schemathesis.openapi.from_asgi(
    "/openapi.json",
    create_app(ServiceContext(engine=sa.create_engine("sqlite://"))),
    config=schemathesis.Config.from_dict(
        {
            "generation": {
                "max-examples": 25,
                "deterministic": True,
                # The bearer token is sent explicitly (below); do not generate random ones.
                "with-security-parameters": False,
            },
            "phases": {"examples": {"enabled": False}, "coverage": {"enabled": True}},
            # Decision intake is the widest input and the busiest code path: fuzz it harder.
            "operations": [{"include-path-regex": "/decision-actions$", "generation": {"max-examples": 150}}],
        }
    ),
)

# "No 5xx, responses match the schema", plus: schema-invalid input is refused with a 4xx and auth
# is enforced. ``status_code_conformance`` is asserted by test_error_responses_are_documented.
# ``positive_data_acceptance`` is not asserted: the request schema is looser than the service
# (any string for a decimal, any preset name), and those inputs correctly get a 422 naming the field.
CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    content_type_conformance,
    negative_data_rejection,
    ignored_auth,
]


@dataclass
class Seeded:
    api: Api
    known: dict[str, list[str]]
    alpaca: dict[str, str]

    def token_for(self, path: str) -> dict[str, str]:
        if path.startswith("/v2"):
            return self.alpaca
        return self.api.admin if path.startswith("/api/v1/admin/") else self.api.service


def _paper_account(api: Api) -> tuple[str, dict[str, str], list[str], list[str]]:
    """A started paper account with a key pair, an AAPL position and a resting limit order, so
    and a watchlist, so that the /v2 routes are fuzzed with real data behind them (not only
    their 401 or 404 branch)."""
    row = lifecycle.create_account(api.ctx, lifecycle.NewAccount(preset="paper", idempotency_key="paper"))
    lifecycle.start(api.ctx, row.id)
    keys = api_keys.create_key(api.ctx.engine, row.id, clock=api.clock)
    bought = orders.submit_order(
        api.ctx,
        row.id,
        OrderRequest(client_order_id="seed-buy", symbol="AAPL", side=Side.BUY, qty=Decimal(10)),
    ).order
    resting = orders.submit_order(
        api.ctx,
        row.id,
        OrderRequest(
            client_order_id="seed-rest",
            symbol="AAPL",
            side=Side.BUY,
            type=OrderType.LIMIT,
            time_in_force=TimeInForce.GTC,
            qty=Decimal(2),
            limit_price=Decimal(90),
        ),
    ).order
    listed = watchlists.create_watchlist(api.ctx, row.id, "seeded", ["AAPL", "MSFT"])
    headers = {"APCA-API-KEY-ID": keys.key_id, "APCA-API-SECRET-KEY": keys.secret_key}
    return row.id, headers, [bought.id, resting.id], [listed.watchlist.id]


def _post(api: Api, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    response = api.client.post(path, json=body, headers=api.service)
    assert response.status_code in (200, 201), response.text
    result: dict[str, Any] = response.json()
    return result


def _batch(*actions: tuple[str, str, str]) -> dict[str, Any]:
    return {
        "decisionRunId": "seed",
        "actions": [
            {"decisionActionId": f"s{i}", "action": kind, "symbol": symbol, "qty": qty}
            for i, (kind, symbol, qty) in enumerate(actions)
        ],
    }


@pytest.fixture
def seeded(sqlite_url: str) -> Iterator[Seeded]:
    engine = create_engine_for(sqlite_url)
    # ignored_auth sends a bad token with every case, all from the TestClient's one address: lift the
    # failed-authentication throttle (and the request limits), which tests/api/test_limits_and_revocation.py covers.
    unlimited = 10**9
    api = build_api(
        engine,
        Settings(
            auth_failure_limit=unlimited, service_api_rate_limit=unlimited, trading_api_rate_limit=unlimited
        ),
    )
    with api.client:
        for symbol, (bid, ask, _) in QUOTED.items():
            api.quote(symbol, bid, ask)
        trading = _post(api, ACCOUNTS, {"idempotencyKey": "trading", "cloneId": "clone-7"})["id"]
        approval = _post(
            api,
            ACCOUNTS,
            {"idempotencyKey": "approval", "cloneId": "clone-7", "policy": {"manualApproval": True}},
        )["id"]
        pending = _post(api, ACCOUNTS, {"idempotencyKey": "pending"})["id"]
        for account_id in (trading, approval):
            _post(api, f"{ACCOUNTS}/{account_id}/start")
        filled = _post(
            api,
            f"{ACCOUNTS}/{trading}/decision-actions",
            _batch(
                ("open_long", "AAPL", "10"), ("open_short", "MSFT", "5"), ("open_long", "BTC/USD", "0.01")
            ),
        )["actions"]
        held = _post(api, f"{ACCOUNTS}/{approval}/decision-actions", _batch(("open_long", "AAPL", "3")))[
            "actions"
        ]
        assert [a["status"] for a in filled] == ["filled"] * 3
        assert held[0]["status"] == "pending_approval"
        _, alpaca, paper_orders, paper_watchlists = _paper_account(api)
        known = {
            "account_id": [trading, approval, pending],
            "action_id": [filled[0]["id"], held[0]["id"]],
            "fill_id": [a["fillId"] for a in filled],
            "order_id": [a["orderId"] for a in filled] + paper_orders,
            "clone_id": ["clone-7"],
            "symbol_or_asset_id": ["AAPL", "BTC/USD", "MSFT"],
            "symbol_or_contract_id": ["AAPL"],
            "symbol_or_id": ["AAPL240119C00150000"],
            "activity_type": ["FILL", "CSD", "JNLC"],
            "watchlist_id": paper_watchlists,
        }
        yield Seeded(api, known, alpaca)
    engine.dispose()


AMOUNTS = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(60_000), places=2).map(str)


def steer_actions(case: schemathesis.Case[Any], data: st.DataObject) -> None:
    """Turn some generated actions into tradable ones: a quoted symbol and one decimal amount.

    The schema allows any string for a symbol or a decimal and leaves both optional, so without
    this nearly every batch stops at a 422, ``invalid_symbol`` or ``price_missing``; with it batches
    also reach the gates, fills and the ledger. schemathesis revalidates the edited case.
    """
    actions = case.body.get("actions") if isinstance(case.body, dict) else None
    for action in actions if isinstance(actions, list) else []:
        if isinstance(action, dict) and data.draw(st.booleans(), label="steer"):
            symbol = data.draw(st.sampled_from(list(QUOTED)), label="symbol")
            amount = data.draw(st.sampled_from(["qty", "notional"]), label="amount")
            action.pop("qty", None)
            action.pop("notional", None)
            action |= {
                "symbol": symbol,
                "assetClass": QUOTED[symbol][2],
                amount: data.draw(AMOUNTS, label=amount),
            }


@SCHEMA.given(data=st.data())
# The seeded database is shared by one operation's examples on purpose: state accumulates like in use.
@hypothesis.settings(deadline=None, suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture])
@SCHEMA.parametrize()
def test_no_server_errors_and_responses_match_the_schema(
    case: schemathesis.Case[Any], data: st.DataObject, seeded: Seeded
) -> None:
    for name, value in (case.path_parameters or {}).items():
        if name in seeded.known:
            case.path_parameters[name] = data.draw(st.sampled_from([value, *seeded.known[name]]), label=name)
    steer_actions(case, data)
    case.call_and_validate(app=seeded.api.client.app, headers=seeded.token_for(case.path), checks=CHECKS)


def test_error_responses_are_documented(seeded: Seeded) -> None:
    """Each kind of error the API returns has its status code and ErrorOut body in the schema."""
    app = seeded.api.client.app
    trading = seeded.known["account_id"][0]
    completed = _post(seeded.api, ACCOUNTS, {"idempotencyKey": "done"})["id"]
    _post(seeded.api, f"{ACCOUNTS}/{completed}/start")
    _post(seeded.api, f"{ACCOUNTS}/{completed}/complete", {"reason": "over"})
    service = seeded.api.service
    probes: list[tuple[str, str, dict[str, Any], Any, dict[str, str], int]] = [
        ("POST", ACCOUNTS, {}, {"policy": {"maxLeverage": "-1"}}, service, 422),
        ("GET", f"{ACCOUNTS}/{{account_id}}", {"account_id": trading}, None, {}, 401),
        (
            "POST",
            "/api/v1/admin/prop/accounts/{account_id}/pause",
            {"account_id": trading},
            {"reason": "x"},
            service,
            403,
        ),
        ("GET", f"{ACCOUNTS}/{{account_id}}", {"account_id": "no-such-account"}, None, service, 404),
        ("POST", f"{ACCOUNTS}/{{account_id}}/complete", {"account_id": completed}, {}, service, 409),
    ]
    for method, path, path_parameters, body, headers, status in probes:
        operation = SCHEMA[path][method]
        case = operation.Case(path_parameters=path_parameters, **({} if body is None else {"body": body}))
        response = case.call(app=app, headers=headers)
        assert response.status_code == status, (method, path, response.text)
        assert set(response.json()) == {"code", "message", "details"}
        case.validate_response(response, checks=[status_code_conformance, response_schema_conformance])
        documented = SCHEMA.raw_schema["paths"][path][method.lower()]["responses"][str(status)]
        assert documented["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorOut"
        }


# --- 500s found while fuzzing, pinned as the behaviour we want ----------------------------------


@pytest.mark.parametrize(
    ("override", "field"),
    [
        pytest.param(
            {"Name": None},
            "policy.name",
            id="key-called-name",
        ),
        pytest.param(  # a JSON number is exact now (issue 14); a string still keeps the grammar
            {"startingBalance": "1.5e0"},
            "policy.starting_balance",
            id="exponent-decimal",
        ),
        pytest.param(
            {"maxLeverage": "NaN"},
            "policy.max_leverage",
            id="nan-decimal",
        ),
        pytest.param(
            {"currency": "X" * 17},
            "policy.currency",
            id="overlong-currency",
        ),
    ],
)
def test_a_bad_policy_override_is_a_422_naming_the_field(
    api: Api, override: dict[str, Any], field: str
) -> None:
    response = api.client.post(ACCOUNTS, json={"policy": override}, headers=api.service)
    assert response.status_code == 422, response.text
    assert response.json()["details"]["errors"][0]["field"] == field


@pytest.fixture
def pg_api(postgres_url: str) -> Iterator[Api]:
    engine = create_engine_for(postgres_url)
    built = build_api(engine)
    with built.client:
        yield built
    engine.dispose()


@pytest.mark.postgres
def test_a_nul_character_is_refused_with_a_4xx_on_postgresql(pg_api: Api) -> None:
    account = _post(pg_api, ACCOUNTS, {"idempotencyKey": "nul"})["id"]
    _post(pg_api, f"{ACCOUNTS}/{account}/start")
    hold = {"decisionActionId": "a", "action": "hold"}
    client, service, admin = pg_api.client, pg_api.service, pg_api.admin
    responses = {
        "idempotencyKey": client.post(ACCOUNTS, json={"idempotencyKey": "k\x00"}, headers=service),
        "cloneId": client.post(ACCOUNTS, json={"cloneId": "c\x00"}, headers=service),
        "clone path": client.get("/api/v1/prop/clones/c%00/accounts", headers=service),
        "action path": client.get("/api/v1/prop/decision-actions/a%00", headers=service),
        "symbols query": client.get(f"{ACCOUNTS}/{account}/decision-context?symbols=A%00", headers=service),
        "decisionRunId": client.post(
            f"{ACCOUNTS}/{account}/decision-actions",
            json={"decisionRunId": "r\x00", "actions": [hold]},
            headers=service,
        ),
        "note": client.post(
            f"{ACCOUNTS}/{account}/decision-actions",
            json={"decisionRunId": "r", "actions": [{**hold, "note": "n\x00"}]},
            headers=service,
        ),
        "reason": client.post(
            f"/api/v1/admin/prop/accounts/{account}/pause", json={"reason": "x\x00"}, headers=admin
        ),
    }
    assert {name: r.status_code for name, r in responses.items() if not 400 <= r.status_code < 500} == {}
