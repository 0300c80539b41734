"""/v2 assets and option contracts over plain HTTP, on SQLite and PostgreSQL.

The catalogue is what the store knows: asset flags, symbols with quotes or bars, the common crypto
pairs. Option contracts are the OCC symbols with stored prices.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from propdesk.api.alpaca.wire import asset_id
from propdesk.model.instruments import AssetClass
from propdesk.model.market import Bar, Quote
from propdesk.store.orders import AssetFlags
from propdesk.store.uow import UnitOfWork
from tests.api.alpaca.conftest import Paper

CALL = "AAPL260220C00150000"
PUT = "AAPL260220P00140000"
EXPIRED = "AAPL260102C00150000"
SPXW = "SPXW260320P05000000"


def seed(paper: Paper) -> None:
    """Flags for two names, quotes for a stock, an index and option contracts, a bar for one more."""
    with UnitOfWork(paper.ctx.engine) as uow:
        now = paper.clock()
        uow.orders.put_asset(
            AssetFlags("GME", AssetClass.US_EQUITY, shortable=False, name="GameStop Corp.", exchange="NYSE"),
            now,
        )
        uow.orders.put_asset(
            AssetFlags("TSLA", AssetClass.US_EQUITY, name="Tesla, Inc.", exchange="IEX"), now
        )
        for symbol, bid, ask, last in (
            ("AAPL", "187.10", "187.12", None),
            ("SPX", "5100", "5100", None),
            (CALL, "40.00", "40.50", "40.10"),
            (PUT, "2.00", "2.10", None),
            (EXPIRED, "37.00", "37.20", None),
            (SPXW, "30.00", "31.00", None),
        ):
            uow.prices.write_quote(
                Quote(symbol, now, Decimal(bid), Decimal(ask), None if last is None else Decimal(last)),
                source="test",
            )
        day = datetime(2026, 1, 6, 5, 0, tzinfo=UTC)
        bar = Bar(
            "NVDA", "1Day", day, open=Decimal(180), high=Decimal(185), low=Decimal(179), close=Decimal(184)
        )
        uow.prices.insert_bars([bar])
        uow.commit()


def test_assets_list_what_the_store_knows_in_alpacas_shape(paper: Paper) -> None:
    seed(paper)
    with paper.http() as http:
        listed = http.get("/v2/assets")
    assert listed.status_code == 200
    by_symbol = {a["symbol"]: a for a in listed.json()}
    # Index values (SPX), option contracts and nothing-but-well-formed symbols are not assets.
    assert {"AAPL", "GME", "TSLA", "NVDA", "BTC/USD", "ETH/USD"} <= set(by_symbol)
    assert not {"SPX", CALL, "SPXW"} & set(by_symbol)
    assert by_symbol["AAPL"] == {
        "id": asset_id("AAPL"),
        "class": "us_equity",
        "exchange": "NASDAQ",
        "symbol": "AAPL",
        "name": "AAPL",
        "status": "active",
        "tradable": True,
        "marginable": True,
        "shortable": True,
        "easy_to_borrow": True,
        "fractionable": True,
        "attributes": ["has_options"],
        "maintenance_margin_requirement": "50",  # the paper preset's 2x leverage
        "margin_requirement_long": "50",
        "margin_requirement_short": "50",
        "min_order_size": None,
        "min_trade_increment": None,
        "price_increment": None,
        "cusip": None,
    }
    gme, tsla, btc = by_symbol["GME"], by_symbol["TSLA"], by_symbol["BTC/USD"]
    assert (gme["exchange"], gme["name"], gme["shortable"]) == ("NYSE", "GameStop Corp.", False)
    assert tsla["exchange"] == "NASDAQ"  # IEX is not an exchange alpaca-py knows
    assert btc == {
        **btc,
        "id": asset_id("BTC/USD"),
        "class": "crypto",
        "exchange": "CRYPTO",
        "name": "Bitcoin / US Dollar",
        "marginable": False,
        "shortable": False,
        "maintenance_margin_requirement": "100",
        "min_order_size": "0.000000001",
        "min_trade_increment": "0.000000001",
        "price_increment": "0.01",
    }


def test_asset_filters(paper: Paper) -> None:
    seed(paper)
    with paper.http() as http:

        def symbols(**params: str) -> list[str]:
            reply = http.get("/v2/assets", params=params)
            assert reply.status_code == 200, reply.text
            return [a["symbol"] for a in reply.json()]

        assert symbols(exchange="NYSE") == ["GME"]
        assert symbols(attributes="ipo,has_options") == ["AAPL"]
        assert symbols(status="inactive") == []
        assert symbols(asset_class="us_option") == []
        crypto = symbols(asset_class="crypto", status="active")
        assert "BTC/USD" in crypto
        assert "AAPL" not in crypto
        assert symbols(asset_class="us_equity") == ["AAPL", "GME", "NVDA", "TSLA"]
        bad = http.get("/v2/assets", params={"asset_class": "stocks"})
    assert (bad.status_code, bad.json()["code"]) == (422, 40010001)


def test_one_asset_by_symbol_pair_or_id_and_404_for_the_unknown(paper: Paper) -> None:
    seed(paper)
    with paper.http() as http:
        aapl = http.get("/v2/assets/AAPL").json()
        assert http.get("/v2/assets/aapl").json() == aapl
        assert http.get(f"/v2/assets/{asset_id('AAPL')}").json() == aapl
        pairs = [http.get(f"/v2/assets/{name}").json() for name in ("BTC/USD", "BTC%2FUSD", "BTCUSD")]
        assert all(p == pairs[0] for p in pairs)
        assert pairs[0]["symbol"] == "BTC/USD"
        assert http.get("/v2/assets/NVDA").json()["symbol"] == "NVDA"  # known from a bar
        for unknown in ("ZZZZ", CALL, "SPX", "FOO/USD", asset_id("ZZZZ"), "not a symbol"):
            reply = http.get(f"/v2/assets/{unknown}")
            assert reply.status_code == 404, unknown
            assert reply.json()["code"] == 40410000


def test_option_contracts_from_stored_prices(paper: Paper) -> None:
    seed(paper)
    with paper.http() as http:
        listed = http.get("/v2/options/contracts").json()
        call = http.get(f"/v2/options/contracts/{CALL}").json()
        by_id = http.get(f"/v2/options/contracts/{asset_id(CALL)}").json()
        spxw = http.get(f"/v2/options/contracts/{SPXW}").json()
        expired = http.get(f"/v2/options/contracts/{EXPIRED}").json()
        missing = http.get("/v2/options/contracts/AAPL260220C00999000")
        not_occ = http.get("/v2/options/contracts/AAPL")
    assert listed["next_page_token"] is None
    assert [c["symbol"] for c in listed["option_contracts"]] == [CALL, PUT, SPXW]  # expired: inactive
    assert (
        call
        == by_id
        == {
            "id": asset_id(CALL),
            "symbol": CALL,
            "name": "AAPL Feb 20 2026 150 Call",
            "status": "active",
            "tradable": True,
            "expiration_date": "2026-02-20",
            "root_symbol": "AAPL",
            "underlying_symbol": "AAPL",
            "underlying_asset_id": asset_id("AAPL"),
            "type": "call",
            "style": "american",
            "strike_price": "150",
            "multiplier": "100",
            "size": "100",
            "open_interest": None,
            "open_interest_date": None,
            "close_price": "40.1",  # the quote's last trade
            "close_price_date": "2026-01-07",
        }
    )
    assert (spxw["root_symbol"], spxw["underlying_symbol"], spxw["style"]) == ("SPXW", "SPX", "european")
    assert spxw["close_price"] == "30.5"  # no last trade: the mid
    assert (expired["status"], expired["tradable"]) == ("inactive", False)
    assert (missing.status_code, missing.json()["code"]) == (404, 40410000)
    assert not_occ.status_code == 404


def test_option_contract_filters_and_pages(paper: Paper) -> None:
    seed(paper)
    with paper.http() as http:

        def symbols(**params: str) -> list[str]:
            reply = http.get("/v2/options/contracts", params=params)
            assert reply.status_code == 200, reply.text
            return [c["symbol"] for c in reply.json()["option_contracts"]]

        assert symbols(underlying_symbols="AAPL") == [CALL, PUT]
        assert symbols(underlying_symbols="SPX,MSFT") == [SPXW]
        assert symbols(root_symbol="SPXW") == [SPXW]
        assert symbols(type="put") == [PUT, SPXW]
        assert symbols(style="european") == [SPXW]
        assert symbols(strike_price_gte="145", strike_price_lte="200.5") == [CALL]
        assert symbols(expiration_date="2026-02-20") == [CALL, PUT]
        assert symbols(expiration_date_gte="2026-03-01") == [SPXW]
        assert symbols(expiration_date_lte="2026-03-01", status="inactive") == [EXPIRED]
        pages, token = [], None
        while True:
            params = {"limit": "1", **({"page_token": token} if token else {})}
            page = http.get("/v2/options/contracts", params=params).json()
            pages += [c["symbol"] for c in page["option_contracts"]]
            token = page["next_page_token"]
            if token is None:
                break
        assert pages == [CALL, PUT, SPXW]
        for params in (
            {"limit": "0"},
            {"limit": "x"},
            {"type": "straddle"},
            {"expiration_date": "2026-13-01"},
        ):
            bad = http.get("/v2/options/contracts", params=params)
            assert (bad.status_code, bad.json()["code"]) == (422, 40010001), params


def test_a_contract_priced_only_by_a_daily_bar_shows_its_close(paper: Paper) -> None:
    barred = "AAPL260320C00200000"
    with UnitOfWork(paper.ctx.engine) as uow:
        older, newer = datetime(2026, 1, 5, 5, 0, tzinfo=UTC), datetime(2026, 1, 6, 5, 0, tzinfo=UTC)
        uow.prices.insert_bars(
            [
                Bar(barred, "1Day", older, Decimal(3), Decimal("3.2"), Decimal(3), Decimal("3.10")),
                Bar(barred, "1Day", newer, Decimal(3), Decimal(4), Decimal(3), Decimal("3.85")),
            ]
        )
        uow.commit()
    with paper.http() as http:
        contract = http.get(f"/v2/options/contracts/{barred}").json()
    assert (contract["close_price"], contract["close_price_date"]) == ("3.85", "2026-01-06")
