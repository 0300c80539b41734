"""The order routes over HTTP on SQLite and PostgreSQL: submit, read, replace, cancel, evaluate.

The clock starts at T0, a Monday 10:00 in New York: the equity session is open, so a limit buy
below the ask rests and holds its reservation (10 × 99 at 5x leverage plus the 10 bps fee is
198.99).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import sqlalchemy as sa

from propdesk.model.ids import AccountId
from propdesk.model.market import Bar
from propdesk.services.accounts.commands import recompute
from propdesk.settings import Settings
from propdesk.store.tables import orders
from propdesk.store.uow import UnitOfWork
from tests.api.conftest import Api, build_api
from tests.db import T0

ACCOUNTS = "/api/v1/prop/accounts"


def open_account(api: Api, key: str = "orders", **policy: Any) -> str:
    created = api.client.post(ACCOUNTS, json={"idempotencyKey": key, "policy": policy}, headers=api.service)
    assert created.status_code == 201, created.text
    account_id: str = created.json()["id"]
    started = api.client.post(f"{ACCOUNTS}/{account_id}/start", headers=api.service)
    assert started.status_code == 200, started.text
    return account_id


def limit_buy(coid: str | None = "c1", qty: str = "10", limit: str = "99", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"symbol": "AAPL", "side": "buy", "type": "limit", "qty": qty, "limitPrice": limit}
    if coid is not None:
        body["clientOrderId"] = coid
    return body | extra


def submit(api: Api, account_id: str, body: dict[str, Any]) -> httpx.Response:
    response: httpx.Response = api.client.post(
        f"{ACCOUNTS}/{account_id}/orders", json=body, headers=api.service
    )
    return response


def placed(api: Api, account_id: str, body: dict[str, Any]) -> dict[str, Any]:
    response = submit(api, account_id, body)
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()
    return order


def reserved(api: Api, account_id: str) -> Decimal:
    account = api.client.get(f"{ACCOUNTS}/{account_id}", headers=api.service).json()
    return Decimal(account["balance"]["reservedForOrders"])


def order_count(api: Api) -> int:
    with api.ctx.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(orders)).scalar_one())


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == code, body
    return body


def test_submit_read_replace_and_cancel_an_order(api: Api) -> None:
    account_id = open_account(api)
    base = f"{ACCOUNTS}/{account_id}/orders"
    api.quote("AAPL", "100.00", "100.02")

    order = placed(api, account_id, limit_buy("c1"))
    assert (order["clientOrderId"], order["symbol"], order["assetClass"]) == ("c1", "AAPL", "us_equity")
    assert (order["side"], order["type"], order["timeInForce"], order["orderClass"]) == (
        "buy",
        "limit",
        "day",
        "simple",
    )
    assert (order["status"], order["qty"], order["limitPrice"]) == ("new", "10", "99")
    assert (order["filledQty"], order["filledAvgPrice"], order["legs"]) == ("0", None, [])
    assert Decimal(order["reservedAmount"]) == Decimal("198.99") == reserved(api, account_id)

    fetched = api.client.get(f"{base}/{order['id']}", headers=api.service)
    assert fetched.status_code == 200
    assert fetched.json() == order
    by_client = api.client.get(f"{base}:by-client-id", params={"clientOrderId": "c1"}, headers=api.service)
    assert by_client.status_code == 200
    assert by_client.json() == order
    listed = api.client.get(base, headers=api.service).json()
    assert [o["id"] for o in listed["items"]] == [order["id"]]

    replaced = api.client.patch(
        f"{base}/{order['id']}",
        json={"qty": "20", "limitPrice": "98", "clientOrderId": "c1-v2"},
        headers=api.service,
    )
    assert replaced.status_code == 200, replaced.text
    new = replaced.json()
    assert (new["replaces"], new["clientOrderId"], new["qty"], new["limitPrice"]) == (
        order["id"],
        "c1-v2",
        "20",
        "98",
    )
    assert new["status"] == "new"
    old = api.client.get(f"{base}/{order['id']}", headers=api.service).json()
    assert (old["status"], old["replacedBy"], old["reservedAmount"]) == ("replaced", new["id"], "0")
    assert reserved(api, account_id) == Decimal(new["reservedAmount"]) == Decimal("393.96")

    canceled = api.client.delete(f"{base}/{new['id']}", headers=api.service)
    assert canceled.status_code == 200, canceled.text
    assert (canceled.json()["id"], canceled.json()["status"]) == (new["id"], "canceled")
    assert canceled.json()["canceledAt"] is not None
    assert reserved(api, account_id) == 0
    assert_error(api.client.delete(f"{base}/{new['id']}", headers=api.service), 422, "order_not_open")
    assert_error(
        api.client.patch(f"{base}/{new['id']}", json={"qty": "5"}, headers=api.service), 422, "order_not_open"
    )
    everything = api.client.get(base, headers=api.service).json()["items"]
    assert [(o["id"], o["status"]) for o in everything] == [
        (order["id"], "replaced"),
        (new["id"], "canceled"),
    ]
    assert recompute(api.ctx.engine, AccountId(account_id)) == {}


def test_a_resubmit_returns_the_stored_order_and_a_different_order_is_refused(api: Api) -> None:
    account_id = open_account(api)
    api.quote("AAPL", "100.00", "100.02")
    first = placed(api, account_id, limit_buy("same"))
    before = (order_count(api), reserved(api, account_id))

    again = submit(api, account_id, limit_buy("same"))
    assert again.status_code == 200, again.text
    assert again.json() == first
    # Decimals compare by value: "10.000" is the same quantity.
    assert submit(api, account_id, limit_buy("same", qty="10.000")).status_code == 200

    different = submit(api, account_id, limit_buy("same", qty="11"))
    body = assert_error(different, 422, "duplicate_client_order_id")
    assert body["details"] == {"orderId": first["id"]}
    assert (order_count(api), reserved(api, account_id)) == before

    # Without a clientOrderId every submit is a new order with a generated id.
    one = placed(api, account_id, limit_buy(None))
    two = placed(api, account_id, limit_buy(None))
    assert one["id"] != two["id"]
    assert one["clientOrderId"]
    assert two["clientOrderId"] not in ("", one["clientOrderId"])


def test_a_bracket_nests_its_legs_and_cancel_all_cancels_everything(api: Api) -> None:
    account_id = open_account(api)
    base = f"{ACCOUNTS}/{account_id}/orders"
    api.quote("AAPL", "100.00", "100.02")
    resting = placed(api, account_id, limit_buy("rest", limit="95"))
    bracket = placed(
        api,
        account_id,
        limit_buy(
            "bracket",
            qty="5",
            limit="99",
            orderClass="bracket",
            takeProfit={"limitPrice": "110"},
            stopLoss={"stopPrice": "90", "limitPrice": "89.5"},
        ),
    )
    assert (bracket["orderClass"], bracket["status"]) == ("bracket", "new")
    legs = {leg["legRole"]: leg for leg in bracket["legs"]}
    assert set(legs) == {"take_profit", "stop_loss"}
    assert all(leg["status"] == "held" and leg["parentId"] == bracket["id"] for leg in legs.values())
    assert (legs["take_profit"]["side"], legs["take_profit"]["limitPrice"]) == ("sell", "110")
    assert (legs["stop_loss"]["type"], legs["stop_loss"]["stopPrice"]) == ("stop_limit", "90")
    fetched = api.client.get(f"{base}/{bracket['id']}", headers=api.service).json()
    assert [leg["id"] for leg in fetched["legs"]] == [leg["id"] for leg in bracket["legs"]]
    assert reserved(api, account_id) > 0

    response = api.client.delete(base, headers=api.service)
    assert response.status_code == 200, response.text
    canceled = response.json()["items"]
    assert {o["id"] for o in canceled} == {
        resting["id"],
        bracket["id"],
        *(leg["id"] for leg in legs.values()),
    }
    assert {o["status"] for o in canceled} == {"canceled"}
    # Exits go before their entry.
    ids = [o["id"] for o in canceled]
    assert all(ids.index(leg["id"]) < ids.index(bracket["id"]) for leg in legs.values())
    assert reserved(api, account_id) == 0
    again = api.client.delete(base, headers=api.service)
    assert (again.status_code, again.json()) == (200, {"items": []})
    assert recompute(api.ctx.engine, AccountId(account_id)) == {}


def test_insufficient_buying_power_is_a_403_and_stores_nothing(api: Api) -> None:
    account_id = open_account(api, maxLeverage="1", maxOrderNotional="10000000")
    api.quote("AAPL", "100.00", "100.02")
    before = order_count(api)
    refused = submit(api, account_id, limit_buy("big", qty="2000", limit="100"))
    assert_error(refused, 403, "insufficient_buying_power")
    assert order_count(api) == before
    assert reserved(api, account_id) == 0
    missing = api.client.get(
        f"{ACCOUNTS}/{account_id}/orders:by-client-id", params={"clientOrderId": "big"}, headers=api.service
    )
    assert_error(missing, 404, "order_not_found")


def test_bad_order_input_is_a_422_with_a_stable_code_and_stores_nothing(api: Api) -> None:
    account_id = open_account(api)
    api.quote("AAPL", "100.00", "100.02")
    api.quote("MES", "5000", "5000.25")
    before = order_count(api)
    schema_errors = {
        "negative qty": (limit_buy(qty="-3"), "qty"),
        "zero qty": (limit_buy(qty="0"), "qty"),
        # One strict grammar for a number sent as a string (issue 14, hole 7).
        "underscore": (limit_buy(qty="1_000"), "qty"),
        "plus sign": (limit_buy(qty="+1"), "qty"),
        "arabic-indic digits": (limit_buy(qty="١٢"), "qty"),
        "full-width digits": (limit_buy(qty="１２"), "qty"),
        "spaces": (limit_buy(qty=" 1"), "qty"),
        "beyond 10^12": (limit_buy(qty="1000000000001"), "qty"),
        "huge JSON number": (limit_buy(qty=10**400), "qty"),  # type: ignore[arg-type]
        "exponent": (limit_buy(limitPrice="1e2"), "limitPrice"),
        "unknown side": (limit_buy(side="long"), "side"),
        "unknown class": (limit_buy(orderClass="mleg"), "orderClass"),
        "unknown field": (limit_buy(price="99"), "price"),
        "missing symbol": ({"side": "buy", "qty": "1"}, "symbol"),
        "take profit with an exponent": (
            limit_buy(orderClass="oto", takeProfit={"limitPrice": "1.105e2"}),
            "takeProfit.limitPrice",
        ),
        "huge number as symbol": (limit_buy(symbol="1E9999999"), "symbol"),
        "numeric flag": (limit_buy(extendedHours=1), "extendedHours"),
    }
    for name, (body, field) in schema_errors.items():
        refused = assert_error(submit(api, account_id, body), 422, "invalid_request")
        assert refused["details"]["errors"][0]["field"] == field, name
    service_errors = {
        "qty and notional": (limit_buy(notional="1000"), "invalid_quantity"),
        "fractional future": (
            {"symbol": "MES", "assetClass": "future", "side": "buy", "qty": "1.5"},
            "invalid_quantity",
        ),
        "limit without price": (
            {"symbol": "AAPL", "side": "buy", "type": "limit", "qty": "1"},
            "invalid_order_type",
        ),
        "off-tick price": (limit_buy(limit="99.001"), "invalid_price"),
        "bracket without legs": (limit_buy(orderClass="bracket"), "invalid_legs"),
        "crypto day order": ({"symbol": "BTC/USD", "side": "buy", "qty": "1"}, "invalid_time_in_force"),
        "bad symbol": ({"symbol": "A/B/C", "side": "buy", "qty": "1"}, "invalid_symbol"),
    }
    for name, (body, code) in service_errors.items():
        assert assert_error(submit(api, account_id, body), 422, code), name
    assert order_count(api) == before
    order = placed(api, account_id, limit_buy("ok"))
    empty = api.client.patch(f"{ACCOUNTS}/{account_id}/orders/{order['id']}", json={}, headers=api.service)
    assert_error(empty, 422, "invalid_replace")
    exponent_price = api.client.patch(
        f"{ACCOUNTS}/{account_id}/orders/{order['id']}", json={"limitPrice": "9.85e1"}, headers=api.service
    )
    assert_error(exponent_price, 422, "invalid_request")
    taken = api.client.patch(
        f"{ACCOUNTS}/{account_id}/orders/{order['id']}",
        json={"qty": "5", "clientOrderId": "ok"},
        headers=api.service,
    )
    assert_error(taken, 422, "duplicate_client_order_id")


def test_unknown_orders_and_other_accounts_orders_are_404(api: Api) -> None:
    mine = open_account(api, key="mine")
    theirs = open_account(api, key="theirs")
    api.quote("AAPL", "100.00", "100.02")
    order = placed(api, mine, limit_buy("private"))
    for account_id, order_id in ((mine, "no-such-order"), (theirs, order["id"])):
        path = f"{ACCOUNTS}/{account_id}/orders/{order_id}"
        assert_error(api.client.get(path, headers=api.service), 404, "order_not_found")
        assert_error(api.client.patch(path, json={"qty": "1"}, headers=api.service), 404, "order_not_found")
        assert_error(api.client.delete(path, headers=api.service), 404, "order_not_found")
    lookup = api.client.get(
        f"{ACCOUNTS}/{theirs}/orders:by-client-id", params={"clientOrderId": "private"}, headers=api.service
    )
    assert_error(lookup, 404, "order_not_found")
    assert api.client.delete(f"{ACCOUNTS}/{theirs}/orders", headers=api.service).json() == {"items": []}
    # The order is untouched and still reachable through its own account.
    still = api.client.get(f"{ACCOUNTS}/{mine}/orders/{order['id']}", headers=api.service).json()
    assert still["status"] == "new"
    assert_error(submit(api, "no-such-account", limit_buy()), 404, "account_not_found")
    assert_error(
        api.client.post(f"{ACCOUNTS}/no-such-account/orders/evaluate", headers=api.service),
        404,
        "account_not_found",
    )
    assert_error(
        api.client.get(f"{ACCOUNTS}/no-such-account/orders/evaluation", headers=api.service),
        404,
        "account_not_found",
    )
    assert api.client.post(f"{ACCOUNTS}/{mine}/orders", json=limit_buy()).status_code == 401


def minute_bars(start: datetime, closes: list[str], symbol: str = "AAPL") -> list[Bar]:
    bars = []
    for i, close in enumerate(closes):
        c = Decimal(close)
        bars.append(
            Bar(
                symbol,
                "1Min",
                start + timedelta(minutes=i),
                c,
                c + Decimal("0.5"),
                c - Decimal("0.5"),
                c,
                Decimal(1000),
            )
        )
    return bars


def store_bars(api: Api, bars: list[Bar]) -> None:
    with UnitOfWork(api.ctx.engine) as uow:
        uow.prices.insert_bars(bars)
        uow.commit()


def test_evaluate_fills_a_resting_order_from_stored_bars_and_reports_the_cursor(api: Api) -> None:
    account_id = open_account(api)
    base = f"{ACCOUNTS}/{account_id}/orders"
    api.quote("AAPL", "100.00", "100.02")
    order = placed(api, account_id, limit_buy("dip"))
    never = api.client.get(f"{base}/evaluation", headers=api.service)
    assert never.status_code == 200
    assert never.json() == {
        "evaluatedThrough": None,
        "lastRunAt": None,
        "lastRunTicks": 0,
        "totalTicks": 0,
        "delayed": False,
    }

    store_bars(api, minute_bars(T0 + timedelta(minutes=1), ["100", "98.8"]))
    now = api.clock.advance(600)
    run = api.client.post(f"{base}/evaluate", headers=api.service)
    assert run.status_code == 200, run.text
    assert run.json() == {
        "ticks": 2,
        "fills": 1,
        "evaluatedThrough": now.isoformat().replace("+00:00", "Z"),
        "delayed": False,
    }

    filled = api.client.get(f"{base}/{order['id']}", headers=api.service).json()
    # The second bar opens at 98.8, below the limit: it fills at the open.
    assert (filled["status"], filled["filledQty"], filled["filledAvgPrice"]) == ("filled", "10", "98.8")
    assert reserved(api, account_id) == 0
    cursor = api.client.get(f"{base}/evaluation", headers=api.service).json()
    assert (cursor["lastRunTicks"], cursor["totalTicks"], cursor["delayed"]) == (2, 2, False)
    assert cursor["evaluatedThrough"] == run.json()["evaluatedThrough"]
    assert cursor["lastRunAt"] is not None
    again = api.client.post(f"{base}/evaluate", headers=api.service).json()
    assert (again["ticks"], again["fills"]) == (0, 0)
    assert recompute(api.ctx.engine, AccountId(account_id)) == {}


def test_a_long_catch_up_is_reported_as_delayed(api: Api) -> None:
    strict = build_api(api.ctx.engine, Settings(orders_catch_up_notice=3))
    with strict.client:
        account_id = open_account(strict)
        base = f"{ACCOUNTS}/{account_id}/orders"
        strict.quote("AAPL", "100.00", "100.02")
        placed(strict, account_id, limit_buy("patient", limit="90", timeInForce="gtc"))
        store_bars(strict, minute_bars(T0 + timedelta(minutes=1), ["100", "101", "100.5", "100.2", "100.1"]))
        strict.clock.advance(600)
        run = strict.client.post(f"{base}/evaluate", headers=strict.service).json()
        assert (run["ticks"], run["fills"], run["delayed"]) == (5, 0, True)
        cursor = strict.client.get(f"{base}/evaluation", headers=strict.service).json()
        assert (cursor["lastRunTicks"], cursor["totalTicks"], cursor["delayed"]) == (5, 5, True)


def test_the_kill_switch_refuses_new_orders_but_cancel_still_works(api: Api) -> None:
    account_id = open_account(api)
    api.quote("AAPL", "100.00", "100.02")
    order = placed(api, account_id, limit_buy("before"))
    halted = build_api(api.ctx.engine, Settings(trading_disabled=True), grant=[account_id])
    with halted.client:
        assert_error(submit(halted, account_id, limit_buy("after")), 403, "trading_disabled")
        path = f"{ACCOUNTS}/{account_id}/orders/{order['id']}"
        assert_error(
            halted.client.patch(path, json={"qty": "1"}, headers=halted.service), 403, "trading_disabled"
        )
        canceled = halted.client.delete(path, headers=halted.service)
        assert (canceled.status_code, canceled.json()["status"]) == (200, "canceled")
