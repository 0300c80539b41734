"""Hostile input on /v2 (issue 14, holes 3 and 7), on SQLite and PostgreSQL.

A number sent as a string is in one strict grammar; a JSON number is read exactly (alpaca-py
writes 0.00001 as ``1e-05``); text with NUL, a lone surrogate or another control character is a
422 before anything is stored, and the account's order list keeps answering 200.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from propdesk.store.tables import alpaca_watchlists, orders
from tests.api.alpaca.conftest import Paper

JSON = {"Content-Type": "application/json"}


def raw_order(**fields: str) -> str:
    """An order body written by hand, so that a value can be any JSON text (``1e-05``, ``"\\ud800"``)."""
    body = {"symbol": '"AAPL"', "qty": '"1"', "side": '"buy"', "type": '"market"', "time_in_force": '"day"'}
    body |= fields
    return "{" + ", ".join(f'"{k}": {v}' for k, v in body.items()) + "}"


def post(http: httpx.Client, text: str, path: str = "/v2/orders") -> httpx.Response:
    return http.post(path, content=text.encode(), headers=JSON)


def stored_orders(paper: Paper) -> int:
    with paper.ctx.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(orders)).scalar_one())


def refused(response: httpx.Response, field: str) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    body: dict[str, Any] = response.json()
    assert body["code"] == 40010001, body
    assert field in body["message"], body
    return body


@pytest.mark.parametrize(
    "qty", ["1_000", "١٢", "１２", "+1", "1e3", "1E3", " 1", "1 ", "NaN", "Infinity", "0x1", "1.", ""]
)
def test_a_quantity_string_outside_the_grammar_is_a_422_and_stores_nothing(paper: Paper, qty: str) -> None:
    paper.quote("AAPL", "100", "100.02")
    with paper.http() as http:
        response = http.post(
            "/v2/orders",
            json={"symbol": "AAPL", "qty": qty, "side": "buy", "type": "market", "time_in_force": "day"},
        )
        refused(response, "qty")
        assert stored_orders(paper) == 0
        assert http.get("/v2/orders", params={"status": "all"}).json() == []


@pytest.mark.parametrize("text", ["1e309", "-1e309", "1E+309", "NaN", "Infinity", "1" * 5000, "1e-19"])
def test_a_json_number_beyond_the_bounds_is_a_422(paper: Paper, text: str) -> None:
    paper.quote("AAPL", "100", "100.02")
    with paper.http() as http:
        response = post(http, raw_order(qty=text))
    assert response.status_code == 422, response.text
    assert stored_orders(paper) == 0


def test_a_json_number_is_read_exactly_never_through_a_float(paper: Paper) -> None:
    paper.quote("BTC/USD", "97000", "97010")
    paper.quote("AAPL", "100", "100.02")
    with paper.http() as http:
        tiny = post(http, raw_order(symbol='"BTC/USD"', qty="1e-05", time_in_force='"gtc"'))
        assert tiny.status_code == 200, tiny.text
        assert tiny.json()["qty"] == "0.00001"
        tenth = post(http, raw_order(qty="0.1"))
        assert tenth.status_code == 200, tenth.text
        assert tenth.json()["qty"] == "0.1"
    with paper.ctx.engine.connect() as conn:
        stored = dict(conn.execute(sa.select(orders.c.symbol, orders.c.qty)).all())
    assert stored == {"BTC/USD": Decimal("0.00001"), "AAPL": Decimal("0.1")}


def test_more_decimals_than_the_instrument_allows_is_a_422_not_a_rounding(paper: Paper) -> None:
    paper.quote("AAPL", "100", "100.02")
    with paper.http() as http:
        lots = post(http, raw_order(qty='"0.0000000001"'))  # equities trade in 1e-9 lots
        assert lots.status_code == 422, lots.text
        ticks = post(http, raw_order(type='"limit"', limit_price='"100.001"'))  # a penny tick above $1
        assert ticks.status_code == 422, ticks.text
    assert stored_orders(paper) == 0


@pytest.mark.parametrize(
    "client_order_id",
    ['"a\\u0000b"', '"\\ud800"', '"x\\udfffy"', '"tab\\there"', '"del\\u007f"', '"c1\\u0085"', '"zw\\u200b"'],
)
def test_control_characters_and_lone_surrogates_in_a_client_order_id_are_a_422(
    paper: Paper, client_order_id: str
) -> None:
    paper.quote("AAPL", "100", "100.02")
    with paper.http() as http:
        refused(post(http, raw_order(client_order_id=client_order_id)), "client_order_id")
        assert stored_orders(paper) == 0
        listed = http.get("/v2/orders", params={"status": "all"})
        assert (listed.status_code, listed.json()) == (200, [])
        placed = post(http, raw_order(client_order_id='"fine-after-all"'))
        assert placed.status_code == 200, placed.text
        listed = http.get("/v2/orders", params={"status": "all"})
        assert listed.status_code == 200
        assert [o["client_order_id"] for o in listed.json()] == ["fine-after-all"]


def test_a_client_order_id_has_at_most_128_characters(paper: Paper) -> None:
    paper.quote("AAPL", "100", "100.02")
    with paper.http() as http:
        refused(post(http, raw_order(client_order_id=json.dumps("c" * 129))), "client_order_id")
        ok = post(http, raw_order(client_order_id=json.dumps("ü" * 128)))
        assert ok.status_code == 200, ok.text
        assert ok.json()["client_order_id"] == "ü" * 128


def test_replacing_with_a_bad_client_order_id_is_a_422(paper: Paper) -> None:
    with paper.http() as http:
        placed = post(http, raw_order(type='"limit"', limit_price='"90"'))
        assert placed.status_code == 200, placed.text
        path = f"/v2/orders/{placed.json()['id']}"
        response = http.patch(path, content=b'{"qty": "2", "client_order_id": "r\\u0000"}', headers=JSON)
        refused(response, "client_order_id")
        response = http.patch(path, content=b'{"qty": "1_0"}', headers=JSON)
        refused(response, "qty")
    assert stored_orders(paper) == 1


def test_text_in_other_bodies_paths_and_queries_is_checked(paper: Paper) -> None:
    paper.quote("AAPL", "100", "100.02")
    with paper.http() as http:
        refused(http.post("/v2/watchlists", json={"name": "ok", "symbols": ["AAPL\x00"]}), "symbols")
        refused(post(http, '{"name": "a\\ud800"}', "/v2/watchlists"), "name")
        refused(post(http, '{"name": "x", "symbols": ["AAPL"], "\\u0001": 1}', "/v2/watchlists"), "\\u0001")
        refused(http.get("/v2/orders/abc%01def"), "order_id")
        refused(http.get("/v2/orders", params={"symbols": "AAPL\x00"}), "symbols")
        refused(http.get("/v2/assets/AA%00PL"), "symbol")
        refused(http.delete("/v2/positions/AAPL", params={"qty": "1_0"}), "qty")
        refused(http.delete("/v2/positions/AAPL", params={"percentage": "+50"}), "percentage")
        assert http.get("/v2/watchlists").json() == []
    with paper.ctx.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(alpaca_watchlists)).scalar_one() == 0


@pytest.mark.parametrize(
    "cash", ['"1e309"', "1e309", '"1_000"', '"+5"', '"١٢"', '"10000000.01"', "10000001", "1e7000"]
)
def test_a_reset_balance_outside_the_grammar_or_above_the_maximum_is_a_422(paper: Paper, cash: str) -> None:
    with paper.http() as http:
        before = http.get("/v2/account").json()
        response = post(http, f'{{"starting_cash": {cash}}}', "/v2/account/reset")
        assert response.status_code == 422, response.text
        assert "starting_cash" in response.json()["message"]
        assert http.get("/v2/account").json() == before


def test_the_maximum_starting_cash_itself_is_accepted(paper: Paper) -> None:
    with paper.http() as http:
        done = post(http, '{"starting_cash": 1E+7}', "/v2/account/reset")
    assert done.status_code == 200, done.text
    assert done.json()["starting_cash"] == "10000000"


def test_stream_messages_with_control_characters_get_an_error_and_the_connection_stays(paper: Paper) -> None:
    from websockets.sync.client import connect

    from tests.api.alpaca.test_stream import WAIT, authenticate, receive, ws_url

    with connect(ws_url(paper), open_timeout=WAIT) as client:
        for message in (
            '{"action": "authenticate", "data": {"key_id": "PK\\u0000", "secret_key": "x"}}',
            '{"action": "auth", "key": "\\ud800", "secret": "x"}',
            '{"action": "listen", "data": {"streams": ["trade_updates\\u0001"]}}',
        ):
            client.send(message)
            reply = receive(client)
            assert reply["stream"] == "listening", reply
            assert "must not contain" in reply["data"]["error"], reply
        assert authenticate(client, paper.keys)["data"]["status"] == "authorized"


@pytest.mark.parametrize("body", ["2.5", "1e16", "0.0", "-1.5"])
def test_a_bare_json_number_is_not_a_body(paper: Paper, body: str) -> None:
    """FastAPI reads bodies with from_attributes: a number must not pass as an empty object."""
    with paper.http() as http:
        before = http.get("/v2/account").json()
        response = post(http, body, "/v2/account/reset")
        assert response.status_code == 422, response.text
        assert http.get("/v2/account").json() == before
