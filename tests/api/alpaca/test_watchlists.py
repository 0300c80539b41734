"""/v2 watchlists on SQLite and PostgreSQL: the real alpaca-py client, then refusals over raw HTTP.

A watchlist belongs to the key pair's account: another account's id is a 404 and its lists never
show. Every refused request (422 or 404) leaves every list exactly as it was.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import httpx
import pytest
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import AssetClass
from alpaca.trading.models import Watchlist
from alpaca.trading.requests import CreateWatchlistRequest, UpdateWatchlistRequest

from propdesk.api.alpaca.wire import asset_id
from tests.api.alpaca.conftest import Paper

UNKNOWN_ID = "0b5b2d1e-4c0e-4d8f-9d61-3a4f3c0e7a11"


def sdk(paper: Paper) -> TradingClient:
    return TradingClient(paper.keys.key_id, paper.keys.secret_key, paper=True, url_override=paper.url)


def created(http: httpx.Client, name: str, symbols: list[str]) -> dict[str, Any]:
    response = http.post("/v2/watchlists", json={"name": name, "symbols": symbols})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def everything(http: httpx.Client) -> list[dict[str, Any]]:
    """Every list of the account with its assets: what a refused request must leave alone."""
    return [http.get(f"/v2/watchlists/{w['id']}").json() for w in http.get("/v2/watchlists").json()]


def one(value: object) -> Watchlist:
    """alpaca-py's own model parsed the response."""
    assert isinstance(value, Watchlist)
    return value


def many(value: object) -> list[Watchlist]:
    assert isinstance(value, list)
    return [one(w) for w in value]


def symbols(watchlist: Watchlist) -> list[str]:
    assert watchlist.assets is not None
    return [a.symbol for a in watchlist.assets]


def test_alpaca_py_creates_lists_changes_and_deletes_a_watchlist(paper: Paper) -> None:
    paper.quote("AAPL", "187.10", "187.12")
    paper.quote("MSFT", "399.98", "400.02")
    client = sdk(paper)
    start = paper.clock()

    tech = one(
        client.create_watchlist(CreateWatchlistRequest(name="Tech", symbols=["AAPL", "msft", "BTCUSD"]))
    )
    assert tech.account_id == UUID(paper.account_id)
    assert tech.name == "Tech"
    assert tech.created_at == tech.updated_at == start
    assert tech.assets is not None
    # Stored as propdesk's symbols, in the order given.
    assert [(a.symbol, a.asset_class, str(a.id)) for a in tech.assets] == [
        ("AAPL", AssetClass.US_EQUITY, asset_id("AAPL")),
        ("MSFT", AssetClass.US_EQUITY, asset_id("MSFT")),
        ("BTC/USD", AssetClass.CRYPTO, asset_id("BTC/USD")),
    ]
    empty = one(client.create_watchlist(CreateWatchlistRequest(name="x" * 64, symbols=[])))
    assert empty.assets == []

    listed = many(client.get_watchlists())
    assert [(w.id, w.name, w.assets) for w in listed] == [(tech.id, "Tech", None), (empty.id, "x" * 64, None)]
    assert one(client.get_watchlist_by_id(tech.id)) == tech

    paper.clock.advance(60)
    renamed = one(client.update_watchlist_by_id(tech.id, UpdateWatchlistRequest(name="Big tech")))
    assert (renamed.name, renamed.created_at, renamed.updated_at) == ("Big tech", start, paper.clock())
    assert symbols(renamed) == ["AAPL", "MSFT", "BTC/USD"]
    replaced = one(client.update_watchlist_by_id(tech.id, UpdateWatchlistRequest(symbols=["MSFT", "AAPL"])))
    assert (replaced.name, symbols(replaced)) == ("Big tech", ["MSFT", "AAPL"])

    added = one(client.add_asset_to_watchlist_by_id(tech.id, "ETH/USD"))
    assert symbols(added) == ["MSFT", "AAPL", "ETH/USD"]
    # alpaca-py puts the pair into the path unencoded: DELETE /v2/watchlists/{id}/ETH/USD.
    assert symbols(one(client.remove_asset_from_watchlist_by_id(tech.id, "ETH/USD"))) == ["MSFT", "AAPL"]
    assert symbols(one(client.remove_asset_from_watchlist_by_id(tech.id, "MSFT"))) == ["AAPL"]

    client.delete_watchlist_by_id(tech.id)
    assert [w.id for w in many(client.get_watchlists())] == [empty.id]
    with pytest.raises(APIError) as missing:
        client.get_watchlist_by_id(tech.id)
    assert (missing.value.status_code, missing.value.code) == (404, 40410000)


def test_the_wire_shape_and_the_assets_are_those_of_the_assets_route(paper: Paper) -> None:
    paper.quote("AAPL", "187.10", "187.12")
    with paper.http() as http:
        made = created(http, "Core", ["AAPL", "BTC/USD"])
        assert http.get("/v2/watchlists").json() == [{k: v for k, v in made.items() if k != "assets"}]
        fetched = http.get(f"/v2/watchlists/{made['id']}").json()
        aapl, btc = http.get("/v2/assets/AAPL").json(), http.get("/v2/assets/BTCUSD").json()
    assert fetched == made
    assert made == {
        "id": made["id"],
        "account_id": paper.account_id,
        "name": "Core",
        "created_at": "2026-01-07T15:00:01.000000Z",
        "updated_at": "2026-01-07T15:00:01.000000Z",
        "assets": [aapl, btc],
    }
    assert str(UUID(made["id"])) == made["id"]
    assert aapl["maintenance_margin_requirement"] == "50"  # the paper preset's 2x


def _refusals(own: str, other: str) -> list[tuple[str, str, dict[str, Any] | None, int, int, str]]:
    """(method, path, body, status, code, message) of requests that must change nothing."""
    lists = "/v2/watchlists"
    return [
        ("POST", lists, {"name": "Main", "symbols": []}, 422, 40010001, "watchlist name must be unique"),
        ("POST", lists, {"name": ""}, 422, 40010001, "watchlist name must not be empty"),
        ("POST", lists, {"name": "   "}, 422, 40010001, "watchlist name must not be empty"),
        ("POST", lists, {"name": "x" * 65}, 422, 40010001, "watchlist name must be at most 64 characters"),
        (
            "POST",
            lists,
            {"name": "a\x00b"},
            422,
            40010001,
            # Every request model refuses control characters before a service sees them (issue 14).
            "name: must not contain a control character (U+0000 at position 1)",
        ),
        ("POST", lists, {"name": "New", "symbols": ["AAPL", "NOPE"]}, 422, 40010001, "asset not found: NOPE"),
        (
            "POST",
            lists,
            {"name": "New", "symbols": ["AAPL", "aapl"]},
            422,
            40010001,
            "duplicate symbol in watchlist: AAPL",
        ),
        ("POST", lists, {"symbols": ["AAPL"]}, 422, 40010001, ""),
        ("POST", lists, {"name": 7}, 422, 40010001, ""),
        ("POST", lists, {"name": "New", "symbols": "AAPL"}, 422, 40010001, ""),
        ("POST", lists, {"name": "New", "symbol": ["AAPL"]}, 422, 40010001, ""),  # misspelt: refused
        ("PUT", f"{lists}/{own}", {}, 422, 40010001, "one of name or symbols must be given"),
        ("PUT", f"{lists}/{own}", {"name": "Other"}, 422, 40010001, "watchlist name must be unique"),
        (
            "PUT",
            f"{lists}/{own}",
            {"name": "y" * 65, "symbols": []},
            422,
            40010001,
            "watchlist name must be at most 64 characters",
        ),
        ("PUT", f"{lists}/{own}", {"symbols": ["MSFT", "ZZZZ"]}, 422, 40010001, "asset not found: ZZZZ"),
        ("POST", f"{lists}/{own}", {"symbol": "AAPL"}, 422, 40010001, "duplicate symbol in watchlist: AAPL"),
        ("POST", f"{lists}/{own}", {"symbol": "NOPE"}, 422, 40010001, "asset not found: NOPE"),
        ("POST", f"{lists}/{own}", {}, 422, 40010001, ""),
        ("DELETE", f"{lists}/{own}/MSFT", None, 404, 40410000, "symbol not found in watchlist: MSFT"),
        *[
            (method, f"{lists}/{wid}{suffix}", body, 404, 40410000, f"watchlist not found: {wid}")
            for wid in (UNKNOWN_ID, "not-a-uuid", other)
            for method, suffix, body in (
                ("GET", "", None),
                ("PUT", "", {"name": "Taken over"}),
                ("POST", "", {"symbol": "MSFT"}),
                ("DELETE", "/AAPL", None),
                ("DELETE", "", None),
            )
        ],
    ]


def test_refused_requests_answer_alpacas_codes_and_change_nothing(paper: Paper) -> None:
    paper.quote("AAPL", "187.10", "187.12")
    paper.quote("MSFT", "399.98", "400.02")
    _, other_keys = paper.open_account()
    with paper.http() as http, paper.http(other_keys) as stranger:
        own = created(http, "Main", ["AAPL"])["id"]
        created(http, "Other", [])
        # Names are unique per account only: the other account has its own "Main".
        theirs = created(stranger, "Main", ["MSFT"])
        mine_before, theirs_before = everything(http), everything(stranger)
        paper.clock.advance(60)
        for method, path, body, status, code, message in _refusals(own, theirs["id"]):
            response = http.request(method, path, json=body)
            assert (response.status_code, response.json()["code"]) == (status, code), (method, path, body)
            if message:
                assert response.json()["message"] == message, (method, path)
        assert everything(http) == mine_before
        assert everything(stranger) == theirs_before
        assert [w["name"] for w in http.get("/v2/watchlists").json()] == ["Main", "Other"]


def test_puts_keep_order_and_a_list_may_keep_its_own_name(paper: Paper) -> None:
    paper.quote("AAPL", "187.10", "187.12")
    paper.quote("MSFT", "399.98", "400.02")
    with paper.http() as http:
        wid = created(http, "Main", ["MSFT", "AAPL"])["id"]
        paper.clock.advance(5)
        same = http.put(f"/v2/watchlists/{wid}", json={"name": "Main", "symbols": ["aapl", "ETHUSD", "MSFT"]})
        assert same.status_code == 200, same.text
        assert [a["symbol"] for a in same.json()["assets"]] == ["AAPL", "ETH/USD", "MSFT"]
        assert same.json()["updated_at"] == "2026-01-07T15:00:07.000000Z"
        # An id in upper case is the same id; a crypto pair is found with or without its slash.
        upper = http.delete(f"/v2/watchlists/{wid.upper()}/ETHUSD")
        assert [a["symbol"] for a in upper.json()["assets"]] == ["AAPL", "MSFT"]
        cleared = http.put(f"/v2/watchlists/{wid}", json={"symbols": []})
        assert (cleared.json()["name"], cleared.json()["assets"]) == ("Main", [])
        assert http.delete(f"/v2/watchlists/{wid}").status_code == 204
        assert http.get("/v2/watchlists").json() == []
