"""The Alpaca Data API client against a fake Alpaca server on 127.0.0.1 (real HTTP, no real sleeps)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.engine import Engine

from propdesk.marketdata.alpaca import AlpacaDataClient
from propdesk.marketdata.alpaca_http import (
    AlpacaHTTPError,
    AlpacaRateLimitError,
    AlpacaResponseError,
    RetryPolicy,
)
from propdesk.marketdata.alpaca_wire import symbol_kind
from propdesk.marketdata.sources import DbAccessLog, MemoryAccessLog
from propdesk.model.market import Quote
from propdesk.services.market.prices import fetch_quotes
from propdesk.store.prices import AccessLogRepository, AccessLogRow, PriceRepository
from propdesk.store.uow import UnitOfWork
from tests.marketdata.conftest import KEY_ID, SECRET, START, ClientFactory
from tests.marketdata.fake_alpaca import FakeAlpaca, FakeTime, Reply, bar, rate_headers, stock_quote

QUOTES = "/v2/stocks/quotes/latest"
BARS = "/v2/stocks/bars"


def quotes_body(**quotes: str) -> str:
    return '{"quotes":{' + ",".join(f'"{s}":{q}' for s, q in quotes.items()) + "}}"


def ok(body: str, remaining: int = 199, reset_in: int = 60) -> Reply:
    return Reply(200, body, rate_headers(remaining, START + timedelta(seconds=reset_in)))


# --- decoding and shapes ----------------------------------------------------------------------------


def test_latest_quotes_are_exact_decimals_sent_with_the_key_headers(
    fake_alpaca: FakeAlpaca, make_client: ClientFactory
) -> None:
    fake_alpaca.script(
        QUOTES,
        ok(quotes_body(AAPL=stock_quote("172.62", "172.7"), MSFT=stock_quote("0.1", "0.30000000000000004"))),
    )
    quotes = make_client().latest_stock_quotes(["msft", "AAPL"])
    assert quotes["AAPL"] == Quote(
        "AAPL",
        datetime(2024, 3, 8, 15, 0, 0, 123456, tzinfo=UTC),
        Decimal("172.62"),
        Decimal("172.7"),
        None,
        Decimal(2),
        Decimal(1),
    )
    # Digits a float would have mangled come through as written.
    assert quotes["MSFT"].bid == Decimal("0.1")
    assert quotes["MSFT"].ask == Decimal("0.30000000000000004")
    (request,) = fake_alpaca.requests
    assert request.params == {"symbols": "AAPL,MSFT", "feed": "iex"}
    assert request.headers["apca-api-key-id"] == KEY_ID
    assert request.headers["apca-api-secret-key"] == SECRET


def test_one_sided_and_crossed_quotes_are_left_out(
    fake_alpaca: FakeAlpaca, make_client: ClientFactory
) -> None:
    fake_alpaca.script(
        QUOTES,
        ok(
            quotes_body(
                AAPL=stock_quote("172.62", "0"),  # no ask
                MSFT=stock_quote("400.10", "400.00"),  # crossed
                NVDA=stock_quote("900.00", "900.02"),
            )
        ),
    )
    assert set(make_client().latest_stock_quotes(["AAPL", "MSFT", "NVDA"])) == {"NVDA"}


def test_latest_quotes_route_stocks_crypto_and_options_to_their_endpoints(
    fake_alpaca: FakeAlpaca, make_client: ClientFactory
) -> None:
    option = "AAPL240419P00140000"
    fake_alpaca.script(QUOTES, ok(quotes_body(AAPL=stock_quote("1.00", "1.01"))))
    fake_alpaca.script(
        "/v1beta3/crypto/us/latest/quotes",
        ok(
            '{"quotes":{"BTC/USD":{"ap":97010.987654321,"as":0.5,"bp":97010.123456789,"bs":1.25,"t":"2024-03-08T15:00:01Z"}}}'
        ),
    )
    fake_alpaca.script(
        "/v1beta1/options/quotes/latest",
        ok(
            f'{{"quotes":{{"{option}":{{"ap":2.55,"as":10,"ax":"C","bp":2.5,"bs":12,"bx":"C","c":"A","t":"2024-03-08T15:00:02Z"}}}}}}'
        ),
    )
    quotes = make_client().latest_quotes(["AAPL", "BTC/USD", option, "ESZ26"])
    assert set(quotes) == {"AAPL", "BTC/USD", option}  # Alpaca has no futures data
    assert quotes["BTC/USD"].bid == Decimal("97010.123456789")
    assert quotes["BTC/USD"].bid_size == Decimal("1.25")
    assert quotes[option].ask == Decimal("2.55")
    by_path = {r.path: r.params for r in fake_alpaca.requests}
    assert by_path["/v1beta3/crypto/us/latest/quotes"] == {"symbols": "BTC/USD"}
    assert by_path["/v1beta1/options/quotes/latest"] == {"symbols": option, "feed": "indicative"}
    assert [symbol_kind(s) for s in ("AAPL", "BTC/USD", option, "ESZ26", "/MES")] == [
        "stock",
        "crypto",
        "option",
        "future",
        "future",
    ]


def test_latest_trades_and_bars(fake_alpaca: FakeAlpaca, make_client: ClientFactory) -> None:
    fake_alpaca.script(
        "/v2/stocks/trades/latest",
        ok(
            '{"trades":{"AAPL":{"t":"2024-03-08T15:00:00Z","x":"V","p":172.65,"s":100,"c":["@"],"i":52983525029461,"z":"C"}}}'
        ),
    )
    fake_alpaca.script(
        "/v2/stocks/bars/latest",
        ok(
            '{"bars":{"AAPL":'
            + bar("2024-03-08T14:59:00Z", "172.5", "172.8", "172.4", "172.65", vw="172.61")
            + "}}"
        ),
    )
    client = make_client()
    trade = client.latest_stock_trades(["AAPL"])["AAPL"]
    latest_bar = client.latest_stock_bars(["AAPL"])["AAPL"]
    assert (trade.price, trade.size, trade.trade_id) == (Decimal("172.65"), Decimal(100), 52983525029461)
    assert (latest_bar.timeframe, latest_bar.close, latest_bar.vwap) == (
        "1Min",
        Decimal("172.65"),
        Decimal("172.61"),
    )
    assert latest_bar.start == datetime(2024, 3, 8, 14, 59, tzinfo=UTC)


# --- paging -----------------------------------------------------------------------------------------


def test_historical_bars_follow_next_page_token_and_merge_per_symbol(
    fake_alpaca: FakeAlpaca, make_client: ClientFactory
) -> None:
    page1 = (
        '{"bars":{"AAPL":['
        + bar("2024-03-04T05:00:00Z", "175.0", "176.5", "174.25", "175.10")
        + ","
        + bar("2024-03-05T05:00:00Z", "175.10", "175.5", "170.0", "170.12")
        + '],"MSFT":['
        + bar("2024-03-04T05:00:00Z", "410", "415", "409", "414.92")
        + ']},"next_page_token":"QUFQTHxEfDIwMjQtMDMtMDU="}'
    )
    page2 = (
        '{"bars":{"MSFT":['
        + bar("2024-03-05T05:00:00Z", "414.92", "416", "400.5", "402.65")
        + ","
        + bar("2024-03-06T05:00:00Z", "402.65", "405", "401", "404.52")
        + '],"AAPL":['
        + bar("2024-03-06T05:00:00Z", "170.12", "171", "168.49", "169.12")
        + ']},"next_page_token":null}'
    )
    fake_alpaca.script(BARS, ok(page1), ok(page2))
    bars = make_client().stock_bars(
        ["AAPL", "MSFT"],
        "1D",
        start=datetime(2024, 3, 4, tzinfo=UTC),
        end=datetime(2024, 3, 7, tzinfo=UTC),
        page_limit=3,
    )
    assert {s: [b.close for b in series] for s, series in bars.items()} == {
        "AAPL": [Decimal("175.10"), Decimal("170.12"), Decimal("169.12")],
        "MSFT": [Decimal("414.92"), Decimal("402.65"), Decimal("404.52")],
    }
    assert {b.timeframe for series in bars.values() for b in series} == {"1Day"}
    first, second = fake_alpaca.requests
    assert first.params == {
        "symbols": "AAPL,MSFT",
        "timeframe": "1Day",
        "start": "2024-03-04T00:00:00Z",
        "end": "2024-03-07T00:00:00Z",
        "adjustment": "raw",
        "feed": "iex",
        "limit": "3",
    }
    assert second.params == {**first.params, "page_token": "QUFQTHxEfDIwMjQtMDMtMDU="}


def test_crypto_bars_page_too(fake_alpaca: FakeAlpaca, make_client: ClientFactory) -> None:
    path = "/v1beta3/crypto/us/bars"
    one = bar("2024-03-08T00:00:00Z", "67000.5", "68000", "66000", "67500.25", v="12.345678901")
    two = bar("2024-03-08T01:00:00Z", "67500.25", "67600", "67400", "67450", v="0.5")
    fake_alpaca.script(
        path,
        ok('{"bars":{"BTC/USD":[' + one + ']},"next_page_token":"p2"}'),
        ok('{"bars":{"BTC/USD":[' + two + ']},"next_page_token":null}'),
    )
    bars = make_client().crypto_bars(["BTC/USD"], "1H", start=datetime(2024, 3, 8, tzinfo=UTC))
    assert [b.volume for b in bars["BTC/USD"]] == [Decimal("12.345678901"), Decimal("0.5")]
    assert bars["BTC/USD"][0].timeframe == "1Hour"
    assert [r.params.get("page_token") for r in fake_alpaca.requests] == [None, "p2"]


def test_a_repeating_page_token_is_refused(fake_alpaca: FakeAlpaca, make_client: ClientFactory) -> None:
    page = '{"bars":{"AAPL":[]},"next_page_token":"same"}'
    fake_alpaca.script(BARS, ok(page), ok(page), ok(page))
    with pytest.raises(AlpacaResponseError, match="repeats"):
        make_client().stock_bars(["AAPL"], "1Day", start=START)


# --- rate limits and retries ------------------------------------------------------------------------


def test_429_waits_until_the_reset_header_then_succeeds(
    fake_alpaca: FakeAlpaca, make_client: ClientFactory, fake_time: FakeTime
) -> None:
    fake_alpaca.script(
        QUOTES,
        Reply(
            429,
            '{"code":42910000,"message":"rate limit exceeded"}',
            rate_headers(0, START + timedelta(seconds=7)),
        ),
        ok(quotes_body(AAPL=stock_quote("1.00", "1.01")), reset_in=67),
    )
    quotes = make_client().latest_stock_quotes(["AAPL"])
    assert set(quotes) == {"AAPL"}
    assert fake_time.sleeps == [7.0]
    # The retry reached the server only after the wait, at the reset time.
    assert [r.at for r in fake_alpaca.requests] == [START, START + timedelta(seconds=7)]


def test_low_remaining_quota_makes_the_client_wait_before_the_next_request(
    fake_alpaca: FakeAlpaca, make_client: ClientFactory, fake_time: FakeTime
) -> None:
    body = quotes_body(AAPL=stock_quote("1.00", "1.01"))
    fake_alpaca.script(
        QUOTES, ok(body, remaining=150), ok(body, remaining=2, reset_in=30), ok(body, remaining=199)
    )
    client = make_client()
    client.latest_stock_quotes(["AAPL"])
    client.latest_stock_quotes(["AAPL"])
    assert fake_time.sleeps == []  # plenty left so far: no waiting
    assert client.rate_limit.remaining == 2
    client.latest_stock_quotes(["AAPL"])
    assert fake_time.sleeps == [30.0]  # asked to wait for the reset before spending the reserve
    assert fake_alpaca.requests[-1].at == START + timedelta(seconds=30)
    assert fake_alpaca.requests[0].at == fake_alpaca.requests[1].at == START


def test_5xx_is_retried_with_exponential_backoff(
    fake_alpaca: FakeAlpaca, make_client: ClientFactory, fake_time: FakeTime
) -> None:
    fake_alpaca.script(
        QUOTES,
        Reply(503, '{"message":"unavailable"}'),
        Reply(502, "bad gateway"),
        ok(quotes_body(AAPL=stock_quote("1.00", "1.01"))),
    )
    assert set(make_client().latest_stock_quotes(["AAPL"])) == {"AAPL"}
    assert fake_time.sleeps == [0.5, 1.0]


def test_backoff_is_capped_and_gives_up_after_max_retries(
    fake_alpaca: FakeAlpaca, make_client: ClientFactory, fake_time: FakeTime
) -> None:
    fake_alpaca.script(QUOTES, *[Reply(500, '{"message":"boom"}')] * 7)
    client = make_client(retry=RetryPolicy(max_retries=6, backoff_base=0.5, backoff_cap=2.0))
    with pytest.raises(AlpacaHTTPError) as info:
        client.latest_stock_quotes(["AAPL"])
    assert info.value.status == 500
    assert "after 7 attempts" in str(info.value)
    assert fake_time.sleeps == [0.5, 1.0, 2.0, 2.0, 2.0, 2.0]
    assert len(fake_alpaca.requests) == 7


def test_persistent_429_raises_a_rate_limit_error(
    fake_alpaca: FakeAlpaca, make_client: ClientFactory, fake_time: FakeTime
) -> None:
    fake_alpaca.script(QUOTES, *[Reply(429, '{"message":"slow down"}')] * 3)  # no reset header: backoff
    with pytest.raises(AlpacaRateLimitError):
        make_client(retry=RetryPolicy(max_retries=2)).latest_stock_quotes(["AAPL"])
    assert fake_time.sleeps == [0.5, 1.0]


def test_client_errors_are_not_retried(
    fake_alpaca: FakeAlpaca, make_client: ClientFactory, fake_time: FakeTime
) -> None:
    fake_alpaca.script(
        QUOTES,
        Reply(403, '{"code":40310000,"message":"subscription does not permit querying recent SIP data"}'),
    )
    with pytest.raises(AlpacaHTTPError, match="subscription does not permit") as info:
        make_client().latest_stock_quotes(["AAPL"])
    assert info.value.status == 403
    assert fake_time.sleeps == []


# --- malformed bodies ------------------------------------------------------------------------------

MALFORMED = {
    "not json": "<html>gateway</html>",
    "missing quotes key": '{"trades":{}}',
    "price not a number": '{"quotes":{"AAPL":{"ap":"abc","bp":1,"t":"2024-03-08T15:00:00Z"}}}',
    "missing time": '{"quotes":{"AAPL":{"ap":1.01,"bp":1}}}',
    "NaN price": '{"quotes":{"AAPL":{"ap":NaN,"bp":1,"t":"2024-03-08T15:00:00Z"}}}',
    "symbol not asked for": quotes_body(AAPL=stock_quote("1.00", "1.01"), TSLA=stock_quote("1.00", "1.01")),
}


@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_body_is_rejected_with_a_clear_error(
    fake_alpaca: FakeAlpaca, make_client: ClientFactory, body: str
) -> None:
    fake_alpaca.script(QUOTES, ok(body))
    log = MemoryAccessLog()
    with pytest.raises(AlpacaResponseError, match=f"GET {QUOTES}"):
        make_client(access_log=log).latest_stock_quotes(["AAPL"], on_behalf_of="u-1")
    assert log.rows == []


def test_malformed_bars_are_rejected(fake_alpaca: FakeAlpaca, make_client: ClientFactory) -> None:
    out_of_order = bar("2024-03-04T05:00:00Z", "175.0", "174.0", "176.0", "175.10")  # high below low
    fake_alpaca.script(BARS, ok('{"bars":{"AAPL":[' + out_of_order + ']},"next_page_token":null}'))
    with pytest.raises(AlpacaResponseError, match="malformed bar"):
        make_client().stock_bars(["AAPL"], "1Day", start=START)


def test_a_malformed_body_stores_nothing_and_logs_no_access(
    engine: Engine, fake_alpaca: FakeAlpaca, make_client: ClientFactory
) -> None:
    fake_alpaca.script(QUOTES, ok('{"quotes":{"AAPL":{"ap":1.01,"bp":"x","t":"2024-03-08T15:00:00Z"}}}'))
    client = make_client(access_log=DbAccessLog(engine))
    with pytest.raises(AlpacaResponseError):
        fetch_quotes(engine, client, ["AAPL"], user="u-1")
    with UnitOfWork(engine, read_only=True) as uow:
        assert PriceRepository(uow.connection).count_quotes() == 0
        assert AccessLogRepository(uow.connection).rows() == []


# --- access log -------------------------------------------------------------------------------------


def test_every_user_fetch_writes_one_access_log_row_per_symbol(
    engine: Engine, fake_alpaca: FakeAlpaca, make_client: ClientFactory, fake_time: FakeTime
) -> None:
    body = quotes_body(AAPL=stock_quote("1.00", "1.01"), MSFT=stock_quote("2.00", "2.01"))
    fake_alpaca.script(QUOTES, ok(body), ok(quotes_body(AAPL=stock_quote("1.00", "1.01"))), ok(body))
    client = make_client(access_log=DbAccessLog(engine))
    fetch_quotes(engine, client, ["AAPL", "MSFT"], user="u-1")
    fake_time.current += timedelta(minutes=1)
    fetch_quotes(engine, client, ["AAPL"], user="u-2")
    fetch_quotes(engine, client, ["AAPL", "MSFT"], user=None)  # a system fetch: not logged
    with UnitOfWork(engine, read_only=True) as uow:
        rows = AccessLogRepository(uow.connection).rows()
        stored = PriceRepository(uow.connection).latest_quotes(["AAPL", "MSFT"])
        source = PriceRepository(uow.connection).quote_source("AAPL", stored["AAPL"].time)
    later = START + timedelta(minutes=1)
    assert rows == [
        AccessLogRow("u-1", "AAPL", "quote", START, "alpaca:iex"),
        AccessLogRow("u-1", "MSFT", "quote", START, "alpaca:iex"),
        AccessLogRow("u-2", "AAPL", "quote", later, "alpaca:iex"),
    ]
    assert set(stored) == {"AAPL", "MSFT"}
    assert source == "alpaca:iex"


def test_bars_fetched_for_a_user_are_logged_once_per_symbol_not_per_page(
    fake_alpaca: FakeAlpaca, make_client: ClientFactory
) -> None:
    one = bar("2024-03-04T05:00:00Z", "1", "2", "1", "2")
    two = bar("2024-03-05T05:00:00Z", "2", "3", "2", "3")
    fake_alpaca.script(
        BARS,
        ok('{"bars":{"AAPL":[' + one + ']},"next_page_token":"n"}'),
        ok('{"bars":{"AAPL":[' + two + ']},"next_page_token":null}'),
    )
    log = MemoryAccessLog()
    make_client(access_log=log).stock_bars(["AAPL", "MSFT"], "1Day", start=START, on_behalf_of="u-9")
    assert log.rows == [AccessLogRow("u-9", "AAPL", "bars", START, "alpaca:iex")]  # MSFT had no bars


# --- secrets ----------------------------------------------------------------------------------------


def test_keys_never_appear_in_reprs_logs_or_errors(
    fake_alpaca: FakeAlpaca, make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    fake_alpaca.script(
        QUOTES, Reply(503, "down"), Reply(401, '{"code":40110000,"message":"request is not authorized"}')
    )
    client = make_client()
    caplog.set_level(logging.DEBUG)
    with pytest.raises(AlpacaHTTPError) as info:
        client.latest_stock_quotes(["AAPL"])
    texts = [repr(client), repr(client._credentials), str(info.value), caplog.text]
    for text in texts:
        assert SECRET not in text
        assert KEY_ID not in text
    assert "waiting" in caplog.text  # the retry was logged, without the keys


def test_from_settings_needs_both_keys() -> None:
    from propdesk.marketdata.alpaca_http import AlpacaDataError
    from propdesk.settings import Settings

    with pytest.raises(AlpacaDataError, match="not configured"):
        AlpacaDataClient.from_settings(Settings(alpaca_api_key_id=None, alpaca_api_secret_key=None))
    settings = Settings(
        alpaca_api_key_id=KEY_ID, alpaca_api_secret_key=SECRET, alpaca_data_url="http://127.0.0.1:9"
    )
    with AlpacaDataClient.from_settings(settings) as client:
        assert client.name == "alpaca:iex"
        assert SECRET not in repr(settings)
