"""Alpaca's corporate-actions endpoint: pages followed, buckets converted to stored actions."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import httpx
import pytest
from pydantic import SecretStr

from propdesk.marketdata.alpaca import AlpacaDataClient
from propdesk.marketdata.alpaca_http import AlpacaCredentials, AlpacaResponseError
from propdesk.store.corporate_actions import ActionType, action_id

PAGES = [
    {
        "corporate_actions": {
            "cash_dividends": [
                {"symbol": "ORCL", "rate": 0.05, "ex_date": "2009-04-06", "payable_date": "2009-05-01"}
            ],
            "forward_splits": [{"symbol": "NVDA", "old_rate": 2, "new_rate": 3, "ex_date": "2007-09-11"}],
            "spin_offs": [{"source_symbol": "X"}],
        },
        "next_page_token": "p2",
    },
    {
        "corporate_actions": {
            "reverse_splits": [{"symbol": "PENY", "old_rate": 10, "new_rate": 1, "ex_date": "2024-03-01"}],
            "name_changes": [{"old_symbol": "FB", "new_symbol": "META", "process_date": "2022-06-09"}],
        },
        "next_page_token": None,
    },
]


def _client(handler: httpx.MockTransport) -> AlpacaDataClient:
    credentials = AlpacaCredentials(SecretStr("PKTEST"), SecretStr("secret"))
    return AlpacaDataClient(credentials, http=httpx.Client(transport=handler), base_url="https://data.test")


def test_pages_are_followed_and_converted() -> None:
    seen: list[httpx.URL] = []

    def reply(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        page = PAGES[1] if request.url.params.get("page_token") == "p2" else PAGES[0]
        return httpx.Response(200, content=json.dumps(page).encode())

    actions = _client(httpx.MockTransport(reply)).corporate_actions(
        ["NVDA", "ORCL"], start=date(2007, 1, 1), end=date(2024, 12, 31)
    )

    assert seen[0].path == "/v1/corporate-actions"
    assert seen[0].params["types"] == "cash_dividend,forward_split,reverse_split,name_change"
    assert seen[0].params["start"] == "2007-01-01"
    by_type = {(a.type, a.symbol): a for a in actions}
    dividend = by_type[(ActionType.DIVIDEND, "ORCL")]
    assert (dividend.cash, dividend.ex_date, dividend.payable_date) == (
        Decimal("0.05"),
        date(2009, 4, 6),
        date(2009, 5, 1),
    )
    assert dividend.id == action_id(ActionType.DIVIDEND, "ORCL", date(2009, 4, 6))
    split = by_type[(ActionType.SPLIT, "NVDA")]
    assert (split.old_rate, split.new_rate) == (Decimal(2), Decimal(3))
    assert by_type[(ActionType.SPLIT, "PENY")].new_rate == Decimal(1)
    assert by_type[(ActionType.NAME_CHANGE, "FB")].new_symbol == "META"
    assert {a.source for a in actions} == {"alpaca"}


def test_a_malformed_page_is_refused() -> None:
    def reply(request: httpx.Request) -> httpx.Response:
        body = {"corporate_actions": {"forward_splits": [{"symbol": "NVDA", "ex_date": "2007-09-11"}]}}
        return httpx.Response(200, content=json.dumps(body).encode())

    with pytest.raises(AlpacaResponseError, match="malformed"):
        _client(httpx.MockTransport(reply)).corporate_actions(
            ["NVDA"], start=date(2007, 1, 1), end=date(2008, 1, 1)
        )
