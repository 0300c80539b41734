"""/v2 orders over plain HTTP: what raw clients (curl, the old SDKs) send and get back."""

from __future__ import annotations

from typing import Any

import httpx

from tests.api.alpaca.conftest import Paper

# Keys an error body may carry: Alpaca's two, our code, the engine's wording, Alpaca's 403 context.
ERROR_KEYS = {"code", "message", "reason", "detail", "buying_power", "cost_basis"}


def assert_alpaca_error(response: httpx.Response, status: int, code: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body, dict)
    assert set(body) <= ERROR_KEYS, body
    assert type(body["code"]) is int
    assert isinstance(body["message"], str)
    assert body["message"]
    assert body["code"] == code, body
    return body


def limit_body(**changes: Any) -> dict[str, Any]:
    return {
        "symbol": "AAPL",
        "qty": "2",
        "side": "buy",
        "type": "limit",
        "time_in_force": "gtc",
        "limit_price": "90",
    } | changes


def test_decimals_may_be_strings_or_json_numbers(paper: Paper) -> None:
    paper.quote("AAPL", "99.98", "100.02")
    with paper.http() as http:
        as_text = http.post("/v2/orders", json=limit_body(qty="1.5", limit_price="90.25")).json()
        as_number = http.post("/v2/orders", json=limit_body(qty=1.5, limit_price=90.25)).json()
        whole = http.post("/v2/orders", json=limit_body(qty=2, limit_price=90)).json()
    for order in (as_text, as_number):
        assert (order["qty"], order["limit_price"], order["status"]) == ("1.5", "90.25", "new")
    assert (whole["qty"], whole["limit_price"]) == ("2", "90")


INVALID_AMOUNTS = [
    ("qty", "0"),
    ("qty", -1),
    ("qty", "ten"),
    ("qty", True),
    ("qty", "1" + "0" * 15),
    ("qty", "0." + "0" * 18 + "1"),
    ("limit_price", "NaN"),
    ("limit_price", "-90"),
    ("stop_price", "Infinity"),
]


def test_invalid_amounts_are_422_and_place_nothing(paper: Paper) -> None:
    paper.quote("AAPL", "99.98", "100.02")
    with paper.http() as http:
        for field, value in INVALID_AMOUNTS:
            refused = http.post("/v2/orders", json=limit_body(**{field: value}))
            assert_alpaca_error(refused, 422, 40010001)
            assert field in refused.json()["message"], (field, value)
        assert http.get("/v2/orders", params={"status": "all"}).json() == []


def test_malformed_bodies_are_422_with_alpacas_shape(paper: Paper) -> None:
    with paper.http() as http:
        for body in (
            limit_body(notional="100"),  # both qty and notional
            {k: v for k, v in limit_body().items() if k != "qty"},  # neither
            limit_body(stopprice="80"),  # an unknown (misspelt) field
            limit_body(side="long"),
            limit_body(order_class="mleg"),  # no legs
            {k: v for k, v in limit_body().items() if k != "symbol"},
        ):
            assert_alpaca_error(http.post("/v2/orders", json=body), 422, 40010001)
        raw = http.post(
            "/v2/orders",
            content=b'{"symbol": "AAPL", "qty": NaN}',
            headers={"content-type": "application/json"},
        )
        assert_alpaca_error(raw, 422, 40010001)
        assert http.get("/v2/orders", params={"status": "all"}).json() == []


def test_a_resend_with_the_same_client_order_id_returns_the_stored_order(paper: Paper) -> None:
    paper.quote("AAPL", "99.98", "100.02")
    with paper.http() as http:
        first = http.post("/v2/orders", json=limit_body(client_order_id="retry-me", qty=2))
        again = http.post("/v2/orders", json=limit_body(client_order_id="retry-me", qty="2.0"))
        other = http.post("/v2/orders", json=limit_body(client_order_id="retry-me", qty="3"))
        listed = http.get("/v2/orders").json()
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    body = assert_alpaca_error(other, 422, 42210000)
    assert body["reason"] == "duplicate_client_order_id"
    assert [o["id"] for o in listed] == [first.json()["id"]]


def test_query_booleans_take_any_case(paper: Paper) -> None:
    paper.quote("AAPL", "99.98", "100.02")
    bracket = limit_body(
        limit_price="99.5",
        order_class="bracket",
        take_profit={"limit_price": "110"},
        stop_loss={"stop_price": "90"},
    )
    with paper.http() as http:
        entry = http.post("/v2/orders", json=bracket).json()
        for value, legs in (
            ("True", 2),
            ("true", 2),
            ("TRUE", 2),
            ("1", 2),
            ("False", None),
            ("false", None),
        ):
            listed = http.get("/v2/orders", params={"nested": value}).json()
            assert len(listed) == (1 if legs else 3), value
            shown = http.get(f"/v2/orders/{entry['id']}", params={"nested": value}).json()
            assert (None if shown["legs"] is None else len(shown["legs"])) == legs, value
        assert_alpaca_error(http.get("/v2/orders", params={"nested": "yes"}), 422, 40010001)
        assert_alpaca_error(http.get("/v2/orders", params={"status": "pending"}), 422, 40010001)
        assert_alpaca_error(http.get("/v2/orders", params={"limit": "501"}), 422, 40010001)
        assert_alpaca_error(http.get("/v2/orders", params={"after": "yesterday"}), 422, 40010001)


def test_cancel_answers_204_then_422_and_cancel_all_207(paper: Paper) -> None:
    paper.quote("AAPL", "99.98", "100.02")
    with paper.http() as http:
        first = http.post("/v2/orders", json=limit_body()).json()
        second = http.post("/v2/orders", json=limit_body(limit_price="91")).json()
        canceled = http.delete(f"/v2/orders/{first['id']}")
        assert (canceled.status_code, canceled.content) == (204, b"")
        body = assert_alpaca_error(http.delete(f"/v2/orders/{first['id']}"), 422, 42210000)
        assert body["reason"] == "order_not_open"
        assert_alpaca_error(http.delete("/v2/orders/not-an-order"), 404, 40410000)
        everything = http.delete("/v2/orders")
        assert everything.status_code == 207
        [entry] = everything.json()
        assert (entry["id"], entry["status"], entry["body"]["id"], entry["body"]["status"]) == (
            second["id"],
            200,
            second["id"],
            "canceled",
        )
        assert http.delete("/v2/orders").json() == []


def test_a_crypto_pair_without_its_slash_is_the_pair(paper: Paper) -> None:
    paper.quote("BTC/USD", "97000", "97010")
    with paper.http() as http:
        order = http.post(
            "/v2/orders",
            json={"symbol": "BTCUSD", "qty": 0.01, "side": "buy", "type": "market", "time_in_force": "gtc"},
        ).json()
        assert (order["symbol"], order["asset_class"], order["status"], order["filled_avg_price"]) == (
            "BTC/USD",
            "crypto",
            "filled",
            "97010",
        )
        for symbols in ("BTCUSD", "BTC/USD", "btc/usd"):
            listed = http.get("/v2/orders", params={"status": "closed", "symbols": symbols}).json()
            assert [o["id"] for o in listed] == [order["id"]], symbols
        assert http.get("/v2/orders", params={"status": "closed", "asset_class": "us_equity"}).json() == []
        assert len(http.get("/v2/orders", params={"status": "closed", "asset_class": "crypto"}).json()) == 1


def test_crypto_takes_only_gtc_and_ioc_with_alpacas_error(paper: Paper) -> None:
    paper.quote("BTC/USD", "97000", "97010")
    with paper.http() as http:
        for tif in ("day", "fok", "opg", "cls"):
            body = {"symbol": "BTC/USD", "qty": "0.01", "side": "buy", "type": "market", "time_in_force": tif}
            refused = assert_alpaca_error(http.post("/v2/orders", json=body), 422, 42210000)
            assert (refused["message"], refused["reason"]) == (
                "invalid crypto time_in_force",
                "invalid_time_in_force",
            ), tif
        assert http.get("/v2/orders", params={"status": "all"}).json() == []


def test_before_and_after_order_id_page_through_orders_placed_at_the_same_time(paper: Paper) -> None:
    paper.quote("AAPL", "99.98", "100.02")
    with paper.http() as http:
        placed = [
            http.post("/v2/orders", json=limit_body(limit_price=str(80 + i))).json()["id"] for i in range(5)
        ]
        pages: list[str] = []
        params: dict[str, Any] = {"limit": 2}
        while page := http.get("/v2/orders", params=params).json():
            pages += [o["id"] for o in page]
            params = {"limit": 2, "before_order_id": page[-1]["id"]}
        assert len(pages) == 5
        assert sorted(pages) == sorted(placed)
        forward = http.get("/v2/orders", params={"direction": "asc", "after_order_id": pages[-1]}).json()
        assert [o["id"] for o in forward] == list(reversed(pages))[1:]
        assert_alpaca_error(http.get("/v2/orders", params={"after_order_id": "unknown"}), 404, 40410000)


def test_replace_needs_a_change_and_an_open_order(paper: Paper) -> None:
    paper.quote("AAPL", "99.98", "100.02")
    with paper.http() as http:
        order = http.post("/v2/orders", json=limit_body()).json()
        assert_alpaca_error(http.patch(f"/v2/orders/{order['id']}", json={}), 422, 40010001)
        assert_alpaca_error(http.patch(f"/v2/orders/{order['id']}", json={"qty": "0"}), 422, 40010001)
        new = http.patch(
            f"/v2/orders/{order['id']}", json={"limit_price": "89.5", "client_order_id": "v2"}
        ).json()
        assert (new["replaces"], new["limit_price"], new["client_order_id"], new["qty"]) == (
            order["id"],
            "89.5",
            "v2",
            "2",
        )
        body = assert_alpaca_error(
            http.patch(f"/v2/orders/{order['id']}", json={"limit_price": "89"}), 422, 42210000
        )
        assert body["reason"] == "order_not_open"
        assert_alpaca_error(http.patch("/v2/orders/unknown", json={"limit_price": "89"}), 404, 40410000)


def test_a_key_is_needed_for_every_order_route(paper: Paper) -> None:
    with httpx.Client(base_url=paper.url) as anonymous:
        for method, path in (
            ("POST", "/v2/orders"),
            ("GET", "/v2/orders"),
            ("DELETE", "/v2/orders"),
            ("GET", "/v2/orders:by_client_order_id?client_order_id=x"),
            ("GET", "/v2/orders/x"),
            ("PATCH", "/v2/orders/x"),
            ("DELETE", "/v2/orders/x"),
            ("GET", "/v2/account"),
            ("GET", "/v2/account/configurations"),
            ("PATCH", "/v2/account/configurations"),
        ):
            response = anonymous.request(
                method, path, json=limit_body() if method in ("POST", "PATCH") else None
            )
            assert_alpaca_error(response, 401, 40110000)
