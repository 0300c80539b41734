"""Acceptance: no tenant reaches another tenant's accounts through any route of the app.

The routes come from the app's route table (``app.routes``), never from a list written here, so
a new route is covered without editing this file. Its path parameters are filled from a map of
parameter name -> the victim's value; a route with a parameter (or a required query parameter,
or a body) this file has no value for FAILS with a message saying what to add, so no route slips
through untested.

For ``/api/v1``, service token B calls every route with A's ids: B gets 404 on every route that
names one of A's resources (exactly the answer for a missing one, so existence never leaks), 403
on the admin routes, never a 5xx, never one of A's ids in a body, and A's stored state (every row
of every table keyed by A's accounts) is the same after each call. For ``/v2`` the same holds for
user X's key pair against user Y's order, watchlist and client order ids. Every route but
``/healthz`` refuses a call without credentials.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.routing import APIRoute, APIWebSocketRoute, iter_route_contexts
from starlette.routing import WebSocketRoute

from tests.security.conftest import ACCOUNTS, Tenant, World, state_of

PUBLIC = {"/healthz"}  # the only route answered without credentials (liveness probes)
ADMIN_PREFIX = "/api/v1/admin/"
MISSING = "no-such-id-0000"

# Which of the victim's values each path parameter takes (by the parameter's name). A new name
# fails the test below until it is added here.
V1_PATH = {
    "account_id": "account_id",
    "order_id": "order_id",
    "action_id": "action_id",
    "fill_id": "fill_id",
    "clone_id": "clone_id",
    "user_id": "=no-such-user",  # a literal: the /api/v1 tenants are tokens, not users
}
V2_PATH = {
    "order_id": "order_id",
    "watchlist_id": "watchlist_id",
    "symbol": "=AAPL",  # "=" marks a literal: the symbol the victim holds
    "symbol_or_asset_id": "=AAPL",
    "symbol_or_contract_id": "=AAPL",
    "symbol_or_id": "=AAPL260116C00100000",
    "activity_type": "=FILL",
}
# Required query parameters, by alias.
QUERY = {"clientOrderId": "client_order_id", "client_order_id": "client_order_id"}
# Optional query parameters that look one of the victim's ids up (list cursors): each route with
# one is also called with the victim's id in it.
OPTIONAL_QUERY = {"before_order_id": "order_id", "after_order_id": "order_id"}
# The victim's ids that name one of its resources: a request carrying one must answer 404 (403 on
# an admin route). The clone id and symbols are not among them: a clone id is a shared label (its
# list shows only the caller's own accounts) and a symbol names the caller's own position.
RESOURCE_IDS = ("account_id", "order_id", "action_id", "fill_id", "watchlist_id", "client_order_id")

# A minimal valid body for each body-taking route, keyed by "METHOD path". Values "{name}" are
# the victim's ids. A body-taking route missing here fails the test.
BODIES: dict[str, Any] = {
    f"POST {ACCOUNTS}": {"parentAccountId": "{account_id}", "idempotencyKey": "{idempotency_key}"},
    f"POST {ACCOUNTS}/{{account_id}}/complete": {"reason": "x"},
    f"POST {ACCOUNTS}/{{account_id}}/liquidate": {"reason": "x"},
    f"POST {ACCOUNTS}/{{account_id}}/decision-actions": {
        "decisionRunId": "intruder",
        "actions": [{"decisionActionId": "i1", "action": "open_long", "symbol": "AAPL", "notional": "100"}],
    },
    f"POST {ACCOUNTS}/{{account_id}}/orders": {
        "symbol": "AAPL",
        "side": "buy",
        "type": "limit",
        "qty": "1",
        "limitPrice": "51",
        "timeInForce": "gtc",
    },
    f"PATCH {ACCOUNTS}/{{account_id}}/orders/{{order_id}}": {"qty": "3"},
    "POST /api/v1/admin/prop/accounts/{account_id}/pause": {"reason": "x"},
    "POST /api/v1/admin/prop/accounts/{account_id}/resume": {"reason": "x"},
    "POST /api/v1/admin/prop/accounts/{account_id}/lock": {"reason": "x"},
    "POST /api/v1/admin/prop/accounts/{account_id}/liquidate": {"reason": "x"},
    "POST /api/v1/admin/prop/accounts/{account_id}/reset": {"reason": "x"},
    "POST /api/v1/admin/prop/accounts/{account_id}/void-fill/{fill_id}": {"reason": "x"},
    "POST /api/v1/admin/prop/accounts/{account_id}/void-order/{order_id}": {"reason": "x"},
    "POST /api/v1/admin/prop/accounts/{account_id}/recompute": {"reason": "x", "apply": True},
    "POST /api/v1/admin/prop/decision-actions/{action_id}/review": {"approve": True, "reason": "x"},
    "POST /api/v1/admin/prices/quotes": {"symbol": "AAPL", "bid": "1", "ask": "2", "reason": "x"},
    "DELETE /api/v1/admin/users/{user_id}": {"reason": "x"},
    "POST /api/v1/risk/size": {
        "effectiveCapital": "500",
        "riskFraction": 0.01,
        "winRate": 0.55,
        "payoff": 2.0,
        "stopDistance": "0.50",
        "pointValue": "10",
    },
    "POST /api/v1/risk/kelly": {"winRate": "0.55", "payoff": "2"},
    "POST /api/v1/risk/ruin": {"winRate": 0.4, "payoff": 1.5, "riskFraction": 0.1},
    "POST /api/v1/risk/challenge": {
        "pack": "topstep-50k-combine",
        "winRate": 0.5,
        "payoff": 2,
        "risk": "200",
        "paths": 20,
        "maxDays": 5,
        "seed": 7,
    },
    "POST /v2/orders": {
        "symbol": "AAPL",
        "qty": "1",
        "side": "buy",
        "type": "limit",
        "limit_price": "51",
        "time_in_force": "gtc",
    },
    "PATCH /v2/orders/{order_id}": {"qty": "3"},
    "PATCH /v2/account/configurations": {"no_shorting": True},
    "POST /v2/account/reset": {},
    "POST /v2/watchlists": {"name": "intruder", "symbols": ["MSFT"]},
    "PUT /v2/watchlists/{watchlist_id}": {"name": "renamed", "symbols": []},
    "POST /v2/watchlists/{watchlist_id}": {"symbol": "MSFT"},
}


@dataclass(frozen=True)
class Call:
    route: Route
    method: str
    path: str
    params: dict[str, str]
    body: Any
    carries: tuple[str, ...]  # names of the victim's resource ids in the request

    @property
    def key(self) -> str:
        return f"{self.method} {self.route.path}"


@dataclass(frozen=True)
class Route:
    """One HTTP route of the app as served: its full path template and its FastAPI route."""

    path: str
    path_format: str
    api: APIRoute
    methods: frozenset[str]


def http_routes(app: FastAPI) -> list[Route]:
    """Every HTTP route of the app, from its route table (included routers flattened)."""
    found = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute):
            methods = frozenset(context.methods or ())
            found.append(Route(str(context.path), str(context.path_format), route, methods))
    return found


def websocket_paths(app: FastAPI) -> list[str]:
    return [
        str(context.path)
        for context in iter_route_contexts(app.routes)
        if isinstance(context.original_route, WebSocketRoute | APIWebSocketRoute)
    ]


def operations(app: FastAPI, prefix: str) -> Iterator[tuple[Route, str]]:
    """Every (route, method) of the app under ``prefix``."""
    for route in http_routes(app):
        if route.path.startswith(prefix):
            for method in sorted(route.methods - {"HEAD"}):
                yield route, method


def _value(spec: str, victim: Tenant) -> str:
    return spec[1:] if spec.startswith("=") else victim.value(spec)


def _fill(template: Any, victim: Tenant) -> Any:
    """A body template with each ``{name}`` replaced by the victim's id of that name."""
    if isinstance(template, str):
        return re.sub(r"\{(\w+)\}", lambda m: victim.value(m[1]), template)
    if isinstance(template, dict):
        return {k: _fill(v, victim) for k, v in template.items()}
    if isinstance(template, list):
        return [_fill(v, victim) for v in template]
    return template


def build_call(route: Route, method: str, victim: Tenant, path_map: Mapping[str, str]) -> Call:
    values: dict[str, str] = {}
    carries: list[str] = []
    for name in route.api.param_convertors:
        assert name in path_map, (
            f"{method} {route.path}: path parameter {name!r} is new to the security suite; add the "
            f"victim's value for it to V1_PATH/V2_PATH in tests/security/test_tenancy.py"
        )
        values[name] = _value(path_map[name], victim)
        if path_map[name] in RESOURCE_IDS:
            carries.append(path_map[name])
    params: dict[str, str] = {}
    for field in route.api.dependant.query_params:
        if field.field_info.is_required():
            assert field.alias in QUERY, (
                f"{method} {route.path}: required query parameter {field.alias!r} is new to the security "
                f"suite; add it to QUERY in tests/security/test_tenancy.py"
            )
            params[field.alias] = victim.ids[QUERY[field.alias]]
            carries.append(QUERY[field.alias])
    key = f"{method} {route.path}"
    body = None
    if route.api.body_field is not None:
        assert key in BODIES, (
            f"{key} takes a body and is new to the security suite; add a minimal valid body for it "
            f"to BODIES in tests/security/test_tenancy.py"
        )
        body = _fill(BODIES[key], victim)
        sent = json.dumps(body)
        carries += [name for name in RESOURCE_IDS if name in victim.ids and victim.ids[name] in sent]
        carries += ["account_id"] if victim.account_id in sent else []
    path = route.path_format.format(**values)
    return Call(route, method, path, params, body, tuple(dict.fromkeys(carries)))


def with_id_filters(call: Call, victim: Tenant) -> list[Call]:
    """``call``, and a variant per optional query parameter that looks an id up (a list cursor)."""
    variants = [call]
    for field in call.route.api.dependant.query_params:
        name = OPTIONAL_QUERY.get(field.alias)
        if name is not None and name in victim.ids:
            params = {**call.params, field.alias: victim.value(name)}
            variants.append(
                Call(call.route, call.method, call.path, params, call.body, (*call.carries, name))
            )
    return variants


def send(world: World, call: Call, headers: Mapping[str, str]) -> httpx.Response:
    kwargs: dict[str, Any] = {"headers": dict(headers), "params": call.params}
    if call.body is not None:
        kwargs["json"] = call.body
    response: httpx.Response = world.client.request(call.method, call.path, **kwargs)
    return response


def _missing_variant(call: Call, victim: Tenant) -> tuple[Call, dict[str, str]]:
    """The same call with each of the victim's resource ids replaced by an unknown one."""
    replaced = {victim.value(name): f"{MISSING}-{name}" for name in call.carries}

    def swap(text: str) -> str:
        for value, fake in replaced.items():
            text = text.replace(value, fake)
        return text

    body = None if call.body is None else json.loads(swap(json.dumps(call.body)))
    params = {k: swap(v) for k, v in call.params.items()}
    return Call(call.route, call.method, swap(call.path), params, body, call.carries), replaced


def _leaks(response: httpx.Response, victim: Tenant, call: Call) -> list[str]:
    sent = call.path + json.dumps(call.body) + json.dumps(call.params)
    return [secret for secret in victim.secrets if secret not in sent and secret in response.text]


def check_intruder(
    world: World, victim: Tenant, intruder: Tenant, prefix: str, path_map: Mapping[str, str]
) -> int:
    engine = world.ctx.engine
    before = state_of(engine, victim.account_ids)
    problems: list[str] = []
    count = 0
    calls = [
        call
        for route, method in operations(world.app, prefix)
        if route.path not in PUBLIC
        for call in with_id_filters(build_call(route, method, victim, path_map), victim)
    ]
    for call in calls:
        count += 1
        response = send(world, call, intruder.headers)
        where = f"{call.key} ({call.path})"
        if response.status_code >= 500:
            problems.append(f"{where}: {response.status_code} {response.text[:200]}")
        if call.carries:
            if call.path.startswith(ADMIN_PREFIX):
                if response.status_code != 403:
                    problems.append(f"{where}: expected 403 for a service token, got {response.status_code}")
            elif response.status_code != 404:
                problems.append(f"{where}: expected 404, got {response.status_code} {response.text[:200]}")
            else:
                variant, replaced = _missing_variant(call, victim)
                missing = send(world, variant, intruder.headers)
                expected = missing.text
                for value, fake in replaced.items():
                    expected = expected.replace(fake, value)
                if (missing.status_code, expected) != (response.status_code, response.text):
                    problems.append(
                        f"{where}: differs from the answer for a missing id: {response.text} vs {missing.text}"
                    )
        if leaked := _leaks(response, victim, call):
            problems.append(f"{where}: the response shows the victim's {leaked}: {response.text[:300]}")
        after = state_of(engine, victim.account_ids)
        if after != before:
            changed = sorted(name for name in after if after[name] != before.get(name))
            problems.append(f"{where}: changed the victim's {changed}")
            before = after
    assert not problems, "\n".join(problems)
    return count


def test_service_token_b_gets_404_on_every_route_for_a_and_a_is_unchanged(world: World) -> None:
    count = check_intruder(world, world.a, world.b, "/api/v1", V1_PATH)
    assert count >= 40, count
    # A still works on its own account (the fixture and the checks were not vacuous).
    own = world.client.get(
        f"{ACCOUNTS}/{world.a.account_id}/orders/{world.a.ids['order_id']}", headers=world.a.headers
    )
    assert (own.status_code, own.json()["status"]) == (200, "new"), own.text


def test_key_pair_x_gets_404_on_y_resources_and_y_is_unchanged(world: World) -> None:
    count = check_intruder(world, world.y, world.x, "/v2", V2_PATH)
    assert count >= 25, count
    own = world.client.get(f"/v2/orders/{world.y.ids['order_id']}", headers=world.y.headers)
    assert own.status_code == 200, own.text
    assert own.json()["status"] in ("new", "accepted"), own.text


def test_every_route_refuses_a_call_without_credentials(world: World) -> None:
    problems = []
    count = 0
    for prefix, victim, path_map in (("/api/v1", world.a, V1_PATH), ("/v2", world.y, V2_PATH)):
        for route, method in operations(world.app, prefix):
            call = build_call(route, method, victim, path_map)
            count += 1
            for headers in (
                {},
                {"Authorization": "Bearer pd_0000000000000000_" + "x" * 43},
                {"APCA-API-KEY-ID": "PKNOSUCHKEY", "APCA-API-SECRET-KEY": "x" * 40},
            ):
                response = send(world, call, headers)
                if response.status_code != 401:
                    problems.append(
                        f"{call.key} with {sorted(headers)}: {response.status_code} {response.text[:200]}"
                    )
    public = {r.path for r in http_routes(world.app) if not r.path.startswith(("/api/v1", "/v2"))}
    assert public == PUBLIC, f"routes outside /api/v1 and /v2 need a decision in the security suite: {public}"
    assert not problems, "\n".join(problems)
    assert count >= 65, count


def test_the_stream_refuses_strangers_and_carries_only_the_keys_account(world: World) -> None:
    assert websocket_paths(world.app) == ["/stream"], "a new WebSocket route needs a check here"
    with world.client.websocket_connect("/stream") as ws:
        ws.send_text(json.dumps({"action": "listen", "data": {"streams": ["trade_updates"]}}))
        assert json.loads(ws.receive_bytes())["data"]["status"] == "unauthorized"
    with world.client.websocket_connect("/stream") as ws:
        ws.send_text(json.dumps({"action": "auth", "key": "PKNOSUCHKEY", "secret": "x" * 40}))
        assert json.loads(ws.receive_bytes())["data"]["status"] == "unauthorized"
    x, y = world.x.headers, world.y.headers
    with world.client.websocket_connect("/stream") as ws:
        ws.send_text(
            json.dumps({"action": "auth", "key": x["APCA-API-KEY-ID"], "secret": x["APCA-API-SECRET-KEY"]})
        )
        assert json.loads(ws.receive_bytes())["data"]["status"] == "authorized"
        ws.send_text(json.dumps({"action": "listen", "data": {"streams": ["trade_updates"]}}))
        assert json.loads(ws.receive_bytes())["stream"] == "listening"
        body = {
            "symbol": "AAPL",
            "qty": "1",
            "side": "buy",
            "type": "limit",
            "limit_price": "40",
            "time_in_force": "gtc",
        }
        theirs = world.client.post("/v2/orders", json=body, headers=y).json()["id"]
        mine = world.client.post("/v2/orders", json=body, headers=x).json()["id"]
        seen: list[str] = []
        while mine not in seen:
            message = json.loads(ws.receive_bytes())
            seen.append(message["data"]["order"]["id"])
        assert theirs not in seen
