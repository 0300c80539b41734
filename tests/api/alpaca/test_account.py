"""/v2/account and /v2/account/configurations: the kernel's figures in Alpaca's shape, and the
owner's switches that make an account stricter than its policy."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import AccountStatus as SdkStatus
from alpaca.trading.models import TradeAccount

from propdesk.accounting.state import AccountStatus
from propdesk.api.alpaca.account import account_number
from propdesk.api.alpaca.wire import dec
from propdesk.model.ids import AccountId
from propdesk.services.access import api_keys
from propdesk.services.access.api_keys import KeyPair
from propdesk.services.accounts import lifecycle
from propdesk.services.accounts.commands import get_state
from tests.api.alpaca.conftest import Paper, key_headers

ORDER = {"symbol": "AAPL", "side": "buy", "type": "market", "time_in_force": "day"}
CALL_LONG = "AAPL260220C00100000"
CALL_SHORT = "AAPL260220C00110000"


def sdk_account(paper: Paper, keys: KeyPair | None = None) -> TradeAccount:
    keys = keys or paper.keys
    client = TradingClient(keys.key_id, keys.secret_key, paper=True, url_override=paper.url)
    account = client.get_account()
    assert isinstance(account, TradeAccount)
    return account


def test_figures_add_up_with_long_and_short_positions(paper: Paper) -> None:
    paper.quote("AAPL", "99.98", "100.02")
    paper.quote("MSFT", "399.9", "400.1")
    with paper.http() as http:
        assert http.post("/v2/orders", json=ORDER | {"qty": "10"}).json()["status"] == "filled"
        assert (
            http.post("/v2/orders", json=ORDER | {"symbol": "MSFT", "side": "sell", "qty": "2"}).json()[
                "status"
            ]
            == "filled"
        )
        shown = http.get("/v2/account").json()
    state = get_state(paper.ctx.engine, paper.account_id)
    long_value, short_value = Decimal(shown["long_market_value"]), Decimal(shown["short_market_value"])
    assert long_value > 0 > short_value
    assert Decimal(shown["cash"]) + long_value + short_value == Decimal(shown["equity"])
    assert long_value + short_value == Decimal(shown["position_market_value"])
    assert {k: shown[k] for k in ("cash", "equity", "portfolio_value", "buying_power", "initial_margin")} == {
        "cash": dec(state.cash),
        "equity": dec(state.equity),
        "portfolio_value": dec(state.equity),
        "buying_power": dec(state.buying_power),
        "initial_margin": dec(state.margin_used),
    }
    # Bought 10 at 100.02 and sold 2 short at 399.90: cash 100,000 − 1,000.20 + 799.80.
    assert shown["cash"] == "99799.6"
    assert shown["non_marginable_buying_power"] == dec(state.available_capital)
    assert all(isinstance(shown[k], str) for k in ("cash", "equity", "buying_power", "multiplier", "sma"))
    assert (shown["daytrade_count"], shown["pattern_day_trader"], shown["balance_asof"]) == (
        0,
        False,
        "2026-01-07",
    )
    sdk = sdk_account(paper)
    assert (sdk.cash, sdk.equity, sdk.short_market_value) == (
        shown["cash"],
        shown["equity"],
        shown["short_market_value"],
    )


def test_status_maps_onto_alpacas_enum(paper: Paper) -> None:
    assert sdk_account(paper).status is SdkStatus.ACTIVE
    lifecycle.change_status(paper.ctx, paper.account_id, AccountStatus.PAUSED, "lunch")
    paused = sdk_account(paper)
    assert (paused.status, paused.trading_blocked, paused.account_blocked) == (SdkStatus.ACTIVE, True, False)
    lifecycle.change_status(paper.ctx, paper.account_id, AccountStatus.LOCKED, "review")
    locked = sdk_account(paper)
    assert (locked.status, locked.trading_blocked, locked.account_blocked) == (SdkStatus.ACTIVE, True, True)
    lifecycle.change_status(paper.ctx, paper.account_id, AccountStatus.COMPLETED, "over")
    closed = sdk_account(paper)
    assert (closed.status, closed.trading_blocked, closed.transfers_blocked) == (
        SdkStatus.ACCOUNT_CLOSED,
        True,
        True,
    )


def test_account_numbers_are_stable_and_per_account(paper: Paper) -> None:
    other_id, other_keys = paper.open_account(starting_cash="2500")
    mine, other = sdk_account(paper), sdk_account(paper, other_keys)
    assert mine.account_number == account_number(paper.account_id)
    assert other.account_number == account_number(other_id) != mine.account_number
    assert other.account_number[2:].isalnum()
    assert other.account_number[2:].isupper()
    assert (other.cash, other.buying_power) == ("2500", "5000")


def patch(http: httpx.Client, **changes: Any) -> httpx.Response:
    return http.patch("/v2/account/configurations", json=changes)


def test_configuration_defaults_partial_changes_and_refusals(paper: Paper) -> None:
    other_id, other_keys = paper.open_account()
    with paper.http() as http:
        defaults = http.get("/v2/account/configurations").json()
        assert defaults == {
            "dtbp_check": "entry",
            "fractional_trading": True,
            "max_margin_multiplier": "2",
            "no_shorting": False,
            "pdt_check": "entry",
            "suspend_trade": False,
            "trade_confirm_email": "all",
            "ptp_no_exception_entry": False,
            "max_options_trading_level": 3,
        }
        changed = patch(http, trade_confirm_email="none", max_options_trading_level=2, dtbp_check=None).json()
        assert changed == defaults | {"trade_confirm_email": "none", "max_options_trading_level": 2}
        assert http.get("/v2/account/configurations").json() == changed
        assert http.get("/v2/account").json()["options_trading_level"] == 2
        for bad in (
            {"max_margin_multiplier": "4"},
            {"dtbp_check": "sometimes"},
            {"max_options_trading_level": 5},
            {"max_options_trading_level": True},
            {"fractional_trading": "yes"},
            {"shorting": False},
            {"no_shorting": True, "max_margin_multiplier": "1"},  # refused as a whole
        ):
            refused = patch(http, **bad)
            assert refused.status_code == 422, bad
            assert type(refused.json()["code"]) is int
        assert http.get("/v2/account/configurations").json() == changed
        assert patch(http, max_margin_multiplier=2.0).json() == changed
    with httpx.Client(base_url=paper.url, headers=key_headers(other_keys)) as other:
        assert other.get("/v2/account/configurations").json() == defaults
    assert other_id != paper.account_id


def test_a_long_only_policy_cannot_be_switched_to_shorting(paper: Paper) -> None:
    row = lifecycle.create_account(
        paper.ctx, lifecycle.NewAccount(preset="paper", overrides={"allowed_directions": ["long"]})
    )
    lifecycle.start(paper.ctx, AccountId(row.id))
    keys = api_keys.create_key(paper.ctx.engine, AccountId(row.id), clock=paper.clock)
    with paper.http(keys) as http:
        assert http.get("/v2/account/configurations").json()["no_shorting"] is True
        assert http.get("/v2/account").json()["shorting_enabled"] is False
        refused = patch(http, no_shorting=False)
        assert (refused.status_code, refused.json()["code"]) == (422, 42210000)
        assert patch(http, no_shorting=True).status_code == 200


def test_fractional_trading_off_refuses_fractional_and_notional_orders(paper: Paper) -> None:
    paper.quote("AAPL", "99.98", "100.02")
    paper.quote("BTC/USD", "97000", "97010")
    with paper.http() as http:
        assert http.post("/v2/orders", json=ORDER | {"qty": "0.5"}).json()["status"] == "filled"
        patch(http, fractional_trading=False)
        for amount in ({"qty": "0.5"}, {"qty": 1.5}, {"notional": "50"}):
            refused = http.post("/v2/orders", json=ORDER | amount)
            assert (refused.status_code, refused.json()["reason"]) == (422, "fractional_trading_disabled"), (
                amount
            )
        assert http.post("/v2/orders", json=ORDER | {"qty": 2.0}).json()["filled_qty"] == "2"
        crypto = {"symbol": "BTC/USD", "side": "buy", "type": "market", "time_in_force": "gtc", "qty": "0.01"}
        assert http.post("/v2/orders", json=crypto).json()["filled_qty"] == "0.01"  # pairs are fractional


def test_the_options_level_gates_option_and_spread_orders(paper: Paper) -> None:
    paper.quote(CALL_LONG, "5.00", "5.20")
    paper.quote(CALL_SHORT, "1.00", "1.10")
    spread = {
        "qty": "1",
        "type": "market",
        "time_in_force": "day",
        "order_class": "mleg",
        "legs": [
            {"symbol": CALL_LONG, "ratio_qty": "1", "side": "buy"},
            {"symbol": CALL_SHORT, "ratio_qty": 1.0, "position_intent": "sell_to_open"},
        ],
    }
    single = ORDER | {"symbol": CALL_LONG, "qty": "1"}
    with paper.http() as http:
        patch(http, max_options_trading_level=2)
        refused = http.post("/v2/orders", json=spread)
        assert (refused.status_code, refused.json()["code"], refused.json()["reason"]) == (
            403,
            40310000,
            "options_level_too_low",
        )
        assert http.post("/v2/orders", json=single).json()["status"] == "filled"
        patch(http, max_options_trading_level=0)
        refused = http.post("/v2/orders", json=single)
        assert (refused.status_code, refused.json()["reason"]) == (403, "options_trading_disabled")
        patch(http, max_options_trading_level=3)
        placed = http.post("/v2/orders", json=spread).json()
        assert (placed["status"], placed["order_class"], len(placed["legs"])) == ("filled", "mleg", 2)
        contradicting = spread | {
            "legs": [
                spread["legs"][0],
                {"symbol": CALL_SHORT, "ratio_qty": 1, "side": "buy", "position_intent": "sell_to_open"},
            ]
        }
        assert http.post("/v2/orders", json=contradicting).status_code == 422


def test_a_resend_is_answered_even_after_trading_is_suspended(paper: Paper) -> None:
    paper.quote("AAPL", "99.98", "100.02")
    body = ORDER | {"qty": "1", "client_order_id": "before-the-pause"}
    with paper.http() as http:
        placed = http.post("/v2/orders", json=body).json()
        patch(http, suspend_trade=True)
        assert http.post("/v2/orders", json=body).json() == placed
        reused = http.post("/v2/orders", json=body | {"qty": "2"})
        assert (reused.status_code, reused.json()["reason"]) == (422, "duplicate_client_order_id")
        refused = http.post("/v2/orders", json=body | {"client_order_id": "after-the-pause"})
        assert (refused.status_code, refused.json()["code"], refused.json()["reason"]) == (
            403,
            40310000,
            "trading_suspended",
        )
        patch(http, suspend_trade=False)
        order = http.post(
            "/v2/orders", json=body | {"client_order_id": "rest", "type": "limit", "limit_price": "90"}
        ).json()
        patch(http, suspend_trade=True)
        replaced = http.patch(f"/v2/orders/{order['id']}", json={"limit_price": "91"})
        assert (replaced.status_code, replaced.json()["reason"]) == (403, "trading_suspended")
        assert http.delete(f"/v2/orders/{order['id']}").status_code == 204
