"""alpaca-py against a live propdesk: portfolio history through ``get_portfolio_history`` and
account activities through the raw ``client.get`` (alpaca-py has no activities method), every
response parsed with the SDK's own models."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import ActivityType, OrderSide, OrderStatus, TradeActivityType
from alpaca.trading.models import NonTradeActivity, PortfolioHistory, TradeActivity
from alpaca.trading.requests import GetPortfolioHistoryRequest

from propdesk.services.daily import corporate_actions
from tests.api.alpaca.conftest import Paper
from tests.api.alpaca.test_history import et, midnight, trading_week


def sdk(paper: Paper) -> TradingClient:
    return TradingClient(paper.keys.key_id, paper.keys.secret_key, paper=True, url_override=paper.url)


def parse(item: dict[str, Any]) -> TradeActivity | NonTradeActivity:
    """As alpaca-py's broker client tells the two kinds apart."""
    if ActivityType.is_str_trade_activity(item["activity_type"]):
        return TradeActivity(**item)
    return NonTradeActivity(**item)


def test_get_portfolio_history_parses_with_the_sdk_model(paper: Paper) -> None:
    trading_week(paper)
    paper.clock.current = et("2026-01-12 12:00")
    result = sdk(paper).get_portfolio_history(GetPortfolioHistoryRequest(period="1W", timeframe="1D"))
    assert isinstance(result, PortfolioHistory)
    assert result.timeframe == "1D"
    assert result.timestamp == [midnight(d) for d in ("2026-01-07", "2026-01-08", "2026-01-09", "2026-01-12")]
    assert result.equity == [100049.5, 100079.25, 99989.25, 99989.25]
    assert result.profit_loss == [49.5, 79.25, -10.75, -10.75]
    assert result.base_value == 100000.0
    assert result.cashflow == {}


def test_get_portfolio_history_with_the_sdks_datetimes_booleans_and_cashflows(paper: Paper) -> None:
    trading_week(paper)
    request = GetPortfolioHistoryRequest(
        timeframe="1H",
        start=datetime(2026, 1, 8, 14, 30),  # naive: alpaca-py sends it as UTC
        end=datetime(2026, 1, 8, 21, 0, tzinfo=UTC),
        extended_hours=True,
        cashflow_types="ALL",
    )
    result = sdk(paper).get_portfolio_history(request)
    assert isinstance(result, PortfolioHistory)
    assert result.timestamp[0] == int(et("2026-01-08 04:00").timestamp())
    assert result.timestamp[-1] == int(et("2026-01-08 16:00").timestamp())  # end cuts the session
    assert result.equity[-1] == 100079.25
    assert result.cashflow == {
        ActivityType.CSD: [0.0] * 13,
        ActivityType.FEE: [0.0] * 13,
        ActivityType.JNLC: [0.0] * 13,
    }
    by_date_end = sdk(paper).get_portfolio_history(
        GetPortfolioHistoryRequest(period="1D", timeframe="15Min", date_end=date(2026, 1, 7))
    )
    assert isinstance(by_date_end, PortfolioHistory)
    assert by_date_end.timestamp[0] == int(et("2026-01-07 10:00").timestamp())  # funded at 10:00
    assert by_date_end.equity[-1] == 100049.5


def test_raw_activities_parse_with_the_sdk_models_and_page(paper: Paper) -> None:
    trading_week(paper)
    client = sdk(paper)
    first = client.get("/account/activities", {"direction": "asc", "page_size": 2})
    assert isinstance(first, list)
    second = client.get(
        "/account/activities", {"direction": "asc", "page_size": 2, "page_token": first[-1]["id"]}
    )
    assert isinstance(second, list)
    items = [parse(item) for item in first + second]
    deposit, buy, sell = items
    assert isinstance(deposit, NonTradeActivity)
    assert (deposit.activity_type, deposit.net_amount, deposit.date) == (
        ActivityType.CSD,
        100000.0,
        date(2026, 1, 7),
    )
    assert str(deposit.account_id) == paper.account_id
    assert isinstance(buy, TradeActivity)
    assert (buy.side, buy.qty, buy.price, buy.cum_qty, buy.leaves_qty) == (
        OrderSide.BUY,
        10.0,
        100.10,
        10.0,
        0.0,
    )
    assert (buy.type, buy.order_status) == (TradeActivityType.FILL, OrderStatus.FILLED)
    assert isinstance(sell, TradeActivity)
    assert (sell.side, sell.qty, sell.price) == (OrderSide.SELL, 5.0, 108.0)
    assert sell.transaction_time > buy.transaction_time
    assert client.get("/account/activities", {"direction": "asc", "page_token": second[-1]["id"]}) == []
    newest = client.get("/account/activities/FILL", {"page_size": 1})
    assert isinstance(newest, list)
    assert [parse(item).id for item in newest] == [sell.id]
    assert Decimal(newest[0]["price"]) == Decimal("108")


def test_a_bad_activities_query_raises_the_sdks_api_error(paper: Paper) -> None:
    with pytest.raises(APIError) as raised:
        sdk(paper).get("/account/activities", {"page_size": 500})
    assert raised.value.status_code == 422
    assert raised.value.code == 40010001


def test_dividend_and_split_activities_parse_with_the_sdk_models(paper: Paper) -> None:
    trading_week(paper)  # 5 AAPL held after Thursday
    csv = (
        "type,symbol,ex_date,payable_date,cash,old_rate,new_rate,new_symbol\n"
        "dividend,AAPL,2026-01-12,2026-02-12,0.24,,,\n"
        "split,AAPL,2026-01-13,,,1,4,\n"
    )
    corporate_actions.import_corporate_actions(paper.ctx, csv)
    paper.clock.current = et("2026-01-12 08:00")
    corporate_actions.run_corporate_actions(paper.ctx, date(2026, 1, 12))
    paper.clock.current = et("2026-01-13 08:00")
    corporate_actions.run_corporate_actions(paper.ctx, date(2026, 1, 13))
    client = sdk(paper)
    dividends = client.get("/account/activities/DIV")
    splits = client.get("/account/activities/SPLIT")
    assert isinstance(dividends, list)
    assert isinstance(splits, list)
    (dividend,) = [parse(item) for item in dividends]
    (split,) = [parse(item) for item in splits]
    assert isinstance(dividend, NonTradeActivity)
    assert (dividend.activity_type, dividend.net_amount, dividend.symbol) == (ActivityType.DIV, 1.2, "AAPL")
    assert (dividend.qty, dividend.per_share_amount, dividend.date) == (5.0, 0.24, date(2026, 1, 12))
    assert isinstance(split, NonTradeActivity)
    assert (split.activity_type, split.net_amount, split.qty) == (ActivityType.SPLIT, 0.0, 20.0)
